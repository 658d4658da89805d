#include "gca/spec/params.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/technology.hpp"

#ifndef GCA_PARAMS_DIR
#define GCA_PARAMS_DIR "rtl_spec/params"
#endif

namespace gca::spec {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr double kInf = std::numeric_limits<double>::infinity();
// Upper bounds that keep sizes sane for a simulation on one machine; they are
// validation limits, not hardware facts.
constexpr double kMaxWindow = 1 << 20;
constexpr double kMaxArrayDim = 4096;
constexpr double kMaxLevels = 1 << 16;
constexpr double kMaxSeed = 2147483647;  // seeds are ints

struct Field {
  ParamInfo info;
  std::function<double&(HardwareSpec&)> real;  // set for real-valued keys
  std::function<int&(HardwareSpec&)> integer;  // set for integer keys
};

Field int_field(const char* key, double min, double max, const char* unit,
                std::function<int&(HardwareSpec&)> ref) {
  Field f;
  f.info = {key, true, min, max, false, unit, {}};
  f.integer = std::move(ref);
  return f;
}

Field real_field(const char* key, double min, double max, bool min_exclusive, const char* unit,
                 std::function<double&(HardwareSpec&)> ref) {
  Field f;
  f.info = {key, false, min, max, min_exclusive, unit, {}};
  f.real = std::move(ref);
  return f;
}

const std::vector<Field>& fields() {
  static const std::vector<Field> all = [] {
    std::vector<Field> v;
    v.push_back(int_field("window", 1, kMaxWindow, "tokens",
                          [](HardwareSpec& s) -> int& { return s.window; }));
    v.push_back(int_field("array.rows", 1, kMaxArrayDim, "cells",
                          [](HardwareSpec& s) -> int& { return s.array.rows; }));
    v.push_back(int_field("array.cols", 1, kMaxArrayDim, "cells",
                          [](HardwareSpec& s) -> int& { return s.array.cols; }));
    v.push_back(int_field("model.n_layers", 1, 1024, "layers",
                          [](HardwareSpec& s) -> int& { return s.model.n_layers; }));
    v.push_back(int_field("model.n_heads", 1, 1024, "heads per layer",
                          [](HardwareSpec& s) -> int& { return s.model.n_heads; }));
    v.push_back(int_field("model.d_head", 1, kMaxArrayDim, "features",
                          [](HardwareSpec& s) -> int& { return s.model.d_head; }));
    v.push_back(int_field("quant.q_levels", 0, kMaxLevels, "levels",
                          [](HardwareSpec& s) -> int& { return s.quant.q_levels; }));
    v.push_back(int_field("quant.kv_levels", 0, kMaxLevels, "levels",
                          [](HardwareSpec& s) -> int& { return s.quant.kv_levels; }));
    v.push_back(int_field("quant.out_levels", 0, kMaxLevels, "levels",
                          [](HardwareSpec& s) -> int& { return s.quant.out_levels; }));
    v.push_back(real_field("gain_cell.v_min_v", 0, 10, false, "V",
                           [](HardwareSpec& s) -> double& { return s.gain_cell.v_min_v; }));
    v.push_back(real_field("gain_cell.v_max_v", 0, 10, true, "V",
                           [](HardwareSpec& s) -> double& { return s.gain_cell.v_max_v; }));
    v.push_back(real_field("gain_cell.w_center_v", 0, 10, false, "V",
                           [](HardwareSpec& s) -> double& { return s.gain_cell.w_center_v; }));
    v.push_back(real_field("gain_cell.v_in_v", 0, 10, true, "V",
                           [](HardwareSpec& s) -> double& { return s.gain_cell.v_in_v; }));
    for (int i = 0; i <= 3; ++i) {
      for (int j = 0; i + j <= 3; ++j) {
        static const char* units[] = {"1", "1/V", "1/V^2", "1/V^3"};
        std::string key = "gain_cell.c" + std::to_string(i) + std::to_string(j);
        Field f;
        f.info = {key, false, -1e6, 1e6, false, units[i + j], {}};
        f.real = [i, j](HardwareSpec& s) -> double& { return s.gain_cell.c[i][j]; };
        v.push_back(std::move(f));
      }
    }
    v.push_back(real_field("retention.tau_ms", 0, kInf, false, "ms",
                           [](HardwareSpec& s) -> double& { return s.retention.tau_ms; }));
    v.push_back(
        real_field("retention.tau_temperature_c", -55, 150, false, "C",
                   [](HardwareSpec& s) -> double& { return s.retention.tau_temperature_c; }));
    v.push_back(real_field("retention.activation_ev", 0, 3, false, "eV",
                           [](HardwareSpec& s) -> double& { return s.retention.activation_ev; }));
    v.push_back(int_field("retention.refresh", 0, 1, "policy",
                          [](HardwareSpec& s) -> int& { return s.retention.refresh; }));
    v.push_back(
        real_field("retention.refresh_threshold", 0, 1, true, "1",
                   [](HardwareSpec& s) -> double& { return s.retention.refresh_threshold; }));
    v.push_back(int_field("variation.chip_seed", 0, kMaxSeed, "seed",
                          [](HardwareSpec& s) -> int& { return s.variation.chip_seed; }));
    v.push_back(real_field("variation.cell_gain_sigma", 0, 1, false, "1",
                           [](HardwareSpec& s) -> double& { return s.variation.cell_gain_sigma; }));
    v.push_back(
        real_field("variation.cell_offset_sigma_v", 0, 0.45, false, "V",
                   [](HardwareSpec& s) -> double& { return s.variation.cell_offset_sigma_v; }));
    v.push_back(
        real_field("variation.ctp_offset_sigma", 0, 1, false, "1",
                   [](HardwareSpec& s) -> double& { return s.variation.ctp_offset_sigma; }));
    v.push_back(int_field("noise.seed", 0, kMaxSeed, "seed",
                          [](HardwareSpec& s) -> int& { return s.noise.seed; }));
    v.push_back(real_field("noise.read_sigma", 0, 1, false, "1",
                           [](HardwareSpec& s) -> double& { return s.noise.read_sigma; }));
    v.push_back(real_field("noise.write_sigma_v", 0, 0.45, false, "V",
                           [](HardwareSpec& s) -> double& { return s.noise.write_sigma_v; }));
    v.push_back(real_field("charge_to_pulse.s_sat_qk", 0, 1e9, true, "charge units",
                           [](HardwareSpec& s) -> double& { return s.charge_to_pulse.s_sat_qk; }));
    v.push_back(real_field("charge_to_pulse.s_sat_av", 0, 1e9, true, "charge units",
                           [](HardwareSpec& s) -> double& { return s.charge_to_pulse.s_sat_av; }));
    v.push_back(real_field("charge_to_pulse.t_ref_ns", 0, 1e6, true, "ns",
                           [](HardwareSpec& s) -> double& { return s.charge_to_pulse.t_ref_ns; }));
    auto affine = [&v](const char* name, const char* offset_unit, Affine ScalerParams::*member) {
      std::string base = std::string("scalers.") + name;
      v.push_back(
          real_field((base + "_gain").c_str(), -1e6, 1e6, false, "1",
                     [member](HardwareSpec& s) -> double& { return (s.scalers.*member).gain; }));
      v.push_back(
          real_field((base + "_offset").c_str(), -1e6, 1e6, false, offset_unit,
                     [member](HardwareSpec& s) -> double& { return (s.scalers.*member).offset; }));
    };
    affine("q", "1", &ScalerParams::q);
    affine("k", "V", &ScalerParams::k);
    affine("v", "V", &ScalerParams::v);
    affine("out", "1", &ScalerParams::out);
    v.push_back(real_field("timing.t_max_ns", 0, 1e6, true, "ns",
                           [](HardwareSpec& s) -> double& { return s.timing.t_max_ns; }));
    v.push_back(real_field("host_link.bytes_per_ns", 0, 1e6, false, "B/ns",
                           [](HardwareSpec& s) -> double& { return s.host_link.bytes_per_ns; }));
    v.push_back(real_field("host_link.latency_ns", 0, 1e6, false, "ns",
                           [](HardwareSpec& s) -> double& { return s.host_link.latency_ns; }));
    {
      Field f = int_field("host_link.format", 0, 2, "format",
                          [](HardwareSpec& s) -> int& { return s.host_link.format_code; });
      f.info.choices = {"codes", "f16", "f32"};
      v.push_back(std::move(f));
    }
    v.push_back(int_field("host_link.ideal_code_bits", 1, 64, "bits",
                          [](HardwareSpec& s) -> int& { return s.host_link.ideal_code_bits; }));
    v.push_back(int_field("host_link.request_buffer", 1, 1024, "requests",
                          [](HardwareSpec& s) -> int& { return s.host_link.request_buffer; }));
    v.push_back(int_field("registers.command_queue", 1, 1024, "commands",
                          [](HardwareSpec& s) -> int& { return s.registers.command_queue; }));
    v.push_back(real_field("timing.clock_ghz", 0, 100, true, "GHz",
                           [](HardwareSpec& s) -> double& { return s.timing.clock_ghz; }));
    v.push_back(real_field("timing.pwm_time_base_ns", 0, 1e6, true, "ns",
                           [](HardwareSpec& s) -> double& { return s.timing.pwm_time_base_ns; }));
    v.push_back(int_field("timing.adder_stage_cycles", 1, 1024, "cycles",
                          [](HardwareSpec& s) -> int& { return s.timing.adder_stage_cycles; }));
    v.push_back(int_field("timing.handoff_cycles", 0, 1 << 20, "cycles",
                          [](HardwareSpec& s) -> int& { return s.timing.handoff_cycles; }));
    // Phases: 0 = derived from the circuits (derive_timing), otherwise the duration in ns.
    auto phase = [&v](const char* key, double TimingParams::*member) {
      v.push_back(real_field(key, 0, 1e6, false, "ns",
                             [member](HardwareSpec& s) -> double& { return s.timing.*member; }));
    };
    phase("timing.phase_q_ns", &TimingParams::phase_q_set_ns);
    phase("timing.phase_phi_ns", &TimingParams::phase_phi_set_ns);
    phase("timing.phase_count_ns", &TimingParams::phase_count_set_ns);
    phase("timing.phase_precharge_ns", &TimingParams::phase_precharge_ns);
    phase("timing.phase_digital_ns", &TimingParams::phase_digital_set_ns);
    phase("timing.write_ns", &TimingParams::write_ns);
    // Physical quantities of the circuits: power/ computes the energy per action from them.
    auto cost = [&v](const char* key, double max, bool min_exclusive, const char* unit,
                     double CostParams::*member) {
      v.push_back(real_field(key, 0, max, min_exclusive, unit,
                             [member](HardwareSpec& s) -> double& { return s.cost.*member; }));
    };
    cost("cost.vdd_v", 10, true, "V", &CostParams::vdd_v);
    cost("cost.read_charge_unit_fc", 1e6, false, "fC", &CostParams::read_charge_unit_fc);
    cost("cost.c_read_bitline_per_cell_ff", 1e3, false, "fF",
         &CostParams::c_read_bitline_per_cell_ff);
    cost("cost.c_read_wordline_per_cell_ff", 1e3, false, "fF",
         &CostParams::c_read_wordline_per_cell_ff);
    cost("cost.c_wire_per_um_ff", 1e3, false, "fF/um", &CostParams::c_wire_per_um_ff);
    cost("cost.r_wire_per_um_ohm", 1e6, false, "ohm/um", &CostParams::r_wire_per_um_ohm);
    cost("cost.line_driver_kohm", 1e6, false, "kohm", &CostParams::line_driver_kohm);
    cost("cost.integrator_swing_fraction", 1, true, "1", &CostParams::integrator_swing_fraction);
    cost("cost.comparator_bias_ua", 1e6, true, "uA", &CostParams::comparator_bias_ua);
    cost("cost.c_comparator_ff", 1e6, false, "fF", &CostParams::c_comparator_ff);
    cost("cost.c_ff_clock_ff", 1e3, false, "fF", &CostParams::c_ff_clock_ff);
    cost("cost.c_ff_data_ff", 1e3, false, "fF", &CostParams::c_ff_data_ff);
    cost("cost.c_clock_tree_per_sink_ff", 1e3, false, "fF", &CostParams::c_clock_tree_per_sink_ff);
    cost("cost.c_full_adder_ff", 1e3, false, "fF", &CostParams::c_full_adder_ff);
    cost("cost.switching_activity", 1, false, "1", &CostParams::switching_activity);
    v.push_back(int_field("cost.clock_gating", 0, 1, "flag",
                          [](HardwareSpec& s) -> int& { return s.cost.clock_gating; }));
    v.push_back(int_field("cost.control_fsm_ffs", 0, 1 << 20, "flip-flops",
                          [](HardwareSpec& s) -> int& { return s.cost.control_fsm_ffs; }));
    cost("cost.dac_unit_cap_ff", 1e6, false, "fF", &CostParams::dac_unit_cap_ff);
    cost("cost.dac_settling_overdrive_v", 10, false, "V", &CostParams::dac_settling_overdrive_v);
    cost("cost.c_write_bitline_per_cell_ff", 1e3, false, "fF",
         &CostParams::c_write_bitline_per_cell_ff);
    cost("cost.c_storage_ff", 1e3, false, "fF", &CostParams::c_storage_ff);
    cost("cost.cap_density_ff_per_um2", 1e3, true, "fF/um^2", &CostParams::cap_density_ff_per_um2);
    cost("cost.c_sram_bit_ff", 1e3, false, "fF", &CostParams::c_sram_bit_ff);
    cost("cost.sram_leakage_pw_per_bit", 1e6, false, "pW", &CostParams::sram_leakage_pw_per_bit);
    cost("cost.leakage_mw_per_mm2", 1e6, false, "mW/mm^2", &CostParams::leakage_mw_per_mm2);
    v.push_back(int_field("cost.ideal_equivalent_bits", 1, 24, "bits",
                          [](HardwareSpec& s) -> int& { return s.cost.ideal_equivalent_bits; }));
    // Silicon area (power/ reports it per sub-tile, head, layer and model).
    auto area = [&v](const char* key, double max, bool min_exclusive, double AreaParams::*member) {
      v.push_back(real_field(key, 0, max, min_exclusive, "um^2",
                             [member](HardwareSpec& s) -> double& { return s.area.*member; }));
    };
    area("area.cell_um2", 1e6, true, &AreaParams::cell_um2);
    area("area.hs_ctp_um2", 1e9, false, &AreaParams::hs_ctp_um2);
    area("area.signed_ctp_um2", 1e9, false, &AreaParams::signed_ctp_um2);
    area("area.ff_um2", 1e6, false, &AreaParams::ff_um2);
    area("area.full_adder_um2", 1e6, false, &AreaParams::full_adder_um2);
    area("area.dac_unit_cap_um2", 1e6, false, &AreaParams::dac_unit_cap_um2);
    area("area.line_driver_um2", 1e6, false, &AreaParams::line_driver_um2);
    area("area.control_um2", 1e12, false, &AreaParams::control_um2);
    area("area.sram_bit_um2", 1e6, false, &AreaParams::sram_bit_um2);
    // The process (gca/spec/technology.hpp).
    auto tech = [&v](const char* key, double min, double max, bool min_exclusive, const char* unit,
                     double TechnologyParams::*member) {
      v.push_back(
          real_field(key, min, max, min_exclusive, unit,
                     [member](HardwareSpec& s) -> double& { return s.technology.*member; }));
    };
    tech("technology.node_nm", 3, 350, false, "nm", &TechnologyParams::node_nm);
    tech("technology.temperature_c", -55, 150, false, "C", &TechnologyParams::temperature_c);
    tech("technology.vdd_nominal_v", 0, 5, true, "V", &TechnologyParams::vdd_nominal_v);
    tech("technology.vth_v", 0, 2, false, "V", &TechnologyParams::vth_v);
    tech("technology.alpha", 1, 2, false, "1", &TechnologyParams::alpha);
    tech("technology.fo4_ps", 0, 1e4, true, "ps", &TechnologyParams::fo4_ps);
    return v;
  }();
  return all;
}

const Field* find_field(const std::string& key) {
  for (const auto& f : fields()) {
    if (f.info.key == key) return &f;
  }
  return nullptr;
}

// Short where that is exact, else every digit: a message never shows a value as another one
// (100000000.0000001 is not 100000000).
std::string format_number(double x) {
  std::ostringstream os;
  os.precision(12);
  os << x;
  if (std::strtod(os.str().c_str(), nullptr) != x) {
    os.str("");
    os.precision(17);
    os << x;
  }
  return os.str();
}

std::string range_text(const ParamInfo& info) {
  if (!info.choices.empty()) {
    std::string all;
    for (const auto& c : info.choices) all += (all.empty() ? "" : ", ") + c;
    return "one of " + all;
  }
  std::string lo = (info.min_exclusive ? "(" : "[") + format_number(info.min);
  std::string hi = std::isinf(info.max) ? "inf)" : format_number(info.max) + "]";
  return std::string(info.integer ? "integer in " : "number in ") + lo + ", " + hi;
}

// Index of a named choice, or an error naming the allowed names.
double choice_index(const ParamInfo& info, const std::string& name, const std::string& file) {
  for (std::size_t i = 0; i < info.choices.size(); ++i) {
    if (info.choices[i] == name) return static_cast<double>(i);
  }
  throw SpecError(file, info.key,
                  "'" + name + "' is not allowed (allowed: " + range_text(info) + ")");
}

// Writes one value into the spec after checking its type and range.
void assign(HardwareSpec& spec, const Field& f, double value, const std::string& file) {
  const ParamInfo& info = f.info;
  if (!std::isfinite(value)) {
    throw SpecError(file, info.key, "value must be finite (allowed: " + range_text(info) + ")");
  }
  if (info.integer && value != std::floor(value)) {
    throw SpecError(
        file, info.key,
        format_number(value) + " is not an integer (allowed: " + range_text(info) + ")");
  }
  bool below = info.min_exclusive ? value <= info.min : value < info.min;
  if (below || value > info.max) {
    throw SpecError(file, info.key,
                    format_number(value) + " is out of range (allowed: " + range_text(info) + ")");
  }
  if (f.integer) {
    f.integer(spec) = static_cast<int>(value);
  } else {
    f.real(spec) = value;
  }
}

struct Loader {
  HardwareSpec spec;
  std::set<std::string> seen;

