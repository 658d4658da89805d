// gca-sim: the command line of GCA-TLM.
//   gca-sim run SCENARIO.json [--tokens N] [--out DIR] [--vcd FILE] [--set key=value ...]
//                             [--seed S] [--quiet]
//   gca-sim head --q Q.npy --k K.npy --v V.npy --out DIR [--spec FILE] [--set key=value ...]
//                [--dump-scores]
//   gca-sim spec [--spec FILE] [--set key=value ...]
//   gca-sim sweep SWEEP.json [--jobs N] [--out DIR] [--shard I/N] [--merge] [--backend local|slurm]
//   gca-sim mc SCENARIO.json --chips N [--jobs J] [--seed S] [--tokens N] [--top-k K]
//              [--out DIR] [--set key=value ...] [--no-plots]

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <systemc>

#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/monte_carlo.hpp"
#include "gca/tb/output_set.hpp"
#include "gca/tb/run_limits.hpp"
#include "gca/tb/scenario.hpp"
#include "gca/tb/simulation.hpp"
#include "gca/tb/sweep.hpp"

namespace {

using gca::Error;

const char* kUsage =
    "usage: gca-sim <command> [options]\n"
    "commands:\n"
    "  run SCENARIO.json   simulate a scenario (testbench/scenarios/*.json) and write reports\n"
    "  head                run one SystemC head over Q, K, V from .npy files\n"
    "  spec                print the resolved hardware parameters with units and sources\n"
    "  sweep SWEEP.json    run a design-space sweep (testbench/sweeps/*.json), one run per point\n"
    "  mc SCENARIO.json    Monte Carlo over chips with device variation and noise\n"
    "`gca-sim <command> --help` describes each. Exit codes: 0 ok, 1 check failed (outputs differ\n"
    "from the oracle beyond its allowance, or from expected data), 2 bad input (usage, parameters, "
    "scenario, data),\n"
    "3 simulation error, 130/143 interrupted by SIGINT/SIGTERM (nothing published).\n";

const char* kRunUsage =
    "usage: gca-sim run SCENARIO.json [--tokens N] [--out DIR] [--vcd FILE] [--set key=value ...]\n"
    "                                 [--scenario-set key=value ...] [--seed S] [--quiet]\n"
    "  --tokens N      tokens to generate (overrides workload.tokens; N >= 1)\n"
    "  --out DIR       output folder for report.json, modules.csv, plots (default "
    "out/<scenario>);\n"
    "                  replaced as a whole when the run completes, untouched when it fails\n"
    "  --vcd FILE      write a VCD trace of what the scenario's \"trace\" section selects\n"
    "  --set key=value override a hardware parameter (see `gca-sim spec`); repeatable\n"
    "  --scenario-set key=value  override a key of the scenario file before it is validated\n"
    "                  (e.g. workload.host_ns_per_layer=1000, stimulus.seed=7); repeatable\n"
    "  --seed S        seed of the uniform stimulus (overrides stimulus.seed), of the chip's\n"
    "                  mismatch (variation.chip_seed) and of the noise (noise.seed); the three\n"
    "                  are separate streams (docs/variation.md)\n"
    "  --quiet         no progress line on stderr\n";

const char* kHeadUsage =
    "usage: gca-sim head --q Q.npy --k K.npy --v V.npy --out DIR [--spec FILE] [--set key=value "
    "...]\n"
    "                    [--dump-scores] [--seed S]\n"
    "  Q, K, V: [T, d_head] float32/float64, one row per token, values as the hardware sees them\n"
    "  (Q in [0, 1] of T_max, K and V in volts [0, 0.9]). Token t writes k_t and v_t, then reads\n"
    "  with q_t. Writes DIR/out.npy [T, d]; with --dump-scores also DIR/scores.npy and\n"
    "  DIR/phi.npy [T, window], column a = key written a tokens earlier (0 before token 0).\n"
    "  --seed S seeds the chip's mismatch and the noise (variation.chip_seed, noise.seed).\n";

const char* kMcUsage =
    "usage: gca-sim mc SCENARIO.json --chips N [--jobs J] [--seed S] [--tokens N] [--top-k K]\n"
    "                  [--out DIR] [--set key=value ...] [--no-plots]\n"
    "  Runs N chips (chip c: variation.chip_seed = noise.seed = S + c, default S = 1) on the\n"
    "  scenario's inputs with the executable spec, in-process, and compares each with the ideal\n"
    "  circuits (all variation and noise at zero): relative L2 error of the head outputs and per\n"
    "  sub-tile, share of outputs moved by one counter level or more, top-K overlap of the\n"
    "  Phi(S) ranking (default K 16); mean, std, min, max over chips. Writes DIR/mc.json,\n"
    "  mc_chips.csv, mc_error_hist.dat and mc_error.png (default DIR out/<scenario>_mc).\n"
    "  Turn non-idealities on with --set, e.g. --set variation.cell_gain_sigma=0.05.\n";

const char* kSpecUsage =
    "usage: gca-sim spec [--spec FILE] [--set key=value ...]\n"
    "  Validates the parameter file (default rtl_spec/params/gpt2.json) with the overrides and\n"
    "  prints every parameter with its value, unit, source and the file that set it.\n";

struct Args {
  std::vector<std::string> v;
  std::size_t i = 0;
  bool more() const { return i < v.size(); }
  std::string next(const std::string& flag) {
    if (i >= v.size()) throw Error("", flag, "needs a value");
    return v[i++];
  }
};

long parse_long(const std::string& flag, const std::string& text, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  long x = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || x < lo || x > hi) {
    throw Error("", flag,
                "'" + text + "' is not an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
  }
  return x;
}

int cmd_spec(Args& a) {
  std::string path = gca::spec::default_spec_path();
  std::vector<std::string> sets;
  while (a.more()) {
    std::string f = a.next("");
    if (f == "--help" || f == "-h") {
      std::printf("%s", kSpecUsage);
      return 0;
    } else if (f == "--spec") {
      path = a.next(f);
    } else if (f == "--set") {
      sets.push_back(a.next(f));
    } else {
      throw Error("", f, "unknown option of `gca-sim spec` (see --help)");
    }
  }
  auto s = gca::spec::load_spec(path, sets);
  std::printf("# %s\n# %s\n", path.c_str(), s.description.c_str());
  std::printf("%-30s %14s  %-16s %s\n", "key", "value", "unit", "source [file]");
  for (const auto& p : gca::spec::param_catalog()) {
    const auto& m = s.meta.at(p.key);
    const double value = gca::spec::get_param(s, p.key);
    char shown[32];
    if (!p.choices.empty()) {  // a named choice: its name, not its index
      std::snprintf(shown, sizeof shown, "%s", p.choices[static_cast<std::size_t>(value)].c_str());
    } else {
      std::snprintf(shown, sizeof shown, "%.10g", value);
    }
    std::printf("%-30s %14s  %-16s %s [%s]\n", p.key.c_str(), shown, m.unit.c_str(),
                m.source.c_str(), std::filesystem::path(m.file).filename().c_str());
  }
  const gca::spec::TimingParams& t = s.timing;
  std::printf(
      "# phases in force (ns): precharge+write %.4g, Q %.4g, phi %.4g, count %.4g, digital %.4g\n",
      t.precharge_write_ns(), t.phase_q_ns, t.phase_phi_ns, t.phase_count_ns, t.phase_digital_ns);
  std::printf("# derived: %d sub-tiles per head, %.4g ns per token per layer\n",
              s.subtiles_per_head(), t.token_latency_ns());
  return 0;
}

int cmd_run(Args& a) {
  std::string scenario_path, out, vcd;
  bool out_given = false;
  long tokens = -1;
  long seed = -1;
  bool quiet = false;
  std::vector<std::string> sets, scenario_sets;
  while (a.more()) {
    std::string f = a.next("");
    if (f == "--help" || f == "-h") {
      std::printf("%s", kRunUsage);
      return 0;
    } else if (f == "--tokens") {
      tokens = parse_long(f, a.next(f), 1, 100000000);
    } else if (f == "--out") {
      out = a.next(f);
      out_given = true;
    } else if (f == "--vcd") {
      vcd = a.next(f);
    } else if (f == "--set") {
      sets.push_back(a.next(f));
    } else if (f == "--scenario-set") {
      scenario_sets.push_back(a.next(f));
    } else if (f == "--seed") {
      seed = parse_long(f, a.next(f), 0, 2147483647L);
    } else if (f == "--quiet") {
      quiet = true;
    } else if (!f.empty() && f[0] == '-') {
      throw Error("", f, "unknown option of `gca-sim run` (see --help)");
    } else if (scenario_path.empty()) {
      scenario_path = f;
    } else {
      throw Error("", f, "only one scenario file per run");
    }
  }
  if (scenario_path.empty())
    throw Error("", "SCENARIO.json", "missing (usage: gca-sim run SCENARIO.json ...)");
  gca::tb::Scenario sc = gca::tb::load_scenario(scenario_path, scenario_sets);
  if (tokens > 0) sc.host.tokens = tokens;
  if (seed >= 0) {
    sc.stimulus.seed = static_cast<std::uint64_t>(seed);
    sc.overrides.push_back("variation.chip_seed=" + std::to_string(seed));
    sc.overrides.push_back("noise.seed=" + std::to_string(seed));
  }
  for (auto& s : sets) sc.overrides.push_back(s);
  gca::tb::RunOptions opt;
  if (out_given && out.empty()) throw Error("", "--out", "empty (allowed: a folder path)");
  if (vcd.empty() && std::find(a.v.begin(), a.v.end(), "--vcd") != a.v.end())
    throw Error("", "--vcd", "empty (allowed: a file path)");
  opt.out_dir = out_given ? out : "out/" + sc.name;
  opt.vcd_path = vcd;
  opt.quiet = quiet;
  return gca::tb::run_scenario(sc, opt);
}

int cmd_head(Args& a) {
  gca::tb::HeadRunOptions o;
  o.spec_path = gca::spec::default_spec_path();
  while (a.more()) {
    std::string f = a.next("");
    if (f == "--help" || f == "-h") {
      std::printf("%s", kHeadUsage);
      return 0;
    } else if (f == "--q") {
      o.q_path = a.next(f);
    } else if (f == "--k") {
      o.k_path = a.next(f);
    } else if (f == "--v") {
      o.v_path = a.next(f);
    } else if (f == "--out") {
      o.out_dir = a.next(f);
    } else if (f == "--spec") {
      o.spec_path = a.next(f);
    } else if (f == "--set") {
      o.overrides.push_back(a.next(f));
    } else if (f == "--dump-scores") {
      o.dump_scores = true;
    } else if (f == "--seed") {
      const long seed = parse_long(f, a.next(f), 0, 2147483647L);
      o.overrides.insert(o.overrides.begin(), {"variation.chip_seed=" + std::to_string(seed),
                                               "noise.seed=" + std::to_string(seed)});
    } else {
      throw Error("", f, "unknown option of `gca-sim head` (see --help)");
    }
  }
  for (auto [flag, value] : {std::pair{"--q", &o.q_path},
                             {"--k", &o.k_path},
                             {"--v", &o.v_path},
                             {"--out", &o.out_dir}}) {
    if (value->empty()) throw Error("", flag, "missing (see gca-sim head --help)");
  }
  return gca::tb::run_head(o);
}

int cmd_mc(Args& a) {
  gca::tb::MonteCarloOptions o;
  bool chips_given = false;
  while (a.more()) {
    std::string f = a.next("");
    if (f == "--help" || f == "-h") {
      std::printf("%s", kMcUsage);
      return 0;
    } else if (f == "--chips") {
      o.chips = static_cast<int>(parse_long(f, a.next(f), 1, 100000));
      chips_given = true;
    } else if (f == "--jobs") {
      o.jobs = static_cast<int>(parse_long(f, a.next(f), 1, 256));
    } else if (f == "--seed") {
      o.first_seed = parse_long(f, a.next(f), 0, 2147483647L);
    } else if (f == "--tokens") {
      o.tokens = parse_long(f, a.next(f), 1, 100000000);
    } else if (f == "--top-k") {
      o.top_k = static_cast<int>(parse_long(f, a.next(f), 1, 1 << 20));
    } else if (f == "--out") {
      o.out_dir = a.next(f);
    } else if (f == "--set") {
      o.overrides.push_back(a.next(f));
    } else if (f == "--no-plots") {
      o.plots = false;
    } else if (!f.empty() && f[0] == '-') {
      throw Error("", f, "unknown option of `gca-sim mc` (see --help)");
    } else if (o.scenario_path.empty()) {
      o.scenario_path = f;
    } else {
      throw Error("", f, "only one scenario file per Monte Carlo run");
    }
  }
  if (o.scenario_path.empty())
    throw Error("", "SCENARIO.json", "missing (usage: gca-sim mc SCENARIO.json --chips N)");
  if (!chips_given)
    throw Error("", "--chips", "missing (usage: gca-sim mc SCENARIO.json --chips N)");
  return gca::tb::run_monte_carlo(o);
}

int cmd_sweep(Args& a) {
  return gca::tb::run_sweep_command({a.v.begin() + a.i, a.v.end()}, "/proc/self/exe");
}

// The subcommands: adding one is a function above and a line here.
struct Command {
  const char* name;
  int (*run)(Args&);
};
const Command kCommands[] = {
    {"run", cmd_run}, {"head", cmd_head}, {"spec", cmd_spec}, {"sweep", cmd_sweep}, {"mc", cmd_mc},
};

// One line whatever the message holds: control and non-UTF-8 bytes escaped, length bounded.
void print_error_line(const std::string& message) {
  std::fprintf(
      stderr, "gca-sim: %s\n",
      gca::one_line_text(gca::tb::with_output_paths(message), gca::limits::kMaxErrorLineBytes)
          .c_str());
}

}  // namespace

