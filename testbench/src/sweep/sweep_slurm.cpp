#include "gca/tb/sweep_slurm.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gca/spec/child_process.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

// What may stand in an #SBATCH line: sbatch splits those lines itself (no shell quoting), so
// only words of these characters go there; paths go into the script's body, shell-quoted.
bool sbatch_safe(const std::string& s) {
  return !s.empty() && s.find_first_not_of(
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789_.,:+=@-") == std::string::npos;
}

std::string sbatch_word(const std::string& s, const std::string& what) {
  if (!sbatch_safe(s))
    throw Error("", what,
                "'" + one_line_text(s, 60) +
                    "' cannot stand in an #SBATCH line (allowed: letters, digits and _ . , : + = "
                    "@ -)");
  return s;
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
  // Every user path is one shell word of the body (control characters refused: a line break
  // would start a command of its own, even in a comment).
  const std::string exe = shell_word(job.exe, "gca-sim binary");
  const std::string file = shell_word(job.sweep_file, "sweep file");
  const std::string out = shell_word(job.out_dir, "--out");
  const std::string work = shell_word(job.work_dir, "working folder");
  const std::string logs =
      shell_word((fs::path(job.out_dir) / "slurm").string() + "/task_", "--out");
  std::ostringstream o;
  o << "#!/bin/bash\n"
    << "# gca-sim sweep " << sbatch_word(sweep.name, "name") << ": " << sweep.points.size()
    << " points in " << shards << " array tasks; task I runs shard I/" << shards
    << " of the sweep's points, one at a time.\n"
    << "# Submit with sbatch --wait, then merge with gca-sim sweep (same file, same --out) "
       "--merge.\n"
    << "#SBATCH --job-name=gca-sweep-" << sweep.name << "\n"
    << "#SBATCH --array=0-" << shards - 1;
  if (job.max_running > 0) o << "%" << job.max_running;
  o << "\n#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << s.cpus_per_point << "\n";
  if (s.mem_mb > 0) o << "#SBATCH --mem=" << s.mem_mb << "M\n";
  if (!s.time.empty()) o << "#SBATCH --time=" << sbatch_word(s.time, "slurm.time") << "\n";
  if (!s.partition.empty())
    o << "#SBATCH --partition=" << sbatch_word(s.partition, "slurm.partition") << "\n";
  if (!s.account.empty())
    o << "#SBATCH --account=" << sbatch_word(s.account, "slurm.account") << "\n";
  // Slurm's own output file would need the path in an #SBATCH line: the body redirects instead.
  o << "#SBATCH --output=/dev/null\n"
    << "set -eu\n"
    << "exec > " << logs << "\"${SLURM_ARRAY_TASK_ID}.log\" 2>&1\n"
    << "cd -- " << work << "\n"
    << "export GCA_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n"
    << "exec " << exe << " sweep " << file << " --out " << out
    << " --shard \"${SLURM_ARRAY_TASK_ID}/" << shards << "\" --jobs 1\n";
  return o.str();
}

int submit_and_wait(const std::string& script_path, const std::string& out_dir,
                    std::string& message) {
  const fs::path log = fs::path(out_dir) / "slurm" / "sbatch.log";
  if (!on_path("sbatch")) {
    message = "sbatch not found on PATH (is this a Slurm submit host?); submit " + script_path +
              " yourself, then run the same sweep with --merge";
    return 127;
  }
  // No shell: the script's path is one argument of sbatch.
  const ChildRun run = run_program({"sbatch", "--wait", script_path}, "", log.string());
  const int code = run.started ? run.exit_code : 127;
  message = "sbatch exit status " + std::to_string(code) + ": " +
            (run.started ? tail(log, 3) : run.error);
  return code;
}

}  // namespace gca::tb
