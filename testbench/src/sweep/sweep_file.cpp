#include "gca/tb/sweep_file.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/params.hpp"

#ifndef GCA_SCENARIOS_DIR
#define GCA_SCENARIOS_DIR "testbench/scenarios"
#endif

namespace gca::tb {
namespace {

// Keeps the keys in the order the user wrote them: that order is the order of the columns.
using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr std::size_t kMaxPoints = 100000;

const std::set<std::string>& scenario_sections() {
  static const std::set<std::string> s{"workload", "stimulus", "trace",
                                       "check",    "report",   "hardware"};
  return s;
}

bool is_hardware_key(const std::string& key) {
  for (const auto& p : spec::param_catalog())
    if (p.key == key) return true;
  return false;
}

void check_key(const std::string& file, const std::string& where, const std::string& key) {
  if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_.") != std::string::npos)
    throw Error(file, where + "." + key, "a key is made of letters, digits, '_' and '.'");
  if (key == "tokens")
    throw Error(file, where + ".tokens", "the token count is the sweep's \"tokens\", not a key");
  if (is_scenario_key(key)) {
    if (key.rfind("hardware.", 0) == 0 && key != "hardware.spec")
      throw Error(file, where + "." + key,
                  "hardware parameters are swept by their own name (e.g. \"window\"); of the "
                  "scenario's hardware section only hardware.spec can be swept");
    return;
  }
  if (!is_hardware_key(key))
    throw Error(file, where + "." + key,
                "unknown key (allowed: a hardware parameter listed by `gca-sim spec`, or a "
                "scenario key such as workload.host_ns_per_layer or stimulus.seed)");
}

SweepValue make_value(const std::string& file, const std::string& where, const std::string& key,
                      const ojson& v) {
  SweepValue out;
  out.key = key;
  if (v.is_number()) {
    out.text = v.dump();
    out.is_number = true;
  } else if (v.is_string() && !v.get<std::string>().empty()) {
    out.text = v.get<std::string>();
    out.is_number = false;
    if (out.text.find_first_of("\n\r\"") != std::string::npos)
      throw Error(file, where, "a string value holds no quotes or line breaks");
  } else {
    throw Error(file, where, "must be a number or a non-empty string");
  }
  return out;
}

// "tokens": 320, or "KEY+N" / "KEY" with KEY a numeric key of the point.
long point_tokens(const std::string& file, const ojson& spec, const std::vector<SweepValue>& vals) {
  if (spec.is_number_integer() && spec.get<long>() >= 1) return spec.get<long>();
  const char* allowed =
      "must be an integer >= 1, or \"KEY+N\" with KEY a swept or set numeric key (e.g. "
      "\"window+64\")";
  if (!spec.is_string()) throw Error(file, "tokens", allowed);
  const std::string text = spec.get<std::string>();
  const auto plus = text.find('+');
  const std::string key = text.substr(0, plus);
  long extra = 0;
  if (plus != std::string::npos) {
    const std::string n = text.substr(plus + 1);
    char* end = nullptr;
    extra = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0') throw Error(file, "tokens", allowed);
  }
  for (const auto& v : vals) {
    if (v.key != key) continue;
    if (!v.is_number) throw Error(file, "tokens", allowed);
    const double t = std::strtod(v.text.c_str(), nullptr) + double(extra);
    if (t < 1 || t != double(long(t)))
      throw Error(file, "tokens",
                  "'" + text + "' gives " + v.text + " + " + std::to_string(extra) +
                      ", not an integer >= 1");
    return long(t);
  }
  throw Error(file, "tokens", allowed);
}

std::vector<std::vector<SweepValue>> expand_grid(const std::string& file, const ojson& grid,
                                                 std::vector<std::string>& keys) {
  if (!grid.is_object() || grid.empty())
    throw Error(file, "grid", "must be an object of \"key\": [values, ...]");
  std::vector<std::vector<SweepValue>> axes;
  std::size_t total = 1;
  for (auto it = grid.begin(); it != grid.end(); ++it) {
    check_key(file, "grid", it.key());
    if (!it->is_array() || it->empty())
      throw Error(file, "grid." + it.key(), "must be a non-empty list of values");
    keys.push_back(it.key());
    std::vector<SweepValue> axis;
    for (const auto& v : *it) axis.push_back(make_value(file, "grid." + it.key(), it.key(), v));
    total *= axis.size();
    if (total > kMaxPoints)
      throw Error(file, "grid", "more than " + std::to_string(kMaxPoints) + " points");
    axes.push_back(std::move(axis));
  }
  // Product with the last key varying fastest.
  std::vector<std::vector<SweepValue>> points(1);
  for (const auto& axis : axes) {
    std::vector<std::vector<SweepValue>> next;
    for (const auto& p : points) {
      for (const auto& v : axis) {
        next.push_back(p);
        next.back().push_back(v);
      }
    }
    points.swap(next);
  }
  return points;
}

std::vector<std::vector<SweepValue>> expand_points(const std::string& file, const ojson& list,
                                                   std::vector<std::string>& keys) {
  if (!list.is_array() || list.empty() || list.size() > kMaxPoints)
    throw Error(file, "points", "must be a non-empty list of objects {\"key\": value, ...}");
  std::vector<std::vector<SweepValue>> points;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "points[" + std::to_string(i) + "]";
    const ojson& p = list[i];
    if (!p.is_object() || p.empty()) throw Error(file, where, "must be a non-empty object");
    std::vector<std::string> these;
    std::vector<SweepValue> vals;
    for (auto it = p.begin(); it != p.end(); ++it) {
      check_key(file, where, it.key());
      these.push_back(it.key());
      vals.push_back(make_value(file, where + "." + it.key(), it.key(), *it));
    }
    if (i == 0) keys = these;
    if (these != keys)
      throw Error(file, where, "must name the same keys in the same order as points[0]");
    points.push_back(std::move(vals));
  }
  return points;
}

SlurmSettings load_slurm(const std::string& file, const ojson& s) {
  SlurmSettings out;
  if (!s.is_object()) throw Error(file, "slurm", "must be an object");
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string k = it.key(), where = "slurm." + k;
    if (k == "cpus_per_point" || k == "mem_mb") {
      if (!it->is_number_integer() || it->get<long>() < (k == "mem_mb" ? 0 : 1) ||
          it->get<long>() > 1000000)
        throw Error(
            file, where,
            "must be an integer in [" + std::string(k == "mem_mb" ? "0" : "1") + ", 1000000]");
      if (k == "mem_mb")
        out.mem_mb = it->get<long>();
      else
        out.cpus_per_point = static_cast<int>(it->get<long>());
    } else if (k == "time" || k == "partition" || k == "account") {
      if (!it->is_string() || it->get<std::string>().find_first_of(" \n\t'\"") != std::string::npos)
        throw Error(file, where, "must be a string without spaces or quotes");
      (k == "time"        ? out.time
       : k == "partition" ? out.partition
                          : out.account) = it->get<std::string>();
    } else {
      throw Error(file, where,
                  "unknown key (allowed: cpus_per_point, mem_mb, time, partition, account)");
    }
  }
  return out;
}

