// The energy-per-action table (in the spirit of CiMLoop/Accelergy): every action the hardware
// performs, its energy per unit of action from the component cost model (cost_model.hpp), the
// unit, and the formulas it comes from. Energy = action counts x energy per unit, plus static
// power (leakage of each module's area) x simulated time. Pure C++: the SystemC modules and
// the tests use it alike.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "gca/power/actions.hpp"
#include "gca/power/cost_model.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/spec/params.hpp"

namespace gca::power {

// One row of the table.
struct EnergyEntry {
  Action action = Action::qk_cell_read;
  std::string name;                 // action_name(action)
  Group group = Group::qk;          // group the action belongs to (energy is booked to the
                                    // group of the module that records it)
  double energy_pj_per_unit = 0.0;  // pJ per unit of amount
  std::string unit;                 // what one unit of amount is
  std::string param_key;            // "cost model" (or "" for a definition)
  double param_value = 0.0;         // energy per unit, in param_unit
  std::string param_unit;
  std::string source;  // the components: name: formula = numbers (paper / derived / ASSUMED
                       // sources of the keys are in the parameter file)
};

// A static power: one value per module of a kind, in mW (leakage of its area).
struct StaticEntry {
  std::string name;  // "k_array_static", ...
  Group group = Group::qk;
  double power_mw = 0.0;
  std::string applies_to;  // which modules take it
  std::string param_key;   // cost.leakage_mw_per_mm2
  double param_value = 0.0;
  std::string param_unit;
  std::string source;  // area x density
};

class EnergyTable {
 public:
  // Builds the table from the cost model of a loaded spec.
  explicit EnergyTable(const gca::spec::HardwareSpec& spec);

  double energy_pj(Action a) const { return per_unit_pj_[index(a)]; }
  const EnergyEntry& entry(Action a) const { return entries_[index(a)]; }
  const std::vector<EnergyEntry>& entries() const { return entries_; }  // in enum order
  const std::vector<StaticEntry>& static_entries() const { return statics_; }
  const std::vector<Component>& components() const { return components_; }

  // Leakage of each kind of module, for PowerTracker::set_static_power.
  const StaticPower& static_power() const { return static_power_; }

  // Human-readable listing: action, group, energy per unit, unit, source.
  std::string to_text() const;

 private:
  std::array<double, kActionCount> per_unit_pj_{};
  std::vector<EnergyEntry> entries_;
  std::vector<StaticEntry> statics_;
  std::vector<Component> components_;
  StaticPower static_power_;
};

// What one head does for one token, as action amounts (the units of actions.hpp), from the
// summed activity of its active sub-tiles (HeadModel::activity()) -- the one mapping the
// SystemC modules book, each its own actions at the time of its phase:
//   qk_cell_read = qk_read_charge, qk_ctp = columns_converted,
//   qk_ctp_pulse = phi_pulse_sum / d (the HardSigmoid widths), av_cell_read = av_read_charge,
//   av_ctp = outputs_converted, av_ctp_pulse = counter_count = counter_fullscale,
//   counter_clock = digital_add = d x active sub-tiles, digital_active = 1 (the token),
//   dac_kv_conversion = cell_write = 2 d, dac_q_pulse = d.
ActionCounts token_actions(const gca::spec::SubTileActivity& summed, int active_subtiles,
                           const gca::spec::HardwareSpec& spec);
// The same split by who books it: the actions of one active sub-tile (its arrays, converters
// and counters, and its d inputs into the adder tree) and those of the head (write DACs, Q
// pulses, control). token_actions = sum over active sub-tiles + head_actions.
ActionCounts subtile_actions(const gca::spec::SubTileActivity& subtile,
                             const gca::spec::HardwareSpec& spec);
ActionCounts head_actions(const gca::spec::HardwareSpec& spec);

}  // namespace gca::power
