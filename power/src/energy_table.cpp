#include "gca/power/energy_table.hpp"

#include <cstdio>
#include <sstream>

#include "gca/spec/error.hpp"

namespace gca::power {

namespace {

constexpr const char* kGroupNames[kGroupCount] = {"qk", "av", "digital", "dac"};
constexpr const char* kActionNames[kActionCount] = {
    "qk_cell_read", "qk_ctp",         "av_cell_read", "av_ctp",
    "av_counter",   "digital_active", "digital_add",  "dac_kv_conversion",
    "dac_q_pulse",  "cell_write",     "static_time"};

std::string source_of(const gca::spec::HardwareSpec& spec, const std::string& key) {
  auto it = spec.meta.find(key);
  if (it == spec.meta.end() || it->second.source.empty()) return "(no source given)";
  return it->second.source;
}

std::string unit_of(const gca::spec::HardwareSpec& spec, const std::string& key) {
  auto it = spec.meta.find(key);
  if (it != spec.meta.end() && !it->second.unit.empty()) return it->second.unit;
  for (const auto& p : gca::spec::param_catalog()) {
    if (p.key == key) return p.unit;
  }
  return "";
}

}  // namespace

const char* group_name(Group g) {
  return kGroupNames[index(g)];
}

Group parse_group(const std::string& name, const std::string& what) {
  for (Group g : kGroups) {
    if (name == group_name(g)) return g;
  }
  throw gca::Error("", what, "'" + name + "' is not a group (allowed: qk, av, digital, dac)");
}

const char* action_name(Action a) {
  return kActionNames[index(a)];
}

const std::array<Action, kActionCount>& all_actions() {
  static const std::array<Action, kActionCount> all = [] {
    std::array<Action, kActionCount> a{};
    for (std::size_t i = 0; i < kActionCount; ++i) a[i] = static_cast<Action>(i);
    return a;
  }();
  return all;
}

EnergyTable::EnergyTable(const gca::spec::HardwareSpec& spec) {
  const gca::spec::EnergyParams& e = spec.energy;
  // to_pj: factor from the parameter's unit to pJ per unit of amount.
  auto add = [&](Action a, Group g, const char* key, double value, double to_pj, const char* unit) {
    EnergyEntry en;
    en.action = a;
    en.name = action_name(a);
    en.group = g;
    en.energy_pj_per_unit = value * to_pj;
    en.unit = unit;
    en.param_key = key;
    en.param_value = value;
    en.param_unit = unit_of(spec, key);
    en.source = source_of(spec, key);
    per_unit_pj_[index(a)] = en.energy_pj_per_unit;
    entries_.push_back(std::move(en));
  };
  add(Action::qk_cell_read, Group::qk, "energy.qk_cell_read_fj", e.qk_cell_read_fj, 1e-3,
      "K cell read x (Q pulse width / T_max)");
  add(Action::qk_ctp, Group::qk, "energy.qk_ctp_pj", e.qk_ctp_pj, 1.0,
      "HardSigmoid conversion (one K column)");
  add(Action::av_cell_read, Group::av, "energy.av_cell_read_fj", e.av_cell_read_fj, 1e-3,
      "V cell read x (HardSigmoid pulse width / T_max)");
  add(Action::av_ctp, Group::av, "energy.av_ctp_pj", e.av_ctp_pj, 1.0,
      "signed conversion (one V output)");
  add(Action::av_counter, Group::av, "energy.av_counter_fullscale_pj", e.av_counter_fullscale_pj,
      1.0, "full-scale count (sum of |output|)");
  add(Action::digital_active, Group::digital, "energy.digital_power_mw", e.digital_power_mw, 1.0,
      "ns of active digital periphery (1 mW x 1 ns = 1 pJ)");
  add(Action::digital_add, Group::digital, "energy.digital_add_pj", e.digital_add_pj, 1.0,
      "add of one sub-tile output");
  add(Action::dac_kv_conversion, Group::dac, "energy.dac_kv_conversion_pj", e.dac_kv_conversion_pj,
      1.0, "K or V value converted");
  add(Action::dac_q_pulse, Group::dac, "energy.dac_q_conversion_pj", e.dac_q_conversion_pj, 1.0,
      "Q pulse generated");
  add(Action::cell_write, Group::dac, "energy.cell_write_fj", e.cell_write_fj, 1e-3,
      "gain cell written");
  // Static energy booked explicitly: the amount is already mW x ns = pJ.
  EnergyEntry st;
  st.action = Action::static_time;
  st.name = action_name(Action::static_time);
  st.group = Group::digital;
  st.energy_pj_per_unit = 1.0;
  st.unit = "mW x ns of static power (booked to the recording module's group)";
  st.param_unit = "pJ/(mW ns)";
  st.param_value = 1.0;
  st.source = "definition: 1 mW for 1 ns = 1 pJ";
  per_unit_pj_[index(Action::static_time)] = 1.0;
  entries_.push_back(std::move(st));

  auto add_static = [&](const char* name, Group g, const char* key, double value, double to_mw,
                        const char* applies_to) {
    StaticEntry s;
    s.name = name;
    s.group = g;
    s.power_mw = value * to_mw;
    s.applies_to = applies_to;
    s.param_key = key;
    s.param_value = value;
    s.param_unit = unit_of(spec, key);
    s.source = source_of(spec, key);
    statics_.push_back(std::move(s));
  };
  add_static("array_static", Group::qk, "energy.array_static_uw", e.array_static_uw, 1e-3,
             "each K array (group qk) and V array (group av) with its periphery");
  add_static("digital_static", Group::digital, "energy.digital_static_mw", e.digital_static_mw, 1.0,
             "each head's digital control");
}

std::string EnergyTable::to_text() const {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "%-18s %-8s %14s  %s\n", "action", "group", "pJ per unit",
                "unit / source");
  os << line;
  for (const auto& e : entries_) {
    std::snprintf(line, sizeof line, "%-18s %-8s %14.6g  %s\n", e.name.c_str(), group_name(e.group),
                  e.energy_pj_per_unit, e.unit.c_str());
    os << line << std::string(43, ' ') << "  " << e.param_key << (e.param_key.empty() ? "" : ": ")
       << e.source << "\n";
  }
  for (const auto& s : statics_) {
    std::snprintf(line, sizeof line, "%-18s %-8s %11.6g mW  static, %s\n", s.name.c_str(),
                  group_name(s.group), s.power_mw, s.applies_to.c_str());
    os << line << std::string(43, ' ') << "  " << s.param_key << ": " << s.source << "\n";
  }
  return os.str();
}

