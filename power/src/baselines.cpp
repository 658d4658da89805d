#include "gca/power/baselines.hpp"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"

#ifndef GCA_POWER_DATA_DIR
#define GCA_POWER_DATA_DIR "power/data"
#endif

namespace gca::power {

namespace {

using ojson = nlohmann::ordered_json;

// The value a format string of a baseline file may hold (power/tools/measure_baseline.py).
constexpr const char* kFormat = "gca-tlm.gpu-baselines/1";

std::string key_path(const std::string& where, const char* key) {
  return where.empty() ? key : where + "." + key;
}

const ojson& field(const ojson& j, const char* key, const std::string& file,
                   const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw gca::Error(file, key_path(where, key), "missing");
  return j.at(key);
}

double number(const ojson& j, const char* key, const std::string& file, const std::string& where) {
  const ojson& v = field(j, key, file, where);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    throw gca::Error(file, key_path(where, key), "must be a number");
  return v.get<double>();
}

double positive(const ojson& j, const char* key, const std::string& file,
                const std::string& where) {
  const double x = number(j, key, file, where);
  if (!(x > 0.0)) throw gca::Error(file, key_path(where, key), "must be a number > 0");
  return x;
}

int count(const ojson& j, const char* key, const std::string& file, const std::string& where) {
  const ojson& v = field(j, key, file, where);
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 1000000000) {
    throw gca::Error(file, key_path(where, key), "must be an integer in [1, 1000000000]");
  }
  return static_cast<int>(v.get<long long>());
}

std::string text(const ojson& j, const char* key, const std::string& file,
                 const std::string& where) {
  const ojson& v = field(j, key, file, where);
  if (!v.is_string()) throw gca::Error(file, key_path(where, key), "must be a string");
  return v.get<std::string>();
}

// An optional string: "" when absent or null.
std::string optional_text(const ojson& j, const char* key, const std::string& file,
                          const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return "";
  return text(j, key, file, where);
}

// The one bounded reader and strict parser of JSON inputs (size, nesting, duplicate keys, numbers
// out of range), then the same text in key order.
ojson parse_file(const std::string& path) {
  const std::string content =
      gca::read_input_file(path, gca::limits::kMaxJsonFileBytes, "GPU baseline file");
  gca::parse_json_strict(content, path);
  return ojson::parse(content);
}

// "torch 2.11.0+cu130, cuda 13.0, driver 580.159.04, ...": the versions a measurement names.
std::string software_text(const ojson& m, const std::string& file) {
  if (!m.contains("software") || m.at("software").is_null()) return "";
  const ojson& s = m.at("software");
  if (!s.is_object()) throw gca::Error(file, "measurement.software", "must be an object");
  std::string out;
  for (const auto& [name, value] : s.items()) {
    if (!out.empty()) out += ", ";
    out += name + " " + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

AttentionShape read_shape(const ojson& doc, const std::string& path) {
  const ojson& w = field(doc, "workload", path, "");
  return AttentionShape{count(w, "n_heads", path, "workload"), count(w, "d_head", path, "workload"),
                        count(w, "window", path, "workload")};
}

// The "gpus" list of a file, each entry with the file's shape and measurement.
std::vector<GpuBaseline> read_devices(const ojson& doc, const std::string& path) {
  if (doc.contains("format")) {
    const std::string f = text(doc, "format", path, "");
    if (f != kFormat) throw gca::Error(path, "format", "'" + f + "' (allowed: " + kFormat + ")");
  }
  const AttentionShape shape = read_shape(doc, path);
  GpuBaseline common;
  common.shape = shape;
  common.file = path;
  if (doc.contains("measurement")) {
    const ojson& m = doc.at("measurement");
    if (!m.is_object()) throw gca::Error(path, "measurement", "must be an object");
    common.device = optional_text(m, "device", path, "measurement");
    common.date = optional_text(m, "date", path, "measurement");
    common.method = optional_text(m, "method", path, "measurement");
    common.software = software_text(m, path);
  }
  const ojson& devices = field(doc, "gpus", path, "");
  if (!devices.is_array() || devices.empty())
    throw gca::Error(path, "gpus", "must be a non-empty list");
  std::vector<GpuBaseline> out;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const std::string where = "gpus[" + std::to_string(i) + "]";
    const ojson& d = devices[i];
    GpuBaseline g = common;
    g.name = text(d, "name", path, where);
    if (g.name.empty()) throw gca::Error(path, where + ".name", "must not be empty");
    g.latency_ns = positive(d, "latency_us", path, where) * 1e3;
    if (!field(d, "energy_mj", path, where).is_null()) {  // null: not measured
      g.energy_nj = positive(d, "energy_mj", path, where) * 1e6;
    }
    if (d.contains("energy_above_idle_mj") && !d.at("energy_above_idle_mj").is_null()) {
      const double e = number(d, "energy_above_idle_mj", path, where);
      if (e < 0.0) throw gca::Error(path, where + ".energy_above_idle_mj", "must be >= 0");
      g.energy_above_idle_nj = e * 1e6;
    }
    g.source = text(d, "source", path, where);
    if (d.contains("batch") && !d.at("batch").is_null()) g.batch = count(d, "batch", path, where);
    g.dtype = optional_text(d, "dtype", path, where);
    g.launch = optional_text(d, "launch", path, where);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

std::string AttentionShape::label() const {
  return std::to_string(heads) + (heads == 1 ? " head" : " heads") + ", d " +
         std::to_string(d_head) + ", window " + std::to_string(window);
}

std::string default_baselines_path() {
  return std::string(GCA_POWER_DATA_DIR) + "/gpu_baselines.json";
}

Baselines load_baselines(const std::string& path) {
  const ojson doc = parse_file(path);
  Baselines b;
  b.file = path;
  b.workload = text(field(doc, "workload", path, ""), "description", path, "workload");
  b.shape = read_shape(doc, path);
  b.gpus = read_devices(doc, path);
  const ojson& p = field(doc, "paper_accelerator", path, "");
  b.paper_latency_ns = positive(p, "latency_ns", path, "paper_accelerator");
  b.paper_layer_energy_nj = positive(p, "energy_per_layer_nj", path, "paper_accelerator");
  const ojson& split = field(p, "per_head_per_token_pj", path, "paper_accelerator");
  for (Group g : kGroups) {
    b.paper_head_pj[index(g)] =
        number(split, group_name(g), path, "paper_accelerator.per_head_per_token_pj");
  }
  b.paper_head_total_pj = number(split, "total", path, "paper_accelerator.per_head_per_token_pj");
  b.paper_source = text(p, "source", path, "paper_accelerator");
  return b;
}

std::vector<GpuBaseline> load_device_baselines(const std::string& path) {
  return read_devices(parse_file(path), path);
}

void add_baseline_files(Baselines& b, const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    std::vector<GpuBaseline> more = load_device_baselines(path);
    b.gpus.insert(b.gpus.end(), more.begin(), more.end());
    b.added_files.push_back(path);
  }
}

}  // namespace gca::power
