// Scenario files (testbench/scenarios/*.json, documented in testbench/README.md): which
// hardware, which workload, which stimulus, what to trace and what to check.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/sc/attention_head.hpp"
#include "gca/spec/params.hpp"
#include "gca/tlm/host.hpp"

namespace gca::tb {

struct StimulusConfig {
  // heads: q, k, v files of [L, H, T, d], every head of every layer its own stream.
  enum class Kind { uniform, npy, heads } kind = Kind::uniform;
  std::uint64_t seed = 1;
  double q_lo = 0.0, q_hi = 1.0;       // uniform: pulse width / T_max
  double kv_lo = 0.0, kv_hi = 0.9;     // uniform: volts
  std::string q_path, k_path, v_path;  // npy: [T, d] or [cases, T, d] (then `npy_case` picks one);
                                       // heads: [L, H, T, d]
  int npy_case = -1;
};

struct TraceConfig {
  std::vector<int> layers{0}, heads{0}, subtiles{0};
  int columns = 4;
};

struct ExpectConfig {
  std::string out_path;  // optional .npy of expected outputs of one head, [T, d]
  int out_case = -1;
  int layer = 0, head = 0;  // the head out_path describes
  double max_rel_l2 = 1e-2;
};

// A deliberate error in one head's output (tests of the check; never in shipped scenarios).
struct FaultConfig {
  int layer = 0, head = 0;
  gca::sc::InjectedFault injected;  // token -1: none
};

struct Scenario {
  std::string file;  // where it was loaded from
  std::string name;
  std::string description;
  std::string spec_path;                    // resolved
  std::vector<std::string> overrides;       // "key=value", scenario first, then the command line
  std::vector<std::string> file_overrides;  // those of them the scenario's hardware.set gave
  gca::tlm::HostConfig host;                // tokens, workload, protocol, host time, quantum
  std::string workload_kind = "synthetic";  // engine/workload.hpp: what feeds the host
  nlohmann::json workload_section = nlohmann::json::object();  // "workload" as written
  StimulusConfig stimulus;
  TraceConfig trace;
  bool check_against_oracle = true;
  long oracle_every = 0;  // compare every n-th token of each head with the oracle; 0 = automatic
  FaultConfig fault;
  ExpectConfig expect;
  double power_window_ns = 1000.0;
  bool plots = true;
  std::string json_text;  // the scenario as loaded (for the report)
};

// The overrides with where each was given, for load_spec_overridden: those of hardware.set are
// blamed on the scenario file and hardware.set.<key>, the others on --set.
std::vector<spec::Override> spec_overrides(const Scenario& scenario);

// Loads and validates a scenario; paths inside are resolved relative to the scenario file,
// "${data}" expands to the shared data folder (GCA_DATA_DIR or the build-time default).
// `overrides` ("dotted.key=value", as `gca-sim run --scenario-set`) are applied to the JSON
// before it is validated: the value is JSON when it parses as JSON (numbers, true/false, lists,
// "quoted strings"), plain text otherwise; keys under hardware.set take the rest of the key
// whole (hardware.set.model.n_heads=2). The report then shows the scenario with the overrides.
// Throws gca::Error naming the file, the key and the allowed values.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

// The files a run of the scenario reads besides the scenario itself: its parameter file and the
// files that one extends, the stimulus and expected-output .npy files, files the workload
// section names (relative to the scenario) and the files a JSON file among those names (an
// LM manifest's weights), each once. What a sweep's resume keys on.
std::vector<std::string> scenario_input_files(const Scenario& scenario);

std::string shared_data_dir();

}  // namespace gca::tb