int sc_main(int argc, char** argv) {
  // The kernel's informational notes ("stopped by user", trace time unit) stay off stdout;
  // warnings and errors still show.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  Args a;
  for (int i = 1; i < argc; ++i) a.v.push_back(argv[i]);
  try {
    if (!a.more() || a.v[0] == "--help" || a.v[0] == "-h") {
      std::printf("%s", kUsage);
      return a.more() ? 0 : gca::tb::kExitBadInput;
    }
    gca::tb::check_thread_env();
    const std::string cmd = a.next("");
    for (const Command& c : kCommands) {
      if (cmd == c.name) return c.run(a);
    }
    std::string names;
    for (const Command& c : kCommands) names += (names.empty() ? "" : ", ") + std::string(c.name);
    throw Error("", cmd, "unknown command (allowed: " + names + ")");
  } catch (const std::bad_alloc&) {
    print_error_line(
        "out of memory (allowed: a smaller window, model.n_layers, model.n_heads or fewer tokens)");
    return gca::tb::kExitBadInput;
  } catch (const Error& e) {
    // The path shortened first: the reason at the end of the line stays whole.
    print_error_line(gca::error_line_text(e, gca::limits::kMaxErrorLineBytes));
    return gca::tb::kExitBadInput;
  } catch (const std::exception& e) {
    print_error_line(e.what());
    return gca::tb::kExitBadInput;
  }
}

// Our own entry point (the executable's main takes precedence over libsystemc's): silence the
// SystemC banner, which the kernel prints before sc_main runs, then start as libsystemc would.
int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  gca::tb::install_signal_cleanup();  // before any thread exists
  return sc_core::sc_elab_and_sim(argc, argv);
}
