// The local backend of gca-sim sweep: runs points as child processes of the gca-sim binary,
// `jobs` at a time, skipping complete points, recording failed ones, with a progress line.
#pragma once

#include <string>
#include <vector>

#include "gca/tb/sweep_file.hpp"

namespace gca::tb {

struct LocalRunOptions {
  std::string exe;      // gca-sim
  std::string out_dir;  // absolute; points go to out_dir/points/<id>/
  int jobs = 1;
  bool quiet = false;
};

struct LocalRunResult {
  int selected = 0;      // points of this run (all, or one shard's)
  int already_done = 0;  // complete before this run (resumed)
  int ran = 0;           // run now
  int ok = 0;            // complete and their check passed (this run and before)
  int check_failed = 0;
  int failed = 0;
  bool interrupted = false;  // SIGINT/SIGTERM: running points were stopped
};

LocalRunResult run_points_local(const SweepFile& sweep,
                                const std::vector<const SweepPoint*>& points,
                                const LocalRunOptions& options);

}  // namespace gca::tb
