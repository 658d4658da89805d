// The output folder of a sweep: it holds only what gca-sim sweep writes (a folder holding
// anything else, or one that cannot be listed, is refused before anything in it is touched),
// and it is locked while a driver works in it (flock on DIR/.gca-sweep.lock, which also works
// across the nodes of a cluster on NFS): a whole-sweep driver (local run, merge, Slurm
// submission) holds it alone; shard runs (--shard I/N, the tasks of a Slurm job array) share it
// with one another and with a Slurm driver waiting for its job, and each shard I/N is held by
// one process at a time (DIR/.gca-sweep.shard-I-N.lock). The lock files stay: removing a lock
// file another process holds would let a third take a lock of its own.
#pragma once

#include <string>

#include "gca/tb/sweep_file.hpp"

namespace gca::tb {

class SweepFolder {
 public:
  // Checks the folder `dir` (absolute) for `sweep`, creates it (and DIR/points), takes the lock
  // (a shard's when shards > 0, else the whole-sweep lock). Throws gca::Error naming --out
  // and the reason when the folder holds other files, cannot be checked or is locked.
  SweepFolder(const std::string& dir, const SweepFile& sweep, int shard, int shards);
  ~SweepFolder();  // releases the locks
  SweepFolder(const SweepFolder&) = delete;
  SweepFolder& operator=(const SweepFolder&) = delete;

  // A whole-sweep driver whose work now runs in shards elsewhere (sbatch --wait): keeps out
  // other drivers, lets the shards in.
  void share_with_shards();
  // Back to holding the folder alone (to merge); throws gca::Error when a shard still runs.
  void take_alone();

 private:
  std::string dir_;
  int folder_fd_ = -1;
  int shard_fd_ = -1;
};

// Throws gca::Error naming --out when `dir` holds an entry gca-sim sweep does not write or
// cannot be listed (a missing folder passes).
void check_sweep_folder_contents(const std::string& dir, const SweepFile& sweep);

}  // namespace gca::tb