std::string resolve_scenario(const std::string& file, const std::string& name) {
  fs::path p = name.find('/') == std::string::npos ? fs::path(default_scenarios_dir()) / name
                                                   : fs::path(file).parent_path() / name;
  if (fs::path(name).is_absolute()) p = name;
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw Error(file, "scenario",
                "'" + name + "' is " + (fs::is_directory(st) ? "a folder" : "not a regular file") +
                    " (allowed: a scenario file)");
  if (!fs::is_regular_file(st))
    throw Error(file, "scenario",
                "'" + name + "' not found (looked for " + p.string() + "; a bare name is one of " +
                    default_scenarios_dir() + ")");
  return fs::absolute(p).lexically_normal().string();
}

}  // namespace

std::string default_scenarios_dir() {
  if (const char* env = std::getenv("GCA_SCENARIOS_DIR")) return env;
  return GCA_SCENARIOS_DIR;
}

bool is_scenario_key(const std::string& key) {
  const auto dot = key.find('.');
  return dot != std::string::npos && scenario_sections().count(key.substr(0, dot)) > 0;
}

// "monte_carlo": {"chips": N, "top_k": K}: each point also runs N chips (gca-sim run
// --mc-chips), and the Monte Carlo figures become columns.
void load_monte_carlo(const std::string& path, const ojson& mc, SweepFile& sw) {
  if (!mc.is_object()) throw Error(path, "monte_carlo", "must be an object {\"chips\": N}");
  for (auto it = mc.begin(); it != mc.end(); ++it)
    if (it.key() != "chips" && it.key() != "top_k")
      throw Error(path, "monte_carlo." + it.key(), "unknown key (allowed: chips, top_k)");
  auto integer = [&](const char* key, int lo, int hi) {
    const ojson& v = mc[key];
    if (!v.is_number_integer() || v.get<long>() < lo || v.get<long>() > hi)
      throw Error(path, std::string("monte_carlo.") + key,
                  "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return static_cast<int>(v.get<long>());
  };
  if (!mc.contains("chips")) throw Error(path, "monte_carlo.chips", "missing: chips per point");
  sw.mc_chips = integer("chips", 1, 100000);
  if (mc.contains("top_k")) sw.mc_top_k = integer("top_k", 1, 1 << 20);
}

SweepFile load_sweep(const std::string& path) {
  // The strict reader and parser of every JSON input (size, nesting, duplicate keys, overflow);
  // then the same text again in key order, which is the order of the columns.
  const std::string text = read_input_file(path, limits::kMaxJsonFileBytes, "sweep file");
  parse_json_strict(text, path);
  const ojson doc = ojson::parse(text);
  if (!doc.is_object()) throw Error(path, "", "must be a JSON object");
  static const std::set<std::string> allowed{"name",  "description", "scenario", "tokens",
                                             "grid",  "points",      "set",      "point_plots",
                                             "slurm", "monte_carlo"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!allowed.count(it.key()))
      throw Error(path, it.key(),
                  "unknown key (allowed: name, description, scenario, tokens, grid, points, set, "
                  "point_plots, slurm, monte_carlo)");
  }
  SweepFile sw;
  sw.file = path;
  sw.name = fs::path(path).stem().string();
  if (doc.contains("name")) {
    const auto& n = doc["name"];
    if (!n.is_string() || n.get<std::string>().empty() ||
        n.get<std::string>().find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "0123456789_-.") != std::string::npos)
      throw Error(path, "name", "must be a non-empty string of letters, digits, '_', '-', '.'");
    sw.name = n.get<std::string>();
  }
  if (doc.contains("description")) {
    if (!doc["description"].is_string()) throw Error(path, "description", "must be a string");
    sw.description = doc["description"].get<std::string>();
  }
  if (!doc.contains("scenario") || !doc["scenario"].is_string())
    throw Error(path, "scenario", "missing: the base scenario (e.g. \"gpt2_layer.json\")");
  sw.scenario_path = resolve_scenario(path, doc["scenario"].get<std::string>());
  if (doc.contains("grid") == doc.contains("points"))
    throw Error(path, "grid", "give either \"grid\" or \"points\", not both and not neither");
  if (doc.contains("set")) {
    const ojson& set = doc["set"];
    if (!set.is_object()) throw Error(path, "set", "must be an object of \"key\": value");
    for (auto it = set.begin(); it != set.end(); ++it) {
      check_key(path, "set", it.key());
      sw.fixed.push_back(make_value(path, "set." + it.key(), it.key(), *it));
    }
  }
  if (doc.contains("point_plots")) {
    if (!doc["point_plots"].is_boolean()) throw Error(path, "point_plots", "must be true or false");
    sw.point_plots = doc["point_plots"].get<bool>();
  }
  if (doc.contains("slurm")) sw.slurm = load_slurm(path, doc["slurm"]);
  if (doc.contains("monte_carlo")) load_monte_carlo(path, doc["monte_carlo"], sw);
  auto values = doc.contains("grid") ? expand_grid(path, doc["grid"], sw.keys)
                                     : expand_points(path, doc["points"], sw.keys);
  for (const auto& k : sw.keys) {
    for (const auto& f : sw.fixed)
      if (f.key == k) throw Error(path, "set." + k, "is also swept");
  }
  if (!doc.contains("tokens")) throw Error(path, "tokens", "missing: tokens per point");
  const std::size_t width = std::max<std::size_t>(3, std::to_string(values.size() - 1).size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    SweepPoint p;
    p.index = static_cast<int>(i);
    const std::string n = std::to_string(i);
    p.id = "p" + std::string(width - n.size(), '0') + n;
    std::vector<SweepValue> all = values[i];
    all.insert(all.end(), sw.fixed.begin(), sw.fixed.end());
    p.tokens = point_tokens(path, doc["tokens"], all);
    p.values = std::move(values[i]);
    sw.points.push_back(std::move(p));
  }
  return sw;
}