double digital_active_ns_per_token(const gca::spec::TimingParams& timing) {
  return timing.phase_count_ns + timing.phase_precharge_ns + timing.phase_digital_ns;
}

ActionCounts head_token_actions(const gca::spec::SubTileActivity& a, int active_subtiles,
                                int d_head, const gca::spec::TimingParams& timing) {
  ActionCounts c{};
  c[index(Action::qk_cell_read)] = a.q_pulse_sum;
  c[index(Action::qk_ctp)] = a.columns_converted;
  c[index(Action::av_cell_read)] = a.phi_pulse_sum;
  c[index(Action::av_ctp)] = a.outputs_converted;
  c[index(Action::av_counter)] = a.counter_fullscale;
  c[index(Action::digital_active)] = digital_active_ns_per_token(timing);
  c[index(Action::digital_add)] = double(active_subtiles) * d_head;
  c[index(Action::dac_kv_conversion)] = 2.0 * d_head;
  c[index(Action::dac_q_pulse)] = d_head;
  c[index(Action::cell_write)] = 2.0 * d_head;
  return c;
}

AreaBreakdown compute_area(const gca::spec::HardwareSpec& spec) {
  const auto& ar = spec.area;
  AreaBreakdown b;
  const long rows = spec.array.rows, cols = spec.array.cols;
  b.cell_um2 = ar.cell_um2;
  b.cells_per_subtile = 2 * rows * cols;  // K array (rows x cols) + V array (cols x rows)
  b.subtiles_per_head = spec.subtiles_per_head();
  b.cells_per_head = b.cells_per_subtile * b.subtiles_per_head;
  b.subtile_cells_mm2 = b.cells_per_subtile * ar.cell_um2 * 1e-6;
  // One HardSigmoid circuit per K column, one signed circuit + counter per V output.
  b.subtile_periphery_mm2 = (cols * ar.hs_ctp_um2 + rows * ar.signed_ctp_um2) * 1e-6;
  b.subtile_mm2 = b.subtile_cells_mm2 + b.subtile_periphery_mm2;
  b.head_control_mm2 = ar.head_control_um2 * 1e-6;
  b.head_mm2 = b.subtiles_per_head * b.subtile_mm2 + b.head_control_mm2;
  b.layer_mm2 = spec.model.n_heads * b.head_mm2;
  b.model_mm2 = spec.model.n_layers * b.layer_mm2;
  return b;
}

}  // namespace gca::power