  void load_file(const fs::path& path, int depth) {
    const std::string file = path.string();
    if (depth > 8) throw SpecError(file, "extends", "chain deeper than 8 files (a cycle?)");
    const json doc =
        parse_json_strict(read_input_file(file, limits::kMaxJsonFileBytes, "parameter file"), file);
    if (!doc.is_object()) throw SpecError(file, "", "top level must be a JSON object");
    if (doc.contains("extends")) {
      if (!doc["extends"].is_string())
        throw SpecError(file, "extends", "must be a file name string");
      fs::path base = path.parent_path() / doc["extends"].get<std::string>();
      load_file(base, depth + 1);
    }
    if (doc.contains("description") && doc["description"].is_string()) {
      spec.description = doc["description"].get<std::string>();
    }
    walk(doc, "", file);
  }

  void walk(const json& node, const std::string& prefix, const std::string& file) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string& name = it.key();
      if (prefix.empty() && (name == "extends" || name == "description")) continue;
      const std::string key = prefix.empty() ? name : prefix + "." + name;
      const json& v = *it;
      if (v.is_object() && v.contains("value")) {
        leaf(key, v, file);
      } else if (v.is_object()) {
        walk(v, key, file);
      } else {
        leaf(key, v, file);
      }
    }
  }

  void leaf(const std::string& key, const json& v, const std::string& file) {
    const Field* f = find_field(key);
    if (!f) throw SpecError(file, key, "unknown parameter (see `gca-sim spec` for the known keys)");
    ParamMeta meta;
    meta.unit = f->info.unit;
    meta.file = file;
    const json* value = &v;
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& k = it.key();
        if (k == "value") continue;
        if (k != "unit" && k != "source" && k != "note") {
          throw SpecError(file, key + "." + k,
                          "unknown field of a parameter (allowed: value, unit, source, note)");
        }
        if (!it->is_string()) throw SpecError(file, key + "." + k, "must be a string");
      }
      if (v.contains("unit")) {
        std::string unit = v["unit"].get<std::string>();
        if (unit != f->info.unit) {
          throw SpecError(file, key + ".unit",
                          "is '" + unit + "', expected '" + f->info.unit + "'");
        }
      }
      if (v.contains("source")) meta.source = v["source"].get<std::string>();
      value = &v["value"];
    }
    if (!f->info.choices.empty()) {
      if (!value->is_string()) {
        throw SpecError(file, key, "must be a name (allowed: " + range_text(f->info) + ")");
      }
      assign(spec, *f, choice_index(f->info, value->get<std::string>(), file), file);
      spec.meta[key] = meta;
      seen.insert(key);
      return;
    }
    if (!value->is_number()) {
      throw SpecError(file, key, "must be a number (allowed: " + range_text(f->info) + ")");
    }
    assign(spec, *f, value->get<double>(), file);
    spec.meta[key] = meta;
    seen.insert(key);
  }
};

}  // namespace

