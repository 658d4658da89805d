// gca-sim: the command line of GCA-TLM. Each command is a thin front end over the experiment
// engine (gca/tb/engine/experiment.hpp) or the sweep driver; the options they share are
// declared once (gca/tb/cli.hpp). `gca-sim <command> --help` lists a command's options.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <systemc>

#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/cli.hpp"
#include "gca/tb/engine/experiment.hpp"
#include "gca/tb/engine/head_command.hpp"
#include "gca/tb/lm_run.hpp"
#include "gca/tb/output_set.hpp"
#include "gca/tb/run_limits.hpp"
#include "gca/tb/sweep.hpp"

namespace {

using gca::Error;
namespace tb = gca::tb;

const char* kFooter =
    "Exit codes: 0 ok, 1 check failed (outputs differ from the oracle beyond its allowance, or\n"
    "from expected data; for sweeps: a point failed), 2 bad input (usage, parameters, scenario,\n"
    "data), 3 simulation error, 130/143 interrupted by SIGINT/SIGTERM (nothing published).";

const char* kSeedOfRun =
    "seed of the uniform stimulus (stimulus.seed), of the chip's mismatch (variation.chip_seed) "
    "and of the noise (noise.seed); three separate streams (docs/variation.md)";

void print_sim_error(const std::string& what) {
  std::fprintf(stderr, "gca-sim: simulation error: %s\n", what.c_str());
}

// gca-sim run
struct RunCommand {
  std::string scenario, vcd;
  std::vector<std::string> baselines;
  tb::CommonOptions common;
  int mc_chips = 0, mc_top_k = 16;

  void declare(CLI::App& app) {
    CLI::App* c = app.add_subcommand("run", "simulate a scenario (testbench/scenarios/*.json)");
    c->add_option("SCENARIO.json", scenario, "the scenario file")->required();
    c->add_option("--vcd", vcd, "write a VCD trace of what the scenario's \"trace\" selects")
        ->type_name("FILE")
        ->check([](const std::string& s) {
          return s.empty() ? std::string("empty (allowed: a file path)") : std::string();
        });
    c->add_option("--baselines", baselines,
                  "add the device figures of FILE (power/tools/measure_baseline.py) to the "
                  "comparison; repeatable; figures of another shape (heads, d_head, window) than "
                  "the simulated one are listed with their shape, not compared "
                  "(docs/gpu_baselines.md)")
        ->type_name("FILE")
        ->allow_extra_args(false)
        ->check([](const std::string& s) {
          return s.empty() ? std::string("empty (allowed: a file path)") : std::string();
        });
    c->add_option("--mc-chips", mc_chips,
                  "after the run, a Monte Carlo over N chips of the same scenario (as `gca-sim "
                  "mc`); its figures join report.json (monte_carlo, metrics mc_*)")
        ->check(CLI::Range(0, 100000));
    c->add_option("--mc-top-k", mc_top_k, "with --mc-chips: size of the Phi(S) ranking compared")
        ->check(CLI::Range(1, 1 << 20));
    tb::add_common_options(*c, common, tb::kOptAll, kSeedOfRun);
    c->final_callback([this] { code = execute(); });
  }
  int execute() {
    const tb::Scenario sc = tb::load_scenario_with(scenario, common);
    tb::ExperimentOptions opt;
    opt.out_dir = common.out.empty() ? "out/" + sc.name : common.out;
    opt.vcd_path = vcd;
    opt.baseline_files = baselines;
    opt.progress = common.progress_mode();
    opt.plots = !common.no_plots;
    opt.monte_carlo.chips = mc_chips;
    opt.monte_carlo.top_k = mc_top_k;
    opt.monte_carlo.progress = common.progress ? tb::ProgressMode::forced : tb::ProgressMode::off;
    opt.leave_model_at_exit = true;  // gca-sim ends after the summary
    const tb::RunResult r = tb::run_experiment(sc, opt);
    if (r.exit_code == tb::kExitSimError) {
      print_sim_error(r.sim_error);
      return r.exit_code;
    }
    tb::print_run_summary(r);
    return r.exit_code;
  }
  int code = 0;
};

// gca-sim mc
struct McCommand {
  std::string scenario;
  tb::CommonOptions common;
  tb::MonteCarloOptions mc;

