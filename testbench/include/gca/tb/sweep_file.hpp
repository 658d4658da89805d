// Sweep files (testbench/sweeps/*.json): a base scenario, a token count, and a grid or a list
// of points over hardware keys (passed to `gca-sim run --set`) and scenario keys (workload.*,
// stimulus.*, ..., passed to `--scenario-set`). Loading expands them into numbered points.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gca::tb {

// A value of a swept key: its text on the command line and in sweep.csv.
struct SweepValue {
  std::string key;
  std::string text;       // as given: 256, 1.6e-4, tech_cmos.json
  bool is_number = true;  // false: a string value
};

struct SweepPoint {
  int index = 0;
  std::string id;                  // "p000", "p001", ... in expansion order
  std::vector<SweepValue> values;  // one per swept key, in the order of SweepFile::keys
  long tokens = 0;
};

struct SlurmSettings {
  int cpus_per_point = 1;
  long mem_mb = 0;        // 0: the cluster's default
  std::string time;       // e.g. "00:30:00"; empty: the partition's default
  std::string partition;  // empty: the cluster's default
  std::string account;    // empty: none
};

struct SweepFile {
  std::string file;  // as given
  std::string name, description;
  std::string scenario_path;      // absolute
  std::vector<std::string> keys;  // swept keys, in the order of the file
  std::vector<SweepValue> fixed;  // "set": applied to every point
  std::vector<SweepPoint> points;
  bool point_plots = false;  // each point's own gnuplot plots
  bool plots = true;         // the merged sweep's plots (off: gca-sim sweep --no-plots)
  long seed = -1;            // >= 0: every point's --seed (gca-sim sweep --seed)
  int mc_chips = 0;          // "monte_carlo": {"chips": N}: a Monte Carlo per point
  int mc_top_k = 0;          // its "top_k" (0: the default)
  SlurmSettings slurm;
};

// Loads, validates and expands a sweep file. A bare scenario name is one of the shipped
// scenarios (testbench/scenarios/), a path is relative to the sweep file. Throws gca::Error
// naming the file, the key and what is allowed.
SweepFile load_sweep(const std::string& path);

// Scenario keys go to --scenario-set; every other key is a hardware key (--set).
bool is_scenario_key(const std::string& key);

// The arguments of `gca-sim run` for one point (without the program name).
std::vector<std::string> point_run_args(const SweepFile& sweep, const SweepPoint& point,
                                        const std::string& point_dir);

// The points of shard `shard` of `shards`: indices i with i mod shards == shard.
std::vector<const SweepPoint*> shard_points(const SweepFile& sweep, int shard, int shards);

// "window=256 array.cols=32": the point's values as one label.
std::string point_label(const SweepPoint& point);

std::string default_scenarios_dir();  // $GCA_SCENARIOS_DIR or testbench/scenarios

}  // namespace gca::tb
