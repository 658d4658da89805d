// The Slurm backend of gca-sim sweep: a job array (one task per shard, each task the resources
// of one point) whose tasks run `gca-sim sweep FILE --shard I/N --jobs 1`; submitted with
// `sbatch --wait`. The gca-sim binary, the sweep file and the output folder must be on a file
// system the compute nodes share.
#pragma once

#include <string>

#include "gca/tb/sweep_file.hpp"

namespace gca::tb {

struct SlurmJob {
  std::string exe;         // gca-sim, absolute
  std::string sweep_file;  // absolute
  std::string out_dir;     // absolute
  std::string work_dir;    // absolute: where the tasks start
  int max_running = 0;     // 0: no limit; else at most this many tasks at a time (%N)
};

// Shards of the array: one per point, at most 1000 (Slurm's default MaxArraySize is 1001).
int slurm_shards(const SweepFile& sweep);

// The text of DIR/sweep.sbatch.
std::string sbatch_script(const SweepFile& sweep, const SlurmJob& job);

// Runs `sbatch --wait SCRIPT` (output in out_dir/slurm/sbatch.log); returns its exit status
// and what happened in `message`.
int submit_and_wait(const std::string& script_path, const std::string& out_dir,
                    std::string& message);

}  // namespace gca::tb
