// `gca-sim sweep`: argument parsing and the order of run, submit and merge.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "gca/power/report.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/unique_token.hpp"
#include "gca/tb/sweep.hpp"
#include "gca/tb/sweep_file.hpp"
#include "gca/tb/sweep_folder.hpp"
#include "gca/tb/sweep_local.hpp"
#include "gca/tb/sweep_merge.hpp"
#include "gca/tb/sweep_slurm.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

// The command's options once checked.
struct Opts {
  std::string file, out;
  int jobs = 0;  // 0: default
  int shard = -1, shards = 0;
  bool merge = false, slurm = false, submit = true, quiet = false, progress = false;
};

int parse_int(const std::string& flag, const std::string& text, int lo, int hi) {
  errno = 0;
  char* end = nullptr;
  const long x = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || x < lo || x > hi)
    throw Error("", flag,
                "'" + text + "' is not an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
  return static_cast<int>(x);
}

void parse_shard(const std::string& text, int& shard, int& shards) {
  const auto slash = text.find('/');
  const std::string allowed = "'" + text + "' is not I/N with 0 <= I < N (e.g. 0/4)";
  if (slash == std::string::npos) throw Error("", "--shard", allowed);
  try {
    shards = parse_int("--shard", text.substr(slash + 1), 1, 1000000);
    shard = parse_int("--shard", text.substr(0, slash), 0, shards - 1);
  } catch (const Error&) {
    throw Error("", "--shard", allowed);
  }
}

// Checks the combination of options.
Opts check_args(const SweepArgs& args) {
  Opts a;
  a.file = args.file;
  a.out = args.common.out;
  a.jobs = args.jobs;
  if (!args.shard_text.empty()) parse_shard(args.shard_text, a.shard, a.shards);
  a.merge = args.merge;
  a.slurm = args.backend == "slurm";
  a.submit = !args.no_submit;
  a.quiet = args.common.quiet;
  a.progress = args.common.progress;
  if (a.slurm && a.shards > 0)
    throw Error("", "--shard", "not with --backend slurm (the job array makes the shards)");
  if (a.slurm && a.merge)
    throw Error("", "--merge", "not with --backend slurm (it merges when the job has ended)");
  if (!a.submit && !a.slurm) throw Error("", "--no-submit", "only with --backend slurm");
  return a;
}

// The command line's --set, --scenario-set, --seed and --no-plots join the sweep file's.
void apply_common(SweepFile& sweep, const CommonOptions& c) {
  auto add = [&](const std::string& kv, const char* flag) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw Error("", flag, "'" + kv + "' is not key=value");
    SweepValue v;
    v.key = kv.substr(0, eq);
    v.text = kv.substr(eq + 1);
    v.is_number = true;  // passed on as written
    sweep.fixed.push_back(v);
  };
  for (const auto& s : c.sets) add(s, "--set");
  for (const auto& s : c.scenario_sets) add(s, "--scenario-set");
  if (c.seed >= 0) sweep.seed = c.seed;
  if (c.no_plots) sweep.plots = false;
  if (c.tokens > 0)
    for (auto& p : sweep.points) p.tokens = c.tokens;
}

void prepare_out_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "points", ec);
  const fs::path probe = fs::path(dir) / (".gca-write-test-" + unique_token());
  FILE* f = ec ? nullptr : std::fopen(probe.c_str(), "w");
  if (!f) throw Error(dir, "--out", "cannot write to the output folder");
  std::fclose(f);
  fs::remove(probe, ec);
}

int report_merge(const MergeResult& m, bool quiet) {
  if (!quiet) {
    std::printf(
        "merged %d points into %s: %d ok, %d check failed, %d failed, %d missing; %d on "
        "the Pareto front\n%s\n",
        m.points, m.csv_path.c_str(), m.ok, m.check_failed, m.failed, m.missing, m.pareto,
        m.plots_message.c_str());
  }
  return m.ok == m.points ? 0 : 1;
}

