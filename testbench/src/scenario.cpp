#include "gca/tb/scenario.hpp"
#include "gca/tb/engine/workload.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"

#ifndef GCA_SHARED_DATA_DIR
#define GCA_SHARED_DATA_DIR "../shared/data"
#endif

namespace gca::tb {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Reads the members of one JSON object, rejecting unknown keys.
class Section {
 public:
  Section(const json& node, std::string file, std::string prefix)
      : node_(node), file_(std::move(file)), prefix_(std::move(prefix)) {
    if (!node_.is_object()) throw Error(file_, prefix_, "must be a JSON object");
  }
  void allow(std::initializer_list<const char*> keys) {
    allow(std::vector<std::string>(keys.begin(), keys.end()));
  }
  void allow(const std::vector<std::string>& keys) {
    std::set<std::string> ok(keys.begin(), keys.end());
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (!ok.count(it.key())) {
        std::string list;
        for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
        throw Error(file_, key(it.key()), "unknown key (allowed: " + list + ")");
      }
    }
  }
  bool has(const char* k) const { return node_.contains(k); }
  const json& at(const char* k) const { return node_.at(k); }
  std::string key(const std::string& k) const { return prefix_.empty() ? k : prefix_ + "." + k; }
  std::string str(const char* k, const std::string& def) const {
    if (!has(k)) return def;
    if (!node_[k].is_string()) throw Error(file_, key(k), "must be a string");
    return node_[k].get<std::string>();
  }
  double num(const char* k, double def, double lo, double hi) const {
    if (!has(k)) return def;
    if (!node_[k].is_number())
      throw Error(file_, key(k), "must be a number in [" + fmt(lo) + ", " + fmt(hi) + "]");
    double v = node_[k].get<double>();
    if (!(v >= lo && v <= hi)) {
      throw Error(file_, key(k),
                  fmt(v) + " is out of range (allowed: [" + fmt(lo) + ", " + fmt(hi) + "])");
    }
    return v;
  }
  long integer(const char* k, long def, long lo, long hi) const {
    double v = num(k, double(def), double(lo), double(hi));
    if (v != double(long(v))) throw Error(file_, key(k), fmt(v) + " is not an integer");
    return long(v);
  }
  bool flag(const char* k, bool def) const {
    if (!has(k)) return def;
    if (!node_[k].is_boolean()) throw Error(file_, key(k), "must be true or false");
    return node_[k].get<bool>();
  }
  std::vector<int> ints(const char* k, std::vector<int> def) const {
    if (!has(k)) return def;
    if (!node_[k].is_array()) throw Error(file_, key(k), "must be a list of integers >= 0");
    std::vector<int> out;
    const std::string allowed = "a list of integers in [0, " + std::to_string(kMaxIndex) + "]";
    for (const auto& x : node_[k]) {
      if (!x.is_number_integer()) throw Error(file_, key(k), "must be " + allowed);
      if (x.is_number_unsigned() ? x.get<std::uint64_t>() > std::uint64_t(kMaxIndex)
                                 : x.get<std::int64_t>() < 0 || x.get<std::int64_t>() > kMaxIndex) {
        throw Error(file_, key(k), x.dump() + " is out of range (allowed: " + allowed + ")");
      }
      out.push_back(x.get<int>());
    }
    return out;
  }
  static constexpr std::int64_t kMaxIndex = 1 << 20;  // beyond any layer, head or sub-tile
  static std::string fmt(double x) {
    std::ostringstream os;
    os.precision(10);
    os << x;
    return os.str();
  }

 private:
  const json& node_;
  std::string file_, prefix_;
};

std::string expand(std::string s, const fs::path& base) {
  const std::string var = "${data}";
  if (auto p = s.find(var); p != std::string::npos) s.replace(p, var.size(), shared_data_dir());
  fs::path path(s);
  if (path.is_relative()) path = base / path;
  return path.lexically_normal().string();
}