std::vector<std::string> point_run_args(const SweepFile& sweep, const SweepPoint& point,
                                        const std::string& point_dir) {
  std::vector<std::string> args{
      "run",   sweep.scenario_path, "--tokens", std::to_string(point.tokens),
      "--out", point_dir + "/run",  "--quiet"};
  if (!sweep.point_plots) args.push_back("--no-plots");
  if (sweep.seed >= 0) {
    args.push_back("--seed");
    args.push_back(std::to_string(sweep.seed));
  }
  if (sweep.mc_chips > 0) {
    args.push_back("--mc-chips");
    args.push_back(std::to_string(sweep.mc_chips));
    if (sweep.mc_top_k > 0) {
      args.push_back("--mc-top-k");
      args.push_back(std::to_string(sweep.mc_top_k));
    }
  }
  auto add = [&](const SweepValue& v) {
    if (is_scenario_key(v.key)) {
      args.push_back("--scenario-set");
      // Strings go as JSON strings (escaped) so that e.g. "1e3" or "a\\u0041" stays the text.
      args.push_back(v.key + "=" + (v.is_number ? v.text : ojson(v.text).dump()));
    } else {
      args.push_back("--set");
      args.push_back(v.key + "=" + v.text);
    }
  };
  for (const auto& v : sweep.fixed) add(v);
  for (const auto& v : point.values) add(v);
  return args;
}

std::vector<const SweepPoint*> shard_points(const SweepFile& sweep, int shard, int shards) {
  std::vector<const SweepPoint*> out;
  for (const auto& p : sweep.points)
    if (p.index % shards == shard) out.push_back(&p);
  return out;
}

std::string point_label(const SweepPoint& point) {
  std::string s;
  for (const auto& v : point.values) s += (s.empty() ? "" : " ") + v.key + "=" + v.text;
  return s;
}

}  // namespace gca::tb
