// The figures a run is compared with: GPUs (or CPUs) running one layer's decode attention, each
// with the shape of attention it was measured on, and the paper's own accelerator. The shipped
// file is power/data/gpu_baselines.json; power/tools/measure_baseline.py writes more such files,
// which `gca-sim run --baselines FILE` adds (docs/gpu_baselines.md).
#pragma once

#include <string>
#include <vector>

#include "gca/power/power_tracker.hpp"

namespace gca::power {

// The shape of one layer's attention a figure is for.
struct AttentionShape {
  int heads = 0;   // heads of the layer
  int d_head = 0;  // values per head
  int window = 0;  // tokens attended (length of the KV cache)
  bool operator==(const AttentionShape& o) const {
    return heads == o.heads && d_head == o.d_head && window == o.window;
  }
  bool operator!=(const AttentionShape& o) const { return !(*this == o); }
  std::string label() const;  // e.g. "12 heads, d 64, window 1024"
};

// One device running one layer's decode attention, per generated token.
struct GpuBaseline {
  std::string name;
  double latency_ns = 0.0;             // per token, one layer's attention
  double energy_nj = -1.0;             // per token, one layer's attention; < 0: not measured
  double energy_above_idle_nj = -1.0;  // < 0: not given
  std::string source;
  AttentionShape shape;  // the workload of its file
  int batch = 0;         // sequences decoded together; 0: not stated
  std::string dtype;     // e.g. "float16"; empty: not stated
  std::string launch;    // "cuda graph", "eager"; empty: not stated
  // From the file's "measurement" section (files of measure_baseline.py); empty when absent.
  std::string device, date, method, software;
  std::string file;  // the file it was read from
  bool measured_energy() const { return energy_nj >= 0.0; }
};

// power/data/gpu_baselines.json: the shipped device figures and the paper's accelerator, plus
// the figures of the files added with --baselines.
struct Baselines {
  std::string file;  // the shipped file
  std::vector<std::string> added_files;
  std::string workload;  // description of the shipped figures' workload
  AttentionShape shape;  // shape of the shipped figures and of the paper's accelerator
  std::vector<GpuBaseline> gpus;
  // The paper's accelerator (Fig. 5c-e): per layer and per head per token.
  double paper_latency_ns = 0.0;
  double paper_layer_energy_nj = 0.0;
  GroupEnergies paper_head_pj{};
  double paper_head_total_pj = 0.0;
  std::string paper_source;
};

// The shipped file: power/data/gpu_baselines.json of the source tree this was built from.
std::string default_baselines_path();
// Reads the shipped file (device figures and paper_accelerator). Throws gca::Error naming the
// file and key when it cannot be read, lacks a key or holds a value out of range.
Baselines load_baselines(const std::string& path = default_baselines_path());
// Reads a file of device figures ("workload" and "gpus"; a "paper_accelerator" section is not
// needed and not read), as power/tools/measure_baseline.py writes them. Same errors.
std::vector<GpuBaseline> load_device_baselines(const std::string& path);
// Appends the device figures of each file to `b` (gca-sim run --baselines FILE ...).
void add_baseline_files(Baselines& b, const std::vector<std::string>& paths);

}  // namespace gca::power
