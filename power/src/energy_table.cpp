#include "gca/power/energy_table.hpp"

#include <cstdio>
#include <sstream>

#include "gca/spec/error.hpp"

namespace gca::power {

namespace {

constexpr const char* kGroupNames[kGroupCount] = {"qk", "av", "digital", "dac"};
constexpr const char* kActionNames[kActionCount] = {
    "qk_cell_read",      "qk_ctp",        "qk_ctp_pulse",  "av_cell_read",   "av_ctp",
    "av_ctp_pulse",      "counter_count", "counter_clock", "digital_active", "digital_add",
    "dac_kv_conversion", "dac_q_pulse",   "cell_write",    "static_time"};

// Group of the modules that book each action (actions.hpp).
Group group_of(Action a) {
  switch (a) {
    case Action::qk_cell_read:
    case Action::qk_ctp:
    case Action::qk_ctp_pulse:
      return Group::qk;
    case Action::av_cell_read:
    case Action::av_ctp:
    case Action::av_ctp_pulse:
      return Group::av;
    case Action::dac_kv_conversion:
    case Action::dac_q_pulse:
    case Action::cell_write:
      return Group::dac;
    default:
      return Group::digital;
  }
}

const char* unit_of(Action a) {
  switch (a) {
    case Action::qk_cell_read:
      return "charge unit drawn by K cells (sum of Q width x |g|)";
    case Action::qk_ctp:
      return "K column precharged, converted and driving its V line";
    case Action::qk_ctp_pulse:
      return "full-scale HardSigmoid pulse (sum of widths / T_max): converter running";
    case Action::av_cell_read:
      return "charge unit drawn by V cells (sum of phi width x |g|)";
    case Action::av_ctp:
      return "V output precharged and converted";
    case Action::av_ctp_pulse:
      return "full-scale signed pulse (sum of |output|): converter running";
    case Action::counter_count:
      return "full-scale count (sum of |output|)";
    case Action::counter_clock:
      return "counter clocked through one count phase";
    case Action::digital_active:
      return "token sequenced by the head control (input registers, pointer, sequencer cycles)";
    case Action::digital_add:
      return "sub-tile output routed and added";
    case Action::dac_kv_conversion:
      return "K or V value converted and driven";
    case Action::dac_q_pulse:
      return "Q pulse generated and driven";
    case Action::cell_write:
      return "gain cell written";
    default:
      return "mW x ns of static power (booked to the recording module's group)";
  }
}

std::string components_text(const std::vector<Component>& all, Action a) {
  std::string text;
  for (const auto& c : all) {
    if (c.action != a) continue;
    if (!text.empty()) text += "; ";
    char num[64];
    std::snprintf(num, sizeof num, "%.6g fJ", c.energy_fj);
    text += c.name + ": " + c.formula + " = " + c.values + " = " + num;
  }
  return text;
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
  const CostModel model(spec);
  components_ = model.components();
  for (Action a : all_actions()) {
    EnergyEntry en;
    en.action = a;
    en.name = action_name(a);
    en.group = group_of(a);
    en.unit = unit_of(a);
    if (a == Action::static_time) {
      en.energy_pj_per_unit = 1.0;
      en.param_unit = "pJ/(mW ns)";
      en.param_value = 1.0;
      en.source = "definition: 1 mW for 1 ns = 1 pJ";
    } else {
      en.energy_pj_per_unit = model.energy_pj(a);
      en.param_key = "cost model";
      en.param_value = en.energy_pj_per_unit;
      en.param_unit = "pJ";
      en.source = components_text(components_, a);
    }
    per_unit_pj_[index(a)] = en.energy_pj_per_unit;
    entries_.push_back(std::move(en));
  }

  static_power_ = gca::power::static_power(spec);
  const AreaBreakdown area = compute_area(spec);
  const double density = spec.cost.leakage_mw_per_mm2;
  auto add_static = [&](const char* name, Group g, double mw, double area_um2,
                        const char* applies_to) {
    StaticEntry s;
    s.name = name;
    s.group = g;
    s.power_mw = mw;
    s.applies_to = applies_to;
    s.param_key = "cost.leakage_mw_per_mm2";
    s.param_value = density;
    s.param_unit = "mW/mm^2";
    char text[160];
    std::snprintf(text, sizeof text, "area %.6g um^2 x %.6g mW/mm^2", area_um2, density);
    s.source = text;
    statics_.push_back(std::move(s));
  };
  add_static("k_array_static", Group::qk, static_power_.k_array_mw,
             area.k_cells_um2 + area.hs_converters_um2,
             "each K array with its HardSigmoid converters and line drivers");
  add_static("v_array_static", Group::av, static_power_.v_array_mw,
             area.v_cells_um2 + area.signed_converters_um2,
             "each V array with its signed converters");
  add_static("counters_static", Group::digital, static_power_.counters_mw, area.counters_um2,
             "each sub-tile's counters and output registers");
  add_static("control_static", Group::digital, static_power_.control_mw,
             area.control_um2 + area.adder_tree_um2, "each head's control and adder tree");
  add_static("q_pulses_static", Group::dac, static_power_.q_pulses_mw, area.q_generators_um2,
             "each head's Q pulse generators");
  add_static("write_dac_static", Group::dac, static_power_.write_dac_mw, 0.5 * area.write_dacs_um2,
             "each head's K write DACs, and its V write DACs (each with half the shadow SRAM)");
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
    os << line;
    if (e.action == Action::static_time) {
      os << std::string(45, ' ') << e.source << "\n";
      continue;
    }
    for (const auto& c : components_) {
      if (c.action != e.action) continue;
      std::snprintf(line, sizeof line, "%45s%s: %.6g fJ = %s\n", "", c.name.c_str(), c.energy_fj,
                    c.values.c_str());
      os << line << std::string(47, ' ') << c.formula << "\n";
    }
  }
  for (const auto& s : statics_) {
    std::snprintf(line, sizeof line, "%-18s %-8s %11.6g mW  static, %s\n", s.name.c_str(),
                  group_name(s.group), s.power_mw, s.applies_to.c_str());
    os << line << std::string(43, ' ') << "  " << s.param_key << ": " << s.source << "\n";
  }
  return os.str();
}

ActionCounts subtile_actions(const gca::spec::SubTileActivity& a,
                             const gca::spec::HardwareSpec& spec) {
  ActionCounts c{};
  c[index(Action::qk_cell_read)] = a.qk_read_charge;
  c[index(Action::qk_ctp)] = a.columns_converted;
  // phi_pulse_sum counts each width once per V-array cell it drives (d per column).
  c[index(Action::qk_ctp_pulse)] = a.phi_pulse_sum / spec.model.d_head;
  c[index(Action::av_cell_read)] = a.av_read_charge;
  c[index(Action::av_ctp)] = a.outputs_converted;
  c[index(Action::av_ctp_pulse)] = a.counter_fullscale;
  c[index(Action::counter_count)] = a.counter_fullscale;
  c[index(Action::counter_clock)] = spec.model.d_head;
  c[index(Action::digital_add)] = spec.model.d_head;
  return c;
}

ActionCounts head_actions(const gca::spec::HardwareSpec& spec) {
  const int d = spec.model.d_head;
  ActionCounts c{};
  c[index(Action::digital_active)] = 1.0;  // the sequencer's cycles are in its energy per token
  c[index(Action::dac_kv_conversion)] = 2.0 * d;
  c[index(Action::dac_q_pulse)] = d;
  c[index(Action::cell_write)] = 2.0 * d;
  return c;
}

ActionCounts token_actions(const gca::spec::SubTileActivity& a, int active_subtiles,
                           const gca::spec::HardwareSpec& spec) {
  // The summed activity holds every active sub-tile's amounts; the per-sub-tile constants
  // (counters clocked, tree inputs) scale with the active sub-tiles.
  ActionCounts c = subtile_actions(a, spec);
  c[index(Action::counter_clock)] *= active_subtiles;
  c[index(Action::digital_add)] *= active_subtiles;
  const ActionCounts h = head_actions(spec);
  for (std::size_t i = 0; i < kActionCount; ++i) c[i] += h[i];
  return c;
}

}  // namespace gca::power