// One "dotted.key=value" of --scenario-set into the scenario's JSON.
void apply_override(json& doc, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("", "--scenario-set",
                "'" + text + "' is not key=value (e.g. workload.mode=prefill)");
  const std::string key = text.substr(0, eq), value_text = text.substr(eq + 1);
  // JSON text goes through the one strict parser (nesting, duplicate keys, overflow); any
  // other text is a string.
  const json value = json::accept(value_text)
                         ? parse_json_strict(value_text, "--scenario-set " + key)
                         : json(value_text);
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  // hardware.set holds dotted parameter names as single keys.
  if (parts.size() > 2 && parts[0] == "hardware" && parts[1] == "set") {
    parts = {"hardware", "set", key.substr(std::string("hardware.set.").size())};
  }
  json* node = &doc;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    json& child = (*node)[parts[i]];
    if (child.is_null()) child = json::object();
    if (!child.is_object() || parts[i].empty())
      throw Error("", "--scenario-set",
                  key + ": " + parts[i] + " is not a section of the scenario");
    node = &child;
  }
  if (parts.back().empty()) throw Error("", "--scenario-set", "'" + key + "' is not a key");
  (*node)[parts.back()] = value;
}

// The name becomes the default output folder out/<name>: one plain path component.
void check_name(const std::string& name, const std::string& file) {
  const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
  if (name.empty() || name.size() > limits::kMaxNameLength || !plain || name[0] == '.') {
    throw Error(file, "name",
                "'" + one_line_text(name, 60) +
                    "' is not a plain name (allowed: 1 to 100 of A-Z a-z 0-9 _ - ., not starting "
                    "with '.')");
  }
}

}  // namespace

std::vector<spec::Override> spec_overrides(const Scenario& sc) {
  std::vector<spec::Override> all;
  for (const auto& o : sc.overrides) {
    const bool from_file =
        std::find(sc.file_overrides.begin(), sc.file_overrides.end(), o) != sc.file_overrides.end();
    all.push_back(from_file ? spec::Override{o, sc.file, "hardware.set."} : spec::Override{o});
  }
  return all;
}

namespace {

bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// Every string of `node` that names a regular file relative to `base` (or absolute).
void named_files(const json& node, const fs::path& base, std::vector<std::string>& out) {
  if (node.is_string()) {
    const std::string s = node.get<std::string>();
    if (s.empty() || s.size() > 4096) return;
    const std::string p = expand(s, base);
    if (is_regular_file(p)) out.push_back(p);
  } else if (node.is_structured()) {
    for (const auto& child : node) named_files(child, base, out);
  }
}

}  // namespace

std::vector<std::string> scenario_input_files(const Scenario& sc) {
  std::vector<std::string> files = spec::spec_file_chain(sc.spec_path);
  for (const std::string* p :
       {&sc.stimulus.q_path, &sc.stimulus.k_path, &sc.stimulus.v_path, &sc.expect.out_path})
    if (!p->empty()) files.push_back(*p);
  std::vector<std::string> named;
  named_files(sc.workload_section, fs::path(sc.file).parent_path(), named);
  for (const auto& f : named) {
    files.push_back(f);
    if (fs::path(f).extension() != ".json") continue;
    try {  // one level down: the files a manifest names, relative to it
      const json doc =
          parse_json_strict(read_input_file(f, limits::kMaxJsonFileBytes, "workload file"), f);
      named_files(doc, fs::path(f).parent_path(), files);
    } catch (const Error&) {
    }
  }
  std::vector<std::string> unique;
  for (const auto& f : files)
    if (std::find(unique.begin(), unique.end(), f) == unique.end()) unique.push_back(f);
  return unique;
}