const std::vector<ParamInfo>& param_catalog() {
  static const std::vector<ParamInfo> catalog = [] {
    std::vector<ParamInfo> c;
    for (const auto& f : fields()) c.push_back(f.info);
    return c;
  }();
  return catalog;
}

double get_param(const HardwareSpec& spec, const std::string& key) {
  const Field* f = find_field(key);
  if (!f) throw SpecError("", key, "unknown parameter");
  auto& s = const_cast<HardwareSpec&>(spec);  // accessors are shared with the setters
  return f->integer ? static_cast<double>(f->integer(s)) : f->real(s);
}

namespace {
// Sets one override without the consistency checks (those run once all are set); its errors
// name the place it was given.
void set_override(HardwareSpec& spec, const Override& o) {
  const std::string& assignment = o.assignment;
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw SpecError(o.file, o.key_prefix + assignment, "expected key=value");
  }
  std::string key = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  const std::string where = o.key_prefix + key;
  const Field* f = find_field(key);
  if (!f)
    throw SpecError(o.file, where, "unknown parameter (see `gca-sim spec` for the known keys)");
  auto note = [&] {
    ParamMeta& meta = spec.meta[key];
    meta.unit = f->info.unit;
    meta.file = o.file;
    meta.source = o.file == "--set" ? "command-line override" : "override in " + where;
  };
  if (!f->info.choices.empty()) {
    try {
      assign(spec, *f, choice_index(f->info, text, o.file), o.file);
    } catch (const SpecError& e) {
      throw SpecError(o.file, where, e.message());
    }
    note();
    return;
  }
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  // ERANGE on underflow (4.9e-324, a subnormal) still gives the value: the range check judges
  // it. Only an overflow (+-HUGE_VAL) is no number.
  const bool overflow = errno == ERANGE && std::isinf(value);
  if (text.empty() || end != text.c_str() + text.size() || overflow) {
    throw SpecError(o.file, where,
                    "'" + text + "' is not a number (allowed: " + range_text(f->info) + ")");
  }
  try {
    assign(spec, *f, value, o.file);
  } catch (const SpecError& e) {
    throw SpecError(o.file, where, e.message());
  }
  note();
}

