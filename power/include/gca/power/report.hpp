// Reports of a run: report.json, modules.csv, the data files of the plots, the summary table
// printed at the end, and the plots themselves (gnuplot). The simulation passes in what only
// it knows (RunInfo); the rest comes from the PowerTracker, the spec and the GPU baselines.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/power/baselines.hpp"
#include "gca/power/energy_table.hpp"
#include "gca/power/power_tracker.hpp"
#include "gca/spec/params.hpp"

namespace gca::power {

// What the simulation knows and passes in.
struct RunInfo {
  std::string scenario;  // name of the scenario or run
  std::uint64_t seed = 0;
  long tokens = 0;  // tokens simulated (decode steps)
  int layers = 0;   // layers simulated
  int heads = 0;    // heads simulated, all layers together
  double wall_time_s = 0.0;
  std::vector<double> latency_per_token_ns;               // one per layer
  std::vector<std::pair<std::string, double>> phases_ns;  // name, duration of each phase
  double end_to_end_ns_per_token = 0.0;                   // all layers, decode mode
  // Steady state (window full): tracker snapshot taken when it began and the tokens after
  // it; steady_state_tokens = 0 when the window never filled.
  EnergySnapshot steady_state_start;
  long steady_state_tokens = 0;
  // Energy of each token, all simulated heads together (e.g. differences of snapshots).
  std::vector<GroupEnergies> energy_per_token_pj;
  std::string scenario_json;  // optional: the scenario as JSON text, copied into report.json
};

// Everything the writers print, computed once.
struct Report {
  RunInfo run;
  gca::spec::HardwareSpec spec;
  std::vector<EnergyEntry> energy_table;
  std::vector<StaticEntry> static_table;
  EnergyTotals totals;
  ActionCounts actions{};
  struct ModuleRow {
    std::string path, group;
    long events = 0;
    double energy_pj = 0.0, dynamic_pj = 0.0, static_pj = 0.0;
  };
  std::vector<ModuleRow> modules;
  struct LayerRow {
    std::string layer;  // path component "layerN", or "other"
    GroupEnergies per_token_pj{};
    double total_per_token_pj = 0.0;
  };
  std::vector<LayerRow> layers;  // energy per token of each simulated layer (whole run)
  GroupEnergies per_token_pj{};  // all simulated heads, whole run
  double total_per_token_pj = 0.0;
  bool steady_state = false;       // steady-state figures available
  GroupEnergies head_steady_pj{};  // per head per token, steady state (else whole run)
  double head_steady_total_pj = 0.0;
  GroupEnergies head_whole_run_pj{};  // per head per token, whole run
  double head_whole_run_total_pj = 0.0;
  std::vector<PowerWindow> windows;
  double window_ns = 0.0;
  AreaBreakdown area;
  Baselines baselines;
  double layer_latency_ns = 0.0;  // mean of latency_per_token_ns
  double layer_energy_nj = 0.0;   // head_steady_total_pj x model.n_heads / 1000
  AttentionShape shape;           // simulated: model.n_heads, model.d_head, window
  bool comparable = false;        // shape is the paper's accelerator's (and shipped figures')
};

Report make_report(const PowerTracker& tracker, const gca::spec::HardwareSpec& spec,
                   const RunInfo& run, const Baselines& baselines);

// report.json as a document (a run adds its own sections), as text, or written to `path`
// (atomically: temp file + rename).
nlohmann::ordered_json report_document(const Report& report);
std::string report_json(const Report& report);
void write_report_json(const std::string& path, const Report& report);
// modules.csv: path,group,events,energy_pj,dynamic_pj,static_pj,<one column per action>.
void write_modules_csv(const std::string& path, const PowerTracker& tracker);
// Data files of the plots, in dir: energy_groups.csv, gpu_comparison.csv,
// energy_per_token.csv, power_windows.csv.
void write_plot_data(const std::string& dir, const Report& report);
// Short table for the end of a run: group, pJ per head per token, paper, deviation; then the
// comparison with other devices (comparison_table).
std::string summary_table(const Report& report);
// Latency and energy per token of this model, the paper's accelerator and each device measured
// on the simulated shape, with ratios; the devices of other shapes named with their shape.
std::string comparison_table(const Report& report);

struct PlotResult {
  bool rendered = false;
  std::string message;              // what happened, e.g. "gnuplot not found on PATH"
  std::vector<std::string> images;  // PNG files written
};
std::string default_plot_script();  // $GCA_POWER_PLOTS_DIR or power/plots, + /plot_report.gp
// Runs gnuplot (no shell; out_dir is its working folder) on the data files in out_dir when
// gnuplot is on PATH; never throws for a missing gnuplot or a failed plot (the result says so:
// a plot is written only when its PNG file is complete).
PlotResult render_plots(const std::string& out_dir,
                        const std::string& script = default_plot_script());

// All of the above into out_dir (created if needed): report.json, modules.csv, plot data,
// and plots if `plots`. Returns the plot result.
PlotResult write_reports(const std::string& out_dir, const Report& report,
                         const PowerTracker& tracker, bool plots = true);

// True when `path` is a PNG file that ends with its end chunk (not cut short).
bool png_complete(const std::string& path);

// Writes text to path atomically (path.tmp.<random token>, written, synced and closed, each step
// checked, then renamed); gca::Error naming the file and the reason.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace gca::power