  void declare(CLI::App& app) {
    CLI::App* c = app.add_subcommand(
        "mc",
        "Monte Carlo over chips with device variation and noise: runs N chips (chip c: "
        "variation.chip_seed = noise.seed = S + c) on the scenario's workload with the "
        "executable spec, in-process, and compares each with the ideal circuits (all variation "
        "and noise at zero): relative L2 error of the head outputs and per sub-tile, share of "
        "outputs moved by one counter level or more, top-K overlap of the Phi(S) ranking, and "
        "the workload's own figures; mean, std, min, max over chips. Writes DIR/mc.json, "
        "mc_chips.csv, mc_error_hist.dat and mc_error.png. Turn non-idealities on with --set, "
        "e.g. --set variation.cell_gain_sigma=0.05.");
    c->add_option("SCENARIO.json", scenario, "the scenario file")->required();
    c->add_option("--chips", mc.chips, "chips to simulate")
        ->required()
        ->check(CLI::Range(1, 100000));
    c->add_option("--jobs", mc.jobs, "chips simulated in parallel (threads)")
        ->check(CLI::Range(1, 256));
    c->add_option("--top-k", mc.top_k, "size of the Phi(S) ranking compared with the ideal")
        ->check(CLI::Range(1, 1 << 20));
    tb::add_common_options(*c, common, tb::kOptAll,
                           "first chip seed S (default 1): chip c uses chip and noise seeds S + "
                           "c; also the stimulus seed");
    c->final_callback([this] { code = execute(); });
  }
  int execute() {
    tb::Scenario sc = tb::load_scenario(scenario, common.scenario_sets);
    if (common.tokens > 0) sc.host.tokens = common.tokens;
    if (common.seed >= 0) sc.stimulus.seed = static_cast<std::uint64_t>(common.seed);
    for (const auto& s : common.sets) sc.overrides.push_back(s);
    mc.first_seed = common.seed >= 0 ? common.seed : 1;
    mc.progress = common.progress_mode();
    const std::string out = common.out.empty() ? "out/" + sc.name + "_mc" : common.out;
    tb::OutputSet outputs(out);  // published as a whole at the end, or not at all
    const tb::MonteCarloResult m = tb::run_monte_carlo(sc, mc);
    tb::write_monte_carlo_files(outputs.staging_dir(), m, !common.no_plots);
    const std::string plot_note =
        common.no_plots ? "" : tb::render_monte_carlo_plot(outputs.staging_dir());
    tb::print_monte_carlo_summary(sc, m);
    outputs.commit();
    std::printf("reports in %s: mc.json, mc_chips.csv, mc_error_hist.dat%s\n", out.c_str(),
                plot_note.c_str());
    return tb::kExitOk;
  }
  int code = 0;
};

// gca-sim head
struct HeadCommand {
  tb::HeadRunOptions o;
  tb::CommonOptions common;

  void declare(CLI::App& app) {
    CLI::App* c = app.add_subcommand(
        "head",
        "run one SystemC head over Q, K, V from .npy files ([T, d_head] float32/float64, one "
        "row per token, values as the hardware sees them: Q in [0, 1] of T_max, K and V in "
        "volts [0, 0.9]). Token t writes k_t and v_t, then reads with q_t. Writes DIR/out.npy "
        "[T, d] and the run's report.json; with --dump-scores also DIR/scores.npy and "
        "DIR/phi.npy [T, window], column a = key written a tokens earlier (0 before token 0).");
    c->add_option("--q", o.q_path, "queries, [T, d_head]")->required()->type_name("Q.npy");
    c->add_option("--k", o.k_path, "keys, [T, d_head]")->required()->type_name("K.npy");
    c->add_option("--v", o.v_path, "values, [T, d_head]")->required()->type_name("V.npy");
    c->add_option("--spec", o.spec_path, "hardware parameter file")->type_name("FILE");
    c->add_flag("--dump-scores", o.dump_scores, "also write scores.npy and phi.npy");
    tb::add_common_options(
        *c, common,
        tb::kOptSet | tb::kOptSeed | tb::kOptOut | tb::kOptQuiet | tb::kOptProgress | tb::kOptPlots,
        "seed of the chip's mismatch and of the noise (variation.chip_seed, "
        "noise.seed)");
    c->get_option("--out")->required();
    c->final_callback([this] { code = execute(); });
  }
  int execute() {
    if (o.spec_path.empty()) o.spec_path = gca::spec::default_spec_path();
    o.out_dir = common.out;
    o.overrides = common.sets;
    if (common.seed >= 0)
      o.overrides.insert(o.overrides.begin(), {"variation.chip_seed=" + std::to_string(common.seed),
                                               "noise.seed=" + std::to_string(common.seed)});
    o.progress = common.progress_mode();
    o.plots = !common.no_plots;
    const tb::RunResult r = tb::run_head_command(o);
    if (r.exit_code == tb::kExitSimError) print_sim_error(r.sim_error);
    return r.exit_code;
  }
  int code = 0;
};

// gca-sim spec
struct SpecCommand {
  std::string path;
  tb::CommonOptions common;