// The checks after the overrides: an error is blamed on the override that set its key (the
// last one), else on the last override (the base file alone passed them).
void check_overridden(HardwareSpec& spec, const std::vector<Override>& overrides) {
  try {
    validate(spec, "--set");
    derive_timing(spec, "--set");
  } catch (const SpecError& e) {
    for (auto o = overrides.rbegin(); o != overrides.rend(); ++o) {
      if (o->assignment.compare(0, e.field().size() + 1, e.field() + "=") == 0)
        throw SpecError(o->file, o->key_prefix + e.field(), e.message());
    }
    throw SpecError(overrides.back().file, e.field(), e.message());
  }
}
}  // namespace

void apply_override(HardwareSpec& spec, const std::string& assignment) {
  set_override(spec, Override{assignment});
  validate(spec, "--set");
  derive_timing(spec, "--set");
}

void validate(const HardwareSpec& s, const std::string& file) {
  for (const auto& f : fields()) {
    double v = get_param(s, f.info.key);
    bool below = f.info.min_exclusive ? v <= f.info.min : v < f.info.min;
    if (below || v > f.info.max || !std::isfinite(v)) {
      throw SpecError(file, f.info.key,
                      format_number(v) + " is out of range (allowed: " + range_text(f.info) + ")");
    }
  }
  auto levels = [&](const char* key, int n) {
    if (n == 1)
      throw SpecError(file, key, "1 level is not a quantizer (allowed: 0 = ideal, or >= 2)");
  };
  levels("quant.q_levels", s.quant.q_levels);
  levels("quant.kv_levels", s.quant.kv_levels);
  levels("quant.out_levels", s.quant.out_levels);
  if (s.model.d_head > s.array.rows) {
    throw SpecError(file, "model.d_head",
                    std::to_string(s.model.d_head) +
                        " features do not fit the array (allowed: <= array.rows = " +
                        std::to_string(s.array.rows) + ")");
  }
  if (!(s.gain_cell.v_min_v < s.gain_cell.v_max_v)) {
    throw SpecError(file, "gain_cell.v_max_v", "must be greater than gain_cell.v_min_v");
  }
  if (s.gain_cell.w_center_v < s.gain_cell.v_min_v ||
      s.gain_cell.w_center_v > s.gain_cell.v_max_v) {
    throw SpecError(file, "gain_cell.w_center_v",
                    "must lie in [gain_cell.v_min_v, gain_cell.v_max_v] = [" +
                        format_number(s.gain_cell.v_min_v) + ", " +
                        format_number(s.gain_cell.v_max_v) + "]");
  }
  if (s.cost.vdd_v < s.technology.vth_v + 0.1) {
    throw SpecError(
        file, "cost.vdd_v",
        format_number(s.cost.vdd_v) +
            " V leaves the logic no overdrive (allowed: >= technology.vth_v + 0.1 V = " +
            format_number(s.technology.vth_v + 0.1) + " V)");
  }
  if (storable_max_v(s) <= s.gain_cell.w_center_v) {
    throw SpecError(file, "cost.vdd_v",
                    "the cells cannot store above the supply, which must exceed "
                    "gain_cell.w_center_v = " +
                        format_number(s.gain_cell.w_center_v) + " V");
  }
  if (s.timing.phase_q_set_ns > 0.0 && s.timing.phase_q_set_ns < s.timing.t_max_ns) {
    throw SpecError(file, "timing.phase_q_ns",
                    "shorter than the longest Q pulse (allowed: >= timing.t_max_ns = " +
                        format_number(s.timing.t_max_ns) + ")");
  }
  if (s.timing.phase_phi_set_ns > 0.0 && s.timing.phase_phi_set_ns < s.timing.t_max_ns) {
    throw SpecError(file, "timing.phase_phi_ns",
                    "shorter than the longest HardSigmoid pulse (allowed: >= timing.t_max_ns = " +
                        format_number(s.timing.t_max_ns) + ")");
  }
}

