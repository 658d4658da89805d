#include "gca/tb/temp_owner.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "gca/spec/error.hpp"
#include "gca/spec/unique_token.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kTokenLength = 16;
const char* kLockSuffix = ".lock";

bool try_lock(int fd) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

bool is_token(const std::string& s) {
  if (s.size() != kTokenLength) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool same_file(int fd, const std::string& path) {
  struct stat by_fd {
  }, by_name{};
  return ::fstat(fd, &by_fd) == 0 && ::lstat(path.c_str(), &by_name) == 0 &&
         by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino;
}

}  // namespace

TempOwner::TempOwner(const std::string& dir, const std::string& stem, const std::string& flag)
    : dir_(dir), stem_(stem) {
  // A cleaner may take and remove a lock file between its creation and our flock: then the
  // name no longer leads to the file we hold, and we start again with a new token.
  for (int attempt = 0; attempt < 100; ++attempt) {
    token_ = unique_token();
    lock_path_ = (fs::path(dir_) / (stem_ + token_ + kLockSuffix)).string();
    fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) {
      if (errno == EEXIST) continue;
      throw Error(dir_, flag,
                  "cannot write to the output folder: cannot create a file beside it: " +
                      std::string(std::strerror(errno)));
    }
    if (try_lock(fd_) && same_file(fd_, lock_path_)) return;
    ::close(fd_);
    fd_ = -1;
  }
  throw Error(dir_, flag, "cannot take a lock beside the output folder (flock refused)");
}

std::string TempOwner::path(const std::string& suffix) const {
  return (fs::path(dir_) / (stem_ + token_ + suffix)).string();
}

void TempOwner::release() noexcept {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while still held: no cleaner can take it meanwhile
  ::close(fd_);
  fd_ = -1;
}

void remove_stale_temporaries(const std::string& dir, const std::string& stem,
                              const std::vector<std::string>& suffixes) {
  std::set<std::string> tokens;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < stem.size() + kTokenLength || name.compare(0, stem.size(), stem) != 0)
      continue;
    const std::string token = name.substr(stem.size(), kTokenLength);
    const std::string rest = name.substr(stem.size() + kTokenLength);
    if (!is_token(token)) continue;
    bool ours = rest == kLockSuffix;
    for (const auto& s : suffixes) ours = ours || rest == s;
    if (ours) tokens.insert(token);
  }
  for (const auto& token : tokens) {
    const std::string lock = (fs::path(dir) / (stem + token + kLockSuffix)).string();
    const int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    // No lock file: its owner has removed it after its temporaries (or never made them).
    if (fd >= 0 && !try_lock(fd)) {
      ::close(fd);  // a live owner holds it
      continue;
    }
    for (const auto& s : suffixes) {
      std::error_code ignored;
      fs::remove_all(fs::path(dir) / (stem + token + s), ignored);
    }
    if (fd >= 0) {
      if (same_file(fd, lock)) ::unlink(lock.c_str());
      ::close(fd);
    }
  }
}

}  // namespace gca::tb
