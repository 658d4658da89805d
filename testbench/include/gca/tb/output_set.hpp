// The files of one run are published as a set: they are written into a staging folder beside
// the output folder, and the staging folder replaces the output folder (one atomic exchange)
// only when every file is complete. A failed or interrupted run leaves the previous results
// untouched and no temporary files; temporaries of killed runs are removed by the next run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gca/tb/temp_owner.hpp"

namespace gca::tb {

// Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT in every thread and handles them on a thread of its
// own: the temporaries of the open output sets are removed, one line is printed, and the
// process exits with 128 + the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT). Call
// once, first thing in main (before any thread).
void install_signal_cleanup();

class OutputSet {
 public:
  // Checks the output folder (a folder, holding only files gca-sim writes: a run replaces it as
  // a whole), removes stale temporaries of killed runs beside it, creates the staging folder.
  // Throws gca::Error naming `--out` and what is allowed.
  explicit OutputSet(const std::string& out_dir);
  ~OutputSet();  // unless committed: every temporary is removed
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // Where to write the output `name` (a plain file name) of this set.
  std::string path(const std::string& name) const;
  const std::string& staging_dir() const { return staging_; }
  const std::string& out_dir() const { return final_; }

  // A file the user named (the --vcd trace): inside the output folder it joins the set; elsewhere
  // it is written under a temporary name beside its final place and renamed at commit. Returns
  // the path to write. `flag` names the option in messages. Throws gca::Error when the path is a
  // folder or collides with an output of the set.
  std::string stage_file(const std::string& final_path, const std::string& flag);

  // Publishes the set; throws gca::Error (and leaves the previous results) when it cannot.
  void commit();

  // Removes every temporary of an unpublished set (the signal thread calls it).
  void abandon() noexcept;

 private:
  std::string aside_path() const;  // .<name>.gca-<token>.old: old results stepping aside
  std::string final_;              // the output folder, as given
  // The temporaries beside the output folder carry a random token and are owned through a
  // lock (temp_owner.hpp): .<name>.gca-<token>.partial (the staging folder), .lock, .old.
  std::unique_ptr<TempOwner> owner_;
  std::string staging_;
  std::vector<std::pair<std::string, std::string>> outside_;  // temporary -> final path
  std::vector<std::unique_ptr<TempOwner>> trace_owners_;      // of temporaries outside
  bool committed_ = false;
};

// `text` with the staging folders of this process replaced by their output folders (for
// messages: the user knows the output folder).
std::string with_output_paths(std::string text);

// Names of the files gca-sim writes into an output folder (an existing folder may hold only
// these, and *.vcd traces).
bool is_output_file_name(const std::string& name);

}  // namespace gca::tb