std::vector<std::string> spec_file_chain(const std::string& path) {
  std::vector<std::string> chain;
  fs::path file(path);
  for (int depth = 0; depth <= 8; ++depth) {
    chain.push_back(file.string());
    try {
      const json doc = parse_json_strict(
          read_input_file(file.string(), limits::kMaxJsonFileBytes, "parameter file"),
          file.string());
      if (!doc.is_object() || !doc.contains("extends") || !doc["extends"].is_string()) break;
      file = file.parent_path() / doc["extends"].get<std::string>();
    } catch (const SpecError&) {
      break;
    }
  }
  return chain;
}

HardwareSpec load_spec(const std::string& path, const std::vector<std::string>& overrides) {
  std::vector<Override> given;
  for (const auto& o : overrides) given.push_back(Override{o});
  return load_spec_overridden(path, given);
}

HardwareSpec load_spec_overridden(const std::string& path, const std::vector<Override>& overrides) {
  Loader loader;
  loader.load_file(fs::path(path), 0);
  for (const auto& f : fields()) {
    if (!loader.seen.count(f.info.key)) {
      throw SpecError(
          path, f.info.key,
          "missing (every parameter must be given; use \"extends\" to start from a shipped file)");
    }
  }
  validate(loader.spec, path);
  for (const auto& o : overrides) set_override(loader.spec, o);
  if (overrides.empty())
    derive_timing(loader.spec, path);
  else
    check_overridden(loader.spec, overrides);
  return loader.spec;
}