  void declare(CLI::App& app) {
    CLI::App* c = app.add_subcommand(
        "spec",
        "validate the parameter file (default rtl_spec/params/gpt2.json) with the overrides and "
        "print every parameter with its value, unit, source and the file that set it");
    c->add_option("--spec", path, "hardware parameter file")->type_name("FILE");
    tb::add_common_options(*c, common, tb::kOptSet, "");
    c->final_callback([this] { code = execute(); });
  }
  int execute() const;
  int code = 0;
};

int SpecCommand::execute() const {
  const std::string file = path.empty() ? gca::spec::default_spec_path() : path;
  auto s = gca::spec::load_spec(file, common.sets);
  std::printf("# %s\n# %s\n", file.c_str(), s.description.c_str());
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

// gca-sim sweep
struct SweepCommand {
  tb::SweepArgs a;

  void declare(CLI::App& app) {
    CLI::App* c = app.add_subcommand(
        "sweep",
        "run a design-space sweep (testbench/sweeps/*.json): every point as its own `gca-sim "
        "run` into DIR/points/<id>/, merged into DIR/sweep.csv, DIR/sweep.json and plots. Points "
        "whose report is complete are not run again (resume after an interruption). A sweep "
        "file's \"monte_carlo\": {\"chips\": N} adds a Monte Carlo per point (its figures as "
        "columns).");
    c->add_option("SWEEP.json", a.file, "the sweep file")->required();
    c->add_option("--jobs", a.jobs,
                  "points at a time (default: the number of cores); with slurm: at most N array "
                  "tasks at a time (default: no limit)")
        ->check(CLI::Range(1, 4096));
    c->add_option("--shard", a.shard_text,
                  "run only the points with index mod N = I (0 <= I < N), no merge unless "
                  "--merge is given too")
        ->type_name("I/N");
    c->add_flag("--merge", a.merge, "merge (alone: merge only, run nothing)");
    c->add_option("--backend", a.backend,
                  "local (default) or slurm: write DIR/sweep.sbatch, a job array of shards, "
                  "submit it with sbatch --wait, then merge")
        ->check(CLI::IsMember({"local", "slurm"}));
    c->add_flag("--no-submit", a.no_submit,
                "with slurm: only write DIR/sweep.sbatch (submit it yourself, then --merge)");
    tb::add_common_options(*c, a.common, tb::kOptAll,
                           "passed to every point's run (as `gca-sim run --seed`)");
    c->final_callback([this] { code = tb::run_sweep_command(a, "/proc/self/exe"); });
  }
  int code = 0;
};

// One line whatever the message holds: control and non-UTF-8 bytes escaped, length bounded.
void print_error_line(const std::string& message) {
  std::fprintf(
      stderr, "gca-sim: %s\n",
      gca::one_line_text(tb::with_output_paths(message), gca::limits::kMaxErrorLineBytes).c_str());
}

int run_command_line(int argc, char** argv) {
  CLI::App app{"GCA-TLM: transaction-level model of a gain-cell analog attention accelerator",
               "gca-sim"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_help_flag("-h,--help", "print this help (each command has its own: gca-sim run --help)");
  RunCommand run;
  McCommand mc;
  HeadCommand head;
  SpecCommand spec;
  SweepCommand sweep;
  run.declare(app);
  head.declare(app);
  spec.declare(app);
  sweep.declare(app);
  mc.declare(app);
  tb::LmCommand lm;
  lm.declare(app);
  if (argc < 2) {
    std::printf("%s", app.help().c_str());
    return tb::kExitBadInput;
  }
  const std::string first = argv[1];
  const std::vector<std::string> names{"run", "head", "spec", "sweep", "mc", "lm"};
  if (first[0] != '-' && std::find(names.begin(), names.end(), first) == names.end())
    throw Error("", first, "unknown command (allowed: run, head, spec, sweep, mc, lm)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    const CLI::App* cmd = app.get_subcommands().empty() ? &app : app.get_subcommands().front();
    std::printf("%s", cmd->help().c_str());
    return tb::kExitOk;
  } catch (const CLI::ParseError& e) {
    throw Error("", "", e.what());
  }
  for (int code : {run.code, mc.code, head.code, spec.code, sweep.code, lm.code})
    if (code != 0) return code;
  return tb::kExitOk;
}

}  // namespace

int sc_main(int argc, char** argv) {
  // The kernel's informational notes ("stopped by user", trace time unit) stay off stdout;
  // warnings and errors still show.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  try {
    tb::check_thread_env();
    return run_command_line(argc, argv);
  } catch (const std::bad_alloc&) {
    print_error_line(
        "out of memory (allowed: a smaller window, model.n_layers, model.n_heads or fewer tokens)");
    return tb::kExitBadInput;
  } catch (const gca::Error& e) {
    // The path shortened first: the reason at the end of the line stays whole.
    print_error_line(gca::error_line_text(e, gca::limits::kMaxErrorLineBytes));
    return tb::kExitBadInput;
  } catch (const std::exception& e) {
    print_error_line(e.what());
    return tb::kExitBadInput;
  }
}

// Our own entry point (the executable's main takes precedence over libsystemc's): silence the
// SystemC banner, which the kernel prints before sc_main runs, then start as libsystemc would.
int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  tb::install_signal_cleanup();  // before any thread exists
  return sc_core::sc_elab_and_sim(argc, argv);
}