std::string shared_data_dir() {
  if (const char* env = std::getenv("GCA_DATA_DIR")) return env;
  return GCA_SHARED_DATA_DIR;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  Scenario sc;
  sc.file = path;
  sc.json_text = read_input_file(path, limits::kMaxJsonFileBytes, "scenario file");
  json doc = parse_json_strict(sc.json_text, path);
  if (!overrides.empty()) {
    if (!doc.is_object()) throw Error(path, "", "must be a JSON object");
    for (const auto& o : overrides) apply_override(doc, o);
    sc.json_text = doc.dump(2) + "\n";
  }
  const fs::path base = fs::path(path).parent_path();
  Section top(doc, path, "");
  top.allow({"name", "description", "hardware", "workload", "stimulus", "trace", "check", "report",
             "fault"});
  sc.name = top.str("name", fs::path(path).stem().string());
  check_name(sc.name, path);
  sc.description = top.str("description", "");

  sc.spec_path = spec::default_spec_path();
  if (top.has("hardware")) {
    Section hw(top.at("hardware"), path, "hardware");
    hw.allow({"spec", "set"});
    if (hw.has("spec")) {
      std::string s = hw.str("spec", "");
      // A bare file name means one of the shipped parameter files.
      sc.spec_path =
          s.find('/') == std::string::npos ? spec::default_params_dir() + "/" + s : expand(s, base);
    }
    if (hw.has("set")) {
      const json& set = hw.at("set");
      if (!set.is_object())
        throw Error(path, "hardware.set", "must be an object of \"key\": number");
      for (auto it = set.begin(); it != set.end(); ++it) {
        if (it->is_string()) {  // a named choice, e.g. "host_link.format": "f16"
          sc.overrides.push_back(it.key() + "=" + it->get<std::string>());
          sc.file_overrides.push_back(sc.overrides.back());
          continue;
        }
        if (!it->is_number())
          throw Error(path, "hardware.set." + it.key(),
                      "must be a number (or a name for a choice)");
        // The number as written (shortest text that reads back to the same double).
        sc.overrides.push_back(it.key() + "=" + it->dump());
        sc.file_overrides.push_back(sc.overrides.back());
      }
    }
  }
  if (top.has("workload")) {
    Section w(top.at("workload"), path, "workload");
    sc.workload_section = top.at("workload");
    sc.workload_kind = w.str("kind", "synthetic");
    std::vector<std::string> keys{"kind",     "mode",       "tokens",     "host_ns_per_layer",
                                  "protocol", "quantum_ns", "completion", "poll_ns"};
    for (const auto& k : find_workload_kind(sc.workload_kind, path).keys) keys.push_back(k);
    w.allow(keys);
    std::string mode = w.str("mode", "decode");
    if (mode == "decode") {
      sc.host.workload = tlm::Workload::decode;
    } else if (mode == "prefill") {
      sc.host.workload = tlm::Workload::prefill;
    } else {
      throw Error(path, "workload.mode", "'" + mode + "' is not a mode (allowed: decode, prefill)");
    }
    sc.host.tokens = w.integer("tokens", 100, 1, 100000000);
    sc.host.host_ns_per_layer = w.num("host_ns_per_layer", 0.0, 0.0, 1e9);
    if (sc.host.host_ns_per_layer > 0 && sc.host.host_ns_per_layer < limits::kTimeResolutionNs) {
      throw Error(path, "workload.host_ns_per_layer",
                  Section::fmt(sc.host.host_ns_per_layer) +
                      " ns is below the time resolution (allowed: 0, or 0.001 to 1e9 ns)");
    }
    sc.host.quantum_ns = w.num("quantum_ns", 1000.0, 1.0, 1e12);
    std::string proto = w.str("protocol", "lt");
    if (proto == "lt") {
      sc.host.protocol = tlm::Protocol::loosely_timed;
    } else if (proto == "at") {
      sc.host.protocol = tlm::Protocol::approximately_timed;
    } else {
      throw Error(path, "workload.protocol", "'" + proto + "' is not a protocol (allowed: lt, at)");
    }
    const std::string completion = w.str("completion", "interrupt");
    if (completion == "interrupt") {
      sc.host.completion = tlm::Completion::interrupt;
    } else if (completion == "poll") {
      sc.host.completion = tlm::Completion::poll;
    } else {
      throw Error(
          path, "workload.completion",
          "'" + completion + "' is not a way to learn of results (allowed: interrupt, poll)");
    }
    sc.host.poll_ns = w.num("poll_ns", 5.0, 1e-3, 1e9);
  }
  if (top.has("stimulus")) {
    Section s(top.at("stimulus"), path, "stimulus");
    s.allow({"kind", "seed", "q_range", "kv_range", "q", "k", "v", "case"});
    std::string kind = s.str("kind", "uniform");
    sc.stimulus.seed = static_cast<std::uint64_t>(s.integer("seed", 1, 0, 1L << 53));
    if (kind == "uniform") {
      auto range = [&](const char* k, double& lo, double& hi) {
        if (!s.has(k)) return;
        const json& r = s.at(k);
        if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number() ||
            !(r[0].get<double>() <= r[1].get<double>())) {
          throw Error(path, s.key(k), "must be [lo, hi] with lo <= hi");
        }
        lo = r[0].get<double>();
        hi = r[1].get<double>();
      };
      range("q_range", sc.stimulus.q_lo, sc.stimulus.q_hi);
      range("kv_range", sc.stimulus.kv_lo, sc.stimulus.kv_hi);
    } else if (kind == "npy" || kind == "heads") {
      sc.stimulus.kind = kind == "npy" ? StimulusConfig::Kind::npy : StimulusConfig::Kind::heads;
      for (const char* k : {"q", "k", "v"}) {
        if (!s.has(k)) throw Error(path, s.key(k), "missing: path of a .npy file");
      }
      sc.stimulus.q_path = expand(s.str("q", ""), base);
      sc.stimulus.k_path = expand(s.str("k", ""), base);
      sc.stimulus.v_path = expand(s.str("v", ""), base);
      sc.stimulus.npy_case = static_cast<int>(s.integer("case", -1, -1, 1 << 20));
      if (kind == "heads" && s.has("case")) {
        throw Error(path, s.key("case"), "only for kind npy (heads files hold [L, H, T, d])");
      }
    } else {
      throw Error(path, "stimulus.kind",
                  "'" + kind + "' is not a stimulus (allowed: uniform, npy, heads)");
    }
  }
  if (top.has("trace")) {
    Section t(top.at("trace"), path, "trace");
    t.allow({"layers", "heads", "subtiles", "columns"});
    sc.trace.layers = t.ints("layers", sc.trace.layers);
    sc.trace.heads = t.ints("heads", sc.trace.heads);
    sc.trace.subtiles = t.ints("subtiles", sc.trace.subtiles);
    sc.trace.columns = static_cast<int>(t.integer("columns", 4, 0, 4096));
  }
  if (top.has("check")) {
    Section c(top.at("check"), path, "check");
    c.allow({"against_oracle", "oracle_every", "expect_out", "expect_case", "expect_layer",
             "expect_head", "max_rel_l2"});
    sc.check_against_oracle = c.flag("against_oracle", true);
    sc.oracle_every = c.integer("oracle_every", 0, 0, 1L << 40);
    if (c.has("expect_out")) sc.expect.out_path = expand(c.str("expect_out", ""), base);
    sc.expect.out_case = static_cast<int>(c.integer("expect_case", -1, -1, 1 << 20));
    sc.expect.layer = static_cast<int>(c.integer("expect_layer", 0, 0, 1 << 20));
    sc.expect.head = static_cast<int>(c.integer("expect_head", 0, 0, 1 << 20));
    sc.expect.max_rel_l2 = c.num("max_rel_l2", 1e-2, 0.0, 1.0);
  }
  if (top.has("fault")) {
    Section f(top.at("fault"), path, "fault");
    f.allow({"layer", "head", "token", "feature", "delta"});
    sc.fault.layer = static_cast<int>(f.integer("layer", 0, 0, 1 << 20));
    sc.fault.head = static_cast<int>(f.integer("head", 0, 0, 1 << 20));
    sc.fault.injected.token = f.integer("token", 0, 0, 1L << 40);
    sc.fault.injected.feature = static_cast<int>(f.integer("feature", 0, 0, 1 << 20));
    sc.fault.injected.delta = f.num("delta", 0.0, -1e9, 1e9);
  }
  if (top.has("report")) {
    Section r(top.at("report"), path, "report");
    r.allow({"power_window_ns", "plots"});
    sc.power_window_ns = r.num("power_window_ns", 1000.0, 1e-3, 1e12);
    sc.plots = r.flag("plots", true);
  }
  configure_workload(sc);
  return sc;
}

}  // namespace gca::tb