int converter_bits(int levels, int ideal_equivalent_bits) {
  if (levels < 2) return ideal_equivalent_bits;
  int bits = 0;
  while ((1L << bits) < levels) ++bits;
  return bits;
}

int counter_levels(int out_levels, int ideal_equivalent_bits) {
  if (out_levels < 2) return 1 << ideal_equivalent_bits;
  return (out_levels + 1) / 2;
}

int adder_tree_depth(int n) {
  int depth = 0;
  while ((1L << depth) < n) ++depth;
  return depth;
}

void derive_timing(HardwareSpec& s, const std::string& file) {
  TimingParams& t = s.timing;
  // The Q pulse generator resolves widths in steps of T_max / (q_levels - 1); a step finer
  // than its time base cannot be generated.
  if (s.quant.q_levels >= 2) {
    const double step_ns = t.t_max_ns / (s.quant.q_levels - 1);
    if (step_ns < t.pwm_time_base_ns * (1.0 - 1e-12)) {
      throw SpecError(
          file, "timing.t_max_ns",
          "Q pulse step T_max / (quant.q_levels - 1) = " + format_number(step_ns) +
              " ns is shorter than timing.pwm_time_base_ns = " + format_number(t.pwm_time_base_ns) +
              " ns (allowed: T_max >= (q_levels - 1) x time base = " +
              format_number(t.pwm_time_base_ns * (s.quant.q_levels - 1)) + " ns)");
    }
  }
  const double cycle_ns = t.clock_period_ns();
  // The control is clocked: a derived phase lasts whole cycles. The phase commands travel with
  // the Q pulses along the same repeated line, so a sub-tile far down the line runs every
  // analog phase shifted by the line's delay; that shift, the HardSigmoid pulses' V-line delay
  // and the two comparator delays are paid once, when the last sub-tile's counts reach the
  // adder tree (docs/cost_model.md, "Critical path"). What the digital phase's last cycle
  // leaves over is its slack; delays beyond it lengthen the phase by whole cycles.
  auto whole_cycles = [&](double ns) { return std::ceil(ns / cycle_ns - 1e-9) * cycle_ns; };
  const CriticalPath path = critical_path(s);
  // The magnitude counter needs one clock per level above zero to count a full-scale pulse.
  const int count_cycles = counter_levels(s.quant.out_levels, s.cost.ideal_equivalent_bits) - 1;
  // A registered adder stage whose carry chain outlasts the clock takes more cycles.
  const int stage_cycles = std::max(
      t.adder_stage_cycles, static_cast<int>(std::ceil(path.adder_stage_ns / cycle_ns - 1e-9)));
  const int sum_cycles = adder_tree_depth(s.subtiles_per_head()) * stage_cycles + t.handoff_cycles;
  const double skew_ns = path.q_line_ns + path.v_line_ns + 2.0 * path.comparator_ns;
  t.phase_q_ns = t.phase_q_set_ns > 0.0 ? t.phase_q_set_ns : t.t_max_ns;
  t.phase_phi_ns = t.phase_phi_set_ns > 0.0 ? t.phase_phi_set_ns : t.t_max_ns;
  t.phase_count_ns = t.phase_count_set_ns > 0.0 ? t.phase_count_set_ns : count_cycles * cycle_ns;
  t.phase_digital_ns = t.phase_digital_set_ns > 0.0 ? t.phase_digital_set_ns
                                                    : whole_cycles(sum_cycles * cycle_ns + skew_ns);
  // Retention at the operating temperature.
  s.retention.temperature_factor = arrhenius_retention_factor(
      s.retention.activation_ev, s.technology.temperature_c, s.retention.tau_temperature_c);
}

namespace {

std::string& params_dir_override() {
  static std::string dir;
  return dir;
}

// The installed library (libgca.so in <prefix>/lib) finds the parameter files it was installed
// with in <prefix>/share/gca-tlm/params, wherever the prefix was moved; a program linking the
// static libraries of a build tree gets the source tree's folder.
std::string installed_params_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&installed_params_dir), &info) == 0 || !info.dli_fname)
    return {};
  std::error_code ec;
  const fs::path lib = fs::canonical(info.dli_fname, ec);
  if (ec) return {};
  const fs::path dir = lib.parent_path().parent_path() / "share" / "gca-tlm" / "params";
  return fs::is_directory(dir, ec) ? dir.string() : std::string();
}

}  // namespace

void set_default_params_dir(const std::string& dir) {
  params_dir_override() = dir;
}

std::string default_params_dir() {
  if (!params_dir_override().empty()) return params_dir_override();
  if (const char* env = std::getenv("GCA_PARAMS_DIR")) return env;
  static const std::string installed = installed_params_dir();
  if (!installed.empty()) return installed;
  return GCA_PARAMS_DIR;
}

std::string default_spec_path() {
  return default_params_dir() + "/gpt2.json";
}

}  // namespace gca::spec
