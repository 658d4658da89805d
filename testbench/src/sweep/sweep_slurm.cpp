#include "gca/tb/sweep_slurm.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string tail(const fs::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += (out.empty() ? "" : " | ") + all[i];
  return out;
}

}  // namespace

int slurm_shards(const SweepFile& sweep) {
  return static_cast<int>(std::min<std::size_t>(sweep.points.size(), 1000));
}

std::string sbatch_script(const SweepFile& sweep, const SlurmJob& job) {
  const int shards = slurm_shards(sweep);
  const SlurmSettings& s = sweep.slurm;
  std::ostringstream o;
  o << "#!/bin/bash\n"
    << "# gca-sim sweep " << sweep.name << ": " << sweep.points.size() << " points in " << shards
    << " array tasks; task I runs shard I/" << shards << " of the sweep's points, one at a time.\n"
    << "# Submit: sbatch --wait " << (fs::path(job.out_dir) / "sweep.sbatch").string() << "\n"
    << "# then merge: " << job.exe << " sweep " << job.sweep_file << " --out " << job.out_dir
    << " --merge\n"
    << "#SBATCH --job-name=gca-sweep-" << sweep.name << "\n"
    << "#SBATCH --array=0-" << shards - 1;
  if (job.max_running > 0) o << "%" << job.max_running;
  o << "\n#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << s.cpus_per_point << "\n";
  if (s.mem_mb > 0) o << "#SBATCH --mem=" << s.mem_mb << "M\n";
  if (!s.time.empty()) o << "#SBATCH --time=" << s.time << "\n";
  if (!s.partition.empty()) o << "#SBATCH --partition=" << s.partition << "\n";
  if (!s.account.empty()) o << "#SBATCH --account=" << s.account << "\n";
  o << "#SBATCH --chdir=" << job.work_dir << "\n"
    << "#SBATCH --output=" << (fs::path(job.out_dir) / "slurm" / "task_%a.log").string() << "\n"
    << "set -eu\n"
    << "export GCA_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n"
    << "exec " << shell_quote(job.exe) << " sweep " << shell_quote(job.sweep_file) << " --out "
    << shell_quote(job.out_dir) << " --shard \"${SLURM_ARRAY_TASK_ID}/" << shards
    << "\" --jobs 1\n";
  return o.str();
}

int submit_and_wait(const std::string& script_path, const std::string& out_dir,
                    std::string& message) {
  const fs::path log = fs::path(out_dir) / "slurm" / "sbatch.log";
  if (std::system("command -v sbatch > /dev/null 2>&1") != 0) {
    message = "sbatch not found on PATH (is this a Slurm submit host?); submit " + script_path +
              " yourself, then run the same sweep with --merge";
    return 127;
  }
  const std::string cmd =
      "sbatch --wait " + shell_quote(script_path) + " > " + shell_quote(log.string()) + " 2>&1";
  const int status = std::system(cmd.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  message = "sbatch exit status " + std::to_string(code) + ": " + tail(log, 3);
  return code;
}

}  // namespace gca::tb
