// Temporaries owned through a lock, not through a process id. Each owner picks a random token
// and holds an exclusive flock on DIR/<stem><token>.lock while its temporaries
// DIR/<stem><token><suffix> exist: it creates the lock before them and removes them before the
// lock. A temporary is stale when its lock can be taken (its owner has ended, whatever its PID
// namespace or node) or when its lock is gone.
#pragma once

#include <string>
#include <vector>

namespace gca::tb {

class TempOwner {
 public:
  // Creates and locks DIR/<stem><token>.lock with a fresh token. Throws gca::Error (key `flag`)
  // when the folder does not take the file.
  TempOwner(const std::string& dir, const std::string& stem, const std::string& flag);
  ~TempOwner() { release(); }
  TempOwner(const TempOwner&) = delete;
  TempOwner& operator=(const TempOwner&) = delete;

  const std::string& token() const { return token_; }
  // DIR/<stem><token><suffix>: the name of one of the owner's temporaries.
  std::string path(const std::string& suffix) const;
  // Removes the lock file and lets it go (the temporaries must be gone). Safe to call twice;
  // async-signal-safe apart from the path it was given.
  void release() noexcept;

 private:
  std::string dir_, stem_, token_, lock_path_;
  int fd_ = -1;
};

// Removes in `dir` the temporaries <stem><token><suffix> (any of `suffixes`; a token is 16
// hexadecimal digits) and the lock files of tokens whose lock no live process holds.
void remove_stale_temporaries(const std::string& dir, const std::string& stem,
                              const std::vector<std::string>& suffixes);

}  // namespace gca::tb