int run_local(const SweepFile& sweep, const Opts& a, const std::string& exe,
              const std::string& out) {
  LocalRunOptions o;
  o.exe = exe;
  o.out_dir = out;
  o.quiet = a.quiet && !a.progress;
  o.jobs = a.jobs > 0 ? a.jobs : std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  const auto points =
      a.shards > 0 ? shard_points(sweep, a.shard, a.shards) : shard_points(sweep, 0, 1);
  const LocalRunResult r = run_points_local(sweep, points, o);
  if (r.interrupted) return 130;
  if (!a.quiet) {
    std::printf(
        "%s%s: %d points, %d run now, %d already complete; %d ok, %d check failed, %d "
        "failed\n",
        sweep.name.c_str(),
        a.shards > 0
            ? (" shard " + std::to_string(a.shard) + "/" + std::to_string(a.shards)).c_str()
            : "",
        r.selected, r.ran, r.already_done, r.ok, r.check_failed, r.failed);
  }
  return r.ok == r.selected ? 0 : 1;
}

SlurmJob slurm_job(const Opts& a, const std::string& exe, const std::string& out) {
  SlurmJob job;
  job.exe = exe;
  job.sweep_file = fs::absolute(a.file).lexically_normal().string();
  job.out_dir = out;
  job.work_dir = fs::current_path().string();
  job.max_running = a.jobs;
  return job;
}

int run_slurm(const SweepFile& sweep, const Opts& a, const std::string& exe, const std::string& out,
              SweepFolder& folder) {
  const std::string text = sbatch_script(sweep, slurm_job(a, exe, out));
  std::error_code ec;
  fs::create_directories(fs::path(out) / "slurm", ec);
  const std::string script = (fs::path(out) / "sweep.sbatch").string();
  power::write_file_atomic(script, text);
  if (!a.submit) {
    if (!a.quiet)
      std::printf(
          "wrote %s (%d array tasks); submit with `sbatch %s`, then merge with "
          "`gca-sim sweep %s --out %s --merge`\n",
          script.c_str(), slurm_shards(sweep), script.c_str(), a.file.c_str(), out.c_str());
    return 0;
  }
  std::string message;
  folder.share_with_shards();  // the job's tasks are shards of this folder
  const int code = submit_and_wait(script, out, message);
  folder.take_alone();
  if (code != 0)
    std::fprintf(stderr, "gca-sim: %s\n", message.c_str());
  else if (!a.quiet)
    std::printf("%s\n", message.c_str());
  if (code == 127) return 2;
  const int merged = report_merge(merge_sweep(sweep, out), a.quiet);
  return code == 0 ? merged : 1;
}

}  // namespace

int run_sweep_command(const SweepArgs& args, const std::string& self_exe) {
  const Opts a = check_args(args);
  SweepFile sweep = load_sweep(a.file);
  apply_common(sweep, args.common);
  // Absolute paths: a point's command (and so its resume check) is the same from any shard.
  const std::string out =
      fs::absolute(a.out.empty() ? "out/sweeps/" + sweep.name : a.out).lexically_normal().string();
  std::error_code ec;
  const std::string exe = fs::canonical(self_exe, ec).string();
  if (ec) throw Error(self_exe, "", "cannot locate the gca-sim binary: " + ec.message());
  if (a.slurm) sbatch_script(sweep, slurm_job(a, exe, out));        // refuses what it cannot quote
  SweepFolder folder(out, sweep, a.shard, a.slurm ? 0 : a.shards);  // checked and locked
  prepare_out_dir(out);
  if (a.slurm) return run_slurm(sweep, a, exe, out, folder);
  const bool run = !a.merge || a.shards > 0;
  int code = 0;
  if (run) code = run_local(sweep, a, exe, out);
  if (code == 130) return code;
  const bool merge = a.merge || a.shards == 0;
  if (merge) code = std::max(code, report_merge(merge_sweep(sweep, out), a.quiet));
  return code;
}

}  // namespace gca::tb
