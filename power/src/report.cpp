#include "gca/power/report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/spec/child_process.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/unique_token.hpp"

#ifndef GCA_POWER_PLOTS_DIR
#define GCA_POWER_PLOTS_DIR "power/plots"
#endif

namespace gca::power {

namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

// Layer of a module from its path: the component "layer<digits>", else "other".
std::string layer_of(const std::string& path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('.', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.size() > 5 && part.compare(0, 5, "layer") == 0 &&
        std::all_of(part.begin() + 5, part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return part;
    }
    start = end + 1;
  }
  return "other";
}

long layer_number(const std::string& layer) {
  return layer == "other" ? -1 : std::strtol(layer.c_str() + 5, nullptr, 10);
}

ojson groups_json(const GroupEnergies& g, double total) {
  ojson j;
  for (Group gr : kGroups) j[group_name(gr)] = g[index(gr)];
  j["total"] = total;
  return j;
}

double sum(const GroupEnergies& g) {
  double t = 0.0;
  for (double e : g) t += e;
  return t;
}

double deviation_percent(double model, double paper) {
  return paper != 0.0 ? 100.0 * (model - paper) / paper : 0.0;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string num(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

ojson shape_json(const AttentionShape& s) {
  return {{"heads", s.heads}, {"d_head", s.d_head}, {"window", s.window}, {"label", s.label()}};
}

double ratio(double device, double accelerator) {
  return accelerator > 0.0 ? device / accelerator : 0.0;
}

// One device of the comparison: its figures, the shape they were measured on, and the ratios
// to this accelerator only when that shape is the simulated one.
ojson device_json(const GpuBaseline& g, const Report& r) {
  const bool same = g.shape == r.shape;
  ojson d;
  d["name"] = g.name;
  d["shape"] = shape_json(g.shape);
  d["comparable"] = same;
  if (g.batch > 0) d["batch"] = g.batch;
  if (!g.dtype.empty()) d["dtype"] = g.dtype;
  if (!g.launch.empty()) d["launch"] = g.launch;
  d["latency_ns"] = g.latency_ns;
  d["energy_nj"] = g.measured_energy() ? ojson(g.energy_nj) : ojson(nullptr);
  if (g.energy_above_idle_nj >= 0) d["energy_above_idle_nj"] = g.energy_above_idle_nj;
  if (same) {
    d["latency_ratio"] = ratio(g.latency_ns, r.layer_latency_ns);
    d["energy_ratio"] =
        g.measured_energy() ? ojson(ratio(g.energy_nj, r.layer_energy_nj)) : ojson(nullptr);
    if (g.energy_above_idle_nj >= 0)
      d["energy_above_idle_ratio"] = ratio(g.energy_above_idle_nj, r.layer_energy_nj);
  } else {
    d["note"] = "measured on " + g.shape.label() + ", not the simulated " + r.shape.label() +
                ": not compared";
  }
  if (!g.measured_energy()) d["energy_note"] = "energy not measured";
  d["source"] = g.source;
  d["file"] = g.file;
  if (!g.device.empty()) d["device"] = g.device;
  if (!g.date.empty()) d["date"] = g.date;
  if (!g.method.empty()) d["method"] = g.method;
  if (!g.software.empty()) d["software"] = g.software;
  return d;
}

ojson gpu_comparison_json(const Report& r) {
  ojson gpu;
  gpu["file"] = r.baselines.file;
  gpu["added_files"] = r.baselines.added_files;
  gpu["workload"] = r.baselines.workload;
  gpu["simulated_shape"] = shape_json(r.shape);
  gpu["comparable"] = r.comparable;
  gpu["note"] =
      "per token, one layer's attention; ratio = device / this accelerator, given only for "
      "devices measured on the simulated shape (each device's shape and comparable say which)";
  gpu["accelerator"] = {{"latency_ns", r.layer_latency_ns},
                        {"energy_nj", r.layer_energy_nj},
                        {"shape", shape_json(r.shape)},
                        {"source",
                         "this model: latency per token per layer from the run, energy "
                         "= steady-state per head per token x model.n_heads"}};
  gpu["paper_accelerator"] = {{"latency_ns", r.baselines.paper_latency_ns},
                              {"energy_nj", r.baselines.paper_layer_energy_nj},
                              {"shape", shape_json(r.baselines.shape)},
                              {"comparable", r.comparable},
                              {"source", r.baselines.paper_source}};
  ojson devs = ojson::array();
  for (const auto& g : r.baselines.gpus) devs.push_back(device_json(g, r));
  gpu["devices"] = std::move(devs);
  return gpu;
}

// The data of the GPU comparison plot: its title (the simulated shape) and what it leaves out
// as "# " lines, then only the figures of the simulated shape.
std::string gpu_comparison_csv(const Report& r) {
  auto quoted = [](std::string name) {
    std::replace(name.begin(), name.end(), '"', '\'');
    std::replace(name.begin(), name.end(), '\n', ' ');
    return '"' + name + '"';
  };
  auto energy = [](double nj) { return nj >= 0.0 ? num(nj) : std::string("NaN"); };
  std::vector<std::string> left_out;
  if (!r.comparable) left_out.push_back("GCA (paper)");
  std::ostringstream rows;
  rows << quoted("GCA (this model)") << ',' << num(r.layer_latency_ns) << ','
       << num(r.layer_energy_nj) << '\n';
  if (r.comparable) {
    rows << quoted("GCA (paper)") << ',' << num(r.baselines.paper_latency_ns) << ','
         << num(r.baselines.paper_layer_energy_nj) << '\n';
  }
  for (const auto& g : r.baselines.gpus) {
    if (g.shape != r.shape) {
      left_out.push_back(g.name);
      continue;
    }
    rows << quoted(g.name + (g.measured_energy() ? "" : " (energy not measured)")) << ','
         << num(g.latency_ns) << ',' << energy(g.energy_nj) << '\n';
  }
  std::ostringstream c;
  c << "# title: One layer of attention per token, as simulated: " << r.shape.label() << '\n';
  if (left_out.empty()) {
    c << "# left out: none\n";
  } else {
    c << "# left out: " << left_out.size() << (left_out.size() == 1 ? " figure" : " figures")
      << " measured on other shapes (report.json gpu_comparison lists them)\n";
  }
  c << "device,latency_ns,energy_nj\n" << rows.str();
  return c.str();
}

// "73.7 nJ", "22.4 us", "1.45 mJ": x (in units of 10^exp10 of `unit`) with an SI prefix.
std::string with_unit(double x, const char* unit, int exp10) {
  static const char* const prefixes[] = {"p", "n", "u", "m", "", "k"};
  double v = x * std::pow(10.0, exp10 + 12);  // in pico-units
  int p = 0;
  while (p < 5 && std::fabs(v) >= 1000.0) {
    v /= 1000.0;
    ++p;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g %s%s", v, prefixes[p], unit);
  return buf;
}

std::string ratio_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, x >= 100.0 ? "%.0f" : "%.3g", x);
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Report

Report make_report(const PowerTracker& tracker, const gca::spec::HardwareSpec& spec,
                   const RunInfo& run, const Baselines& baselines) {
  if (run.tokens <= 0) throw gca::Error("", "RunInfo.tokens", "must be > 0 (tokens simulated)");
  if (run.heads <= 0) throw gca::Error("", "RunInfo.heads", "must be > 0 (heads simulated)");
  if (run.steady_state_tokens < 0 || run.steady_state_tokens > run.tokens) {
    throw gca::Error("", "RunInfo.steady_state_tokens", "must lie in [0, tokens]");
  }
  Report r;
  r.run = run;
  r.spec = spec;
  r.energy_table = tracker.table().entries();
  r.static_table = tracker.table().static_entries();
  r.totals = tracker.totals();
  r.actions = tracker.action_counts();
  const double tokens = double(run.tokens), heads = double(run.heads);

  std::map<long, std::size_t> layer_index;  // by layer number, "other" last
  std::vector<Report::LayerRow> layers;
  for (std::size_t i = 0; i < tracker.module_count(); ++i) {
    const int id = static_cast<int>(i);
    Report::ModuleRow row;
    row.path = tracker.module_path(id);
    row.group = group_name(tracker.module_group(id));
    row.events = tracker.module_events(id);
    row.dynamic_pj = tracker.module_dynamic_pj(id);
    row.static_pj = tracker.module_static_pj(id);
    row.energy_pj = tracker.module_energy_pj(id);
    const std::string layer = layer_of(row.path);
    const long key = layer == "other" ? std::numeric_limits<long>::max() : layer_number(layer);
    auto it = layer_index.find(key);
    if (it == layer_index.end()) {
      it = layer_index.emplace(key, layers.size()).first;
      layers.push_back(Report::LayerRow{layer, {}, 0.0});
    }
    layers[it->second].per_token_pj[index(tracker.module_group(id))] += row.energy_pj / tokens;
    r.modules.push_back(std::move(row));
  }
  for (const auto& [key, i] : layer_index) {
    (void)key;
    layers[i].total_per_token_pj = sum(layers[i].per_token_pj);
    r.layers.push_back(layers[i]);
  }
  for (std::size_t g = 0; g < kGroupCount; ++g) {
    r.per_token_pj[g] = r.totals.group_pj[g] / tokens;
    r.head_whole_run_pj[g] = r.totals.group_pj[g] / (tokens * heads);
  }
  r.total_per_token_pj = r.totals.total_pj / tokens;
  r.head_whole_run_total_pj = r.totals.total_pj / (tokens * heads);
  r.steady_state = run.steady_state_tokens > 0;
  if (r.steady_state) {
    const GroupEnergies d = tracker.snapshot() - run.steady_state_start;
    for (std::size_t g = 0; g < kGroupCount; ++g) {
      r.head_steady_pj[g] = d[g] / (double(run.steady_state_tokens) * heads);
    }
    r.head_steady_total_pj = sum(r.head_steady_pj);
  } else {
    r.head_steady_pj = r.head_whole_run_pj;
    r.head_steady_total_pj = r.head_whole_run_total_pj;
  }
  r.windows = tracker.windows();
  r.window_ns = tracker.window_ns();
  r.area = compute_area(spec);
  r.baselines = baselines;
  if (!run.latency_per_token_ns.empty()) {
    double s = 0.0;
    for (double x : run.latency_per_token_ns) s += x;
    r.layer_latency_ns = s / double(run.latency_per_token_ns.size());
  }
  r.layer_energy_nj = r.head_steady_total_pj * spec.model.n_heads * 1e-3;
  r.shape = AttentionShape{spec.model.n_heads, spec.model.d_head, spec.window};
  r.comparable = r.shape == baselines.shape;
  return r;
}

std::string report_json(const Report& r) {
  return report_document(r).dump(2) + "\n";
}

nlohmann::ordered_json report_document(const Report& r) {
  ojson j;
  j["schema"] = "gca-tlm.report/1";
  j["scenario"] = r.run.scenario;
  j["seed"] = r.run.seed;
  j["tokens_simulated"] = r.run.tokens;
  j["layers_simulated"] = r.run.layers;
  j["heads_simulated"] = r.run.heads;
  j["wall_time_s"] = r.run.wall_time_s;

  ojson params = ojson::object();
  for (const auto& p : gca::spec::param_catalog()) {
    ojson e;
    e["value"] = gca::spec::get_param(r.spec, p.key);
    auto it = r.spec.meta.find(p.key);
    e["unit"] = p.unit;
    e["source"] = it != r.spec.meta.end() ? it->second.source : "";
    e["file"] = it != r.spec.meta.end() ? it->second.file : "";
    params[p.key] = std::move(e);
  }
  j["parameters"] = std::move(params);
  j["parameters_description"] = r.spec.description;
  if (!r.run.scenario_json.empty()) {
    try {
      j["scenario_config"] = ojson::parse(r.run.scenario_json);
    } catch (const ojson::parse_error& e) {
      throw gca::Error("", "RunInfo.scenario_json", std::string("malformed JSON: ") + e.what());
    }
  }

  ojson lat;
  lat["per_token_ns"] = r.run.latency_per_token_ns;
  ojson phases = ojson::object();
  for (const auto& [name, ns] : r.run.phases_ns) phases[name] = ns;
  lat["phases_ns"] = std::move(phases);
  lat["end_to_end_ns_per_token"] = r.run.end_to_end_ns_per_token;
  j["latency"] = std::move(lat);

  ojson en;
  ojson per_token = groups_json(r.per_token_pj, r.total_per_token_pj);
  ojson layers = ojson::array();
  for (const auto& l : r.layers) {
    ojson lj;
    lj["layer"] = l.layer;
    for (Group g : kGroups) lj[group_name(g)] = l.per_token_pj[index(g)];
    lj["total"] = l.total_per_token_pj;
    layers.push_back(std::move(lj));
  }
  per_token["layers"] = std::move(layers);
  en["per_token_pj"] = std::move(per_token);
  en["steady_state_per_head_per_token_pj"] = groups_json(r.head_steady_pj, r.head_steady_total_pj);
  en["steady_state"] = {
      {"available", r.steady_state},
      {"tokens", r.run.steady_state_tokens},
      {"note", r.steady_state ? "tokens after the window filled (every slot holds a token)"
                              : "the window never filled: whole-run figures given instead"}};
  en["whole_run_per_head_per_token_pj"] =
      groups_json(r.head_whole_run_pj, r.head_whole_run_total_pj);
  en["paper_per_head_per_token_pj"] =
      groups_json(r.baselines.paper_head_pj, r.baselines.paper_head_total_pj);
  ojson dev;
  for (Group g : kGroups) {
    dev[group_name(g)] =
        deviation_percent(r.head_steady_pj[index(g)], r.baselines.paper_head_pj[index(g)]);
  }
  dev["total"] = deviation_percent(r.head_steady_total_pj, r.baselines.paper_head_total_pj);
  en["deviation_from_paper_percent"] = std::move(dev);
  en["calibration"] =
      "calibrated at the paper's point (GPT-2 head, window 1024, 64x64 arrays, T_max 15 ns, "
      "uniform data), predicted elsewhere: a few ASSUMED cost constants are fitted there "
      "(power/tools/calibrate_energy.cpp), so agreement at that point is by construction";
  en["dynamic_pj"] = r.totals.dynamic_total_pj;
  en["static_pj"] = r.totals.static_total_pj;
  en["total_pj"] = r.totals.total_pj;
  ojson groups;
  for (Group g : kGroups) {
    groups[group_name(g)] = {{"dynamic_pj", r.totals.dynamic_pj[index(g)]},
                             {"static_pj", r.totals.static_pj[index(g)]},
                             {"total_pj", r.totals.group_pj[index(g)]}};
  }
  en["groups"] = std::move(groups);
  ojson actions = ojson::array();
  for (const auto& e : r.energy_table) {
    const double count = r.actions[index(e.action)];
    actions.push_back({{"action", e.name},
                       {"group", group_name(e.group)},
                       {"count", count},
                       {"unit", e.unit},
                       {"energy_pj_per_unit", e.energy_pj_per_unit},
                       {"energy_pj", count * e.energy_pj_per_unit},
                       {"param", e.param_key},
                       {"param_value", e.param_value},
                       {"param_unit", e.param_unit},
                       {"source", e.source}});
  }
  en["actions"] = std::move(actions);
  ojson statics = ojson::array();
  for (const auto& s : r.static_table) {
    statics.push_back({{"name", s.name},
                       {"power_mw", s.power_mw},
                       {"applies_to", s.applies_to},
                       {"param", s.param_key},
                       {"param_value", s.param_value},
                       {"param_unit", s.param_unit},
                       {"source", s.source}});
  }
  en["static_power"] = std::move(statics);
  ojson modules = ojson::array();
  for (const auto& m : r.modules) {
    modules.push_back({{"path", m.path},
                       {"group", m.group},
                       {"events", m.events},
                       {"energy_pj", m.energy_pj},
                       {"dynamic_pj", m.dynamic_pj},
                       {"static_pj", m.static_pj}});
  }
  en["modules"] = std::move(modules);
  j["energy"] = std::move(en);

  ojson pw;
  pw["window_ns"] = r.window_ns;
  ojson wins = ojson::array();
  GroupEnergies energy_sum{};
  double length = 0.0;
  for (const auto& w : r.windows) {
    ojson wj;
    wj["start_ns"] = w.start_ns;
    wj["length_ns"] = w.length_ns;
    for (Group g : kGroups) wj[std::string(group_name(g)) + "_mw"] = w.avg_mw[index(g)];
    wj["total_mw"] = w.total_avg_mw;
    wj["energy_pj"] = w.total_energy_pj;
    for (std::size_t g = 0; g < kGroupCount; ++g) energy_sum[g] += w.energy_pj[g];
    length += w.length_ns;
    wins.push_back(std::move(wj));
  }
  ojson avg;
  for (Group g : kGroups) avg[group_name(g)] = length > 0 ? energy_sum[index(g)] / length : 0.0;
  avg["total"] = length > 0 ? sum(energy_sum) / length : 0.0;
  pw["average_mw"] = std::move(avg);
  pw["windows"] = std::move(wins);
  j["power"] = std::move(pw);

  const AreaBreakdown& a = r.area;
  j["area_mm2"] = {{"subtile", a.subtile_mm2},
                   {"head", a.head_mm2},
                   {"layer", a.layer_mm2},
                   {"model", a.model_mm2},
                   {"subtile_cells", a.subtile_cells_mm2},
                   {"subtile_periphery", a.subtile_periphery_mm2},
                   {"head_control", a.head_control_mm2},
                   {"cell_um2", a.cell_um2},
                   {"cells_per_subtile", a.cells_per_subtile},
                   {"cells_per_head", a.cells_per_head},
                   {"subtiles_per_head", a.subtiles_per_head},
                   {"paper", {{"head", 0.5}, {"layer", 6.0}, {"cell_um2", 1.0}}}};

  ojson gpu = gpu_comparison_json(r);
  j["gpu_comparison"] = std::move(gpu);
  return j;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + unique_token();
  auto fail = [&](const std::string& what, int err) {
    std::remove(tmp.c_str());
    throw gca::Error(path, "", what + ": " + std::strerror(err ? err : EIO));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw gca::Error(path, "", std::string("cannot write: ") + std::strerror(errno));
  // Every step is checked: a full disk shows in write, in fsync (delayed allocation) or in close.
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      fail("write failed", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    const int err = errno;
    ::close(fd);
    fail("write failed (sync)", err);
  }
  if (::close(fd) != 0) fail("write failed (close)", errno);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw gca::Error(path, "", "cannot rename the temporary file into place: " + ec.message());
  }
}

void write_report_json(const std::string& path, const Report& report) {
  write_file_atomic(path, report_json(report));
}

void write_modules_csv(const std::string& path, const PowerTracker& tracker) {
  std::ostringstream os;
  os << "path,group,events,energy_pj,dynamic_pj,static_pj";
  for (Action a : all_actions()) os << ',' << action_name(a);
  os << '\n';
  for (std::size_t i = 0; i < tracker.module_count(); ++i) {
    const int id = static_cast<int>(i);
    os << csv_field(tracker.module_path(id)) << ',' << group_name(tracker.module_group(id)) << ','
       << tracker.module_events(id) << ',' << num(tracker.module_energy_pj(id)) << ','
       << num(tracker.module_dynamic_pj(id)) << ',' << num(tracker.module_static_pj(id));
    for (Action a : all_actions()) os << ',' << num(tracker.module_count(id, a));
    os << '\n';
  }
  write_file_atomic(path, os.str());
}

void write_plot_data(const std::string& dir, const Report& r) {
  const fs::path d(dir);
  std::ostringstream g;
  g << "group,model_pj,paper_pj\n";
  for (Group gr : kGroups) {
    g << group_name(gr) << ',' << num(r.head_steady_pj[index(gr)]) << ','
      << num(r.baselines.paper_head_pj[index(gr)]) << '\n';
  }
  write_file_atomic((d / "energy_groups.csv").string(), g.str());

  write_file_atomic((d / "gpu_comparison.csv").string(), gpu_comparison_csv(r));

  std::ostringstream t;
  t << "token,qk_pj,av_pj,digital_pj,dac_pj,total_pj\n";
  const double heads = r.run.heads > 0 ? r.run.heads : 1;
  for (std::size_t i = 0; i < r.run.energy_per_token_pj.size(); ++i) {
    const GroupEnergies& e = r.run.energy_per_token_pj[i];
    t << i;
    for (double x : e) t << ',' << num(x / heads);
    t << ',' << num(sum(e) / heads) << '\n';
  }
  write_file_atomic((d / "energy_per_token.csv").string(), t.str());

  std::ostringstream p;
  p << "start_ns,qk_mw,av_mw,digital_mw,dac_mw,total_mw\n";
  for (const auto& w : r.windows) {
    p << num(w.start_ns);
    for (double x : w.avg_mw) p << ',' << num(x);
    p << ',' << num(w.total_avg_mw) << '\n';
  }
  write_file_atomic((d / "power_windows.csv").string(), p.str());
}

std::string summary_table(const Report& r) {
  std::ostringstream os;
  char line[256];
  os << "Energy per head per token, "
     << (r.steady_state
             ? "steady state (window full, " + std::to_string(r.run.steady_state_tokens) +
                   " tokens x " + std::to_string(r.run.heads) + " heads)"
             : "whole run (the window never filled: not the paper's steady state)")
     << "\n";
  os << "  (cost constants calibrated at the paper's point -- GPT-2 head, window 1024, uniform "
        "data -- and predicted elsewhere: the paper column is a reference, not evidence)\n";
  std::snprintf(line, sizeof line, "  %-8s %12s %12s %11s\n", "group", "model pJ", "paper pJ",
                "deviation");
  os << line;
  for (Group g : kGroups) {
    const double m = r.head_steady_pj[index(g)], p = r.baselines.paper_head_pj[index(g)];
    std::snprintf(line, sizeof line, "  %-8s %12.1f %12.1f %+9.2f %%\n", group_name(g), m, p,
                  deviation_percent(m, p));
    os << line;
  }
  std::snprintf(line, sizeof line, "  %-8s %12.1f %12.1f %+9.2f %%\n", "total",
                r.head_steady_total_pj, r.baselines.paper_head_total_pj,
                deviation_percent(r.head_steady_total_pj, r.baselines.paper_head_total_pj));
  os << line;
  std::snprintf(line, sizeof line,
                "  layer (%d heads): %.2f nJ and %.1f ns per token (paper %.1f nJ, %.0f ns)\n",
                r.spec.model.n_heads, r.layer_energy_nj, r.layer_latency_ns,
                r.baselines.paper_layer_energy_nj, r.baselines.paper_latency_ns);
  os << line;
  std::snprintf(line, sizeof line,
                "  dynamic %.4g pJ, static %.4g pJ over the run; area: head %.3f mm^2, layer "
                "%.2f mm^2, model %.1f mm^2\n",
                r.totals.dynamic_total_pj, r.totals.static_total_pj, r.area.head_mm2,
                r.area.layer_mm2, r.area.model_mm2);
  os << line;
  os << comparison_table(r);
  return os.str();
}

std::string comparison_table(const Report& r) {
  std::ostringstream os;
  char line[320];
  os << "Against other devices, per token, one layer's attention of the simulated shape ("
     << r.shape.label() << "); x = device / this model\n";
  auto row = [&](const std::string& name, double ns, double nj, bool ratios) {
    const std::string e = nj >= 0.0 ? with_unit(nj, "J", -9) : "not measured";
    std::string x;
    if (ratios) {
      x = "  x" + ratio_text(ns / r.layer_latency_ns) + " latency";
      if (nj >= 0.0) x += ", x" + ratio_text(nj / r.layer_energy_nj) + " energy";
    }
    std::snprintf(line, sizeof line, "  %-34s %10s %12s%s\n", name.c_str(),
                  with_unit(ns, "s", -9).c_str(), e.c_str(), x.c_str());
    os << line;
  };
  row("GCA (this model)", r.layer_latency_ns, r.layer_energy_nj, false);
  const bool ratios = r.layer_latency_ns > 0.0 && r.layer_energy_nj > 0.0;
  if (r.comparable) {
    row("GCA (paper)", r.baselines.paper_latency_ns, r.baselines.paper_layer_energy_nj, ratios);
  }
  // Figures of other shapes, named under their shape, shapes in order of appearance.
  std::vector<std::pair<AttentionShape, std::string>> others;
  auto add_other = [&](const AttentionShape& shape, const std::string& name) {
    for (auto& [s, names] : others) {
      if (s == shape) {
        names += ", " + name;
        return;
      }
    }
    others.emplace_back(shape, name);
  };
  if (!r.comparable) add_other(r.baselines.shape, "GCA (paper)");
  for (const auto& g : r.baselines.gpus) {
    if (g.shape == r.shape) {
      row(g.name, g.latency_ns, g.energy_nj, ratios);
    } else {
      add_other(g.shape, g.name);
    }
  }
  for (const auto& [shape, names] : others)
    os << "  not compared, measured on " << shape.label() << ": " << names << "\n";
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// Plots

std::string default_plot_script() {
  return env_or("GCA_POWER_PLOTS_DIR", GCA_POWER_PLOTS_DIR) + "/plot_report.gp";
}

bool png_complete(const std::string& path) {
  // A PNG ends with its IEND chunk: length 0, "IEND", CRC AE 42 60 82. A file cut short by a
  // full disk lacks it.
  static const unsigned char kEnd[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const std::streamoff size = in.tellg();
  if (size < 8 + 12) return false;
  unsigned char tail[12];
  in.seekg(size - 12);
  if (!in.read(reinterpret_cast<char*>(tail), sizeof tail)) return false;
  return std::memcmp(tail, kEnd, sizeof kEnd) == 0;
}

PlotResult render_plots(const std::string& out_dir, const std::string& script) {
  PlotResult res;
  if (!gca::on_path("gnuplot")) {
    res.message =
        "gnuplot not found on PATH: plots not rendered (data files are in " + out_dir + ")";
    return res;
  }
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) {
    res.message = "plot script " + script + " not found: plots not rendered";
    return res;
  }
  // No shell: the folder is gnuplot's working folder and the script one of its arguments.
  const gca::ChildRun run =
      gca::run_program({"gnuplot", fs::absolute(script, ec).string()}, out_dir, "gnuplot.log");
  std::vector<std::string> incomplete;
  for (const char* name :
       {"energy_split.png", "gpu_comparison.png", "energy_per_token.png", "power_windows.png"}) {
    const fs::path p = fs::path(out_dir) / name;
    if (png_complete(p.string())) {
      res.images.push_back(p.string());
    } else {
      incomplete.push_back(name);
      fs::remove(p, ec);  // a plot cut short is not published
    }
  }
  if (run.exit_code != 0 || !incomplete.empty()) {
    res.message =
        "gnuplot failed (" +
        (run.exit_code != 0 ? run.error
                            : incomplete.front() + std::string(" missing or incomplete")) +
        "); see " + (fs::path(out_dir) / "gnuplot.log").string();
    return res;
  }
  res.rendered = true;
  res.message = "plots written: " + std::to_string(res.images.size()) + " PNG files in " + out_dir;
  return res;
}

PlotResult write_reports(const std::string& out_dir, const Report& report,
                         const PowerTracker& tracker, bool plots) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw gca::Error(out_dir, "", "cannot create the output folder: " + ec.message());
  const fs::path d(out_dir);
  write_report_json((d / "report.json").string(), report);
  write_modules_csv((d / "modules.csv").string(), tracker);
  write_plot_data(out_dir, report);
  if (!plots) return PlotResult{false, "plots not requested", {}};
  return render_plots(out_dir);
}

}  // namespace gca::power
