// The component cost model: energy per action, area and leakage of every circuit of the
// accelerator as formulas in named physical quantities (the cost.*, area.* and timing.* keys,
// the array sizes, the converter resolutions, the number of sub-tiles). docs/cost_model.md
// holds the table of formulas with units and sources.
//
// Each component is charged per unit of one Action (energy_table.hpp): an action's energy per
// unit is the sum of its components. Pure C++: the energy table, the tests and the calibration
// tool use it alike.
#pragma once

#include <string>
#include <vector>

#include "gca/power/actions.hpp"
#include "gca/spec/params.hpp"

namespace gca::power {

// The sizes and resolutions the formulas use, derived once from the spec.
struct CircuitSizes {
  int rows = 0;                 // cells per K column = V outputs per sub-tile
  int cols = 0;                 // token slots per sub-tile
  int d_head = 0;               // features a head uses
  int subtiles = 0;             // sub-tiles per head
  int q_bits = 0;               // Q pulse generator resolution
  int q_levels = 0;             // Q pulse widths (2^q_bits when ideal)
  int kv_bits = 0;              // K/V write DAC resolution
  int counter_levels = 0;       // magnitude levels of an output counter
  int counter_bits = 0;         // bits of that counter
  int output_bits = 0;          // counter bits + sign bit: one sub-tile output
  int tree_depth = 0;           // levels of the adder tree over the sub-tiles
  int tree_width_bits = 0;      // width of the tree's last adder: output bits + depth
  int input_register_bits = 0;  // d x (Q code + K code + V code bits): what the link carries
  int pointer_bits = 0;         // write pointer over the window
  int control_ffs = 0;          // flip-flops of a head's control
  double count_cycles = 0.0;    // clock cycles of the count phase
  double token_cycles = 0.0;    // clock cycles of one token's latency
  double head_ffs = 0.0;        // every flip-flop of a head (counters, output registers, tree,
                                // control)
  double shadow_bits = 0.0;     // SRAM bits of the refresh policy's shadow copy (0 without)
};
CircuitSizes circuit_sizes(const gca::spec::HardwareSpec& spec);

// One circuit's energy per unit of an action.
struct Component {
  std::string name;      // "K column precharge"
  Action action;         // charged per unit of this action
  double energy_fj = 0;  // per unit of the action
  std::string formula;   // symbolic, with the keys it uses
  std::string values;    // the same with the numbers put in
};

// Silicon area (um^2 unless the name says mm^2).
struct AreaBreakdown {
  double cell_um2 = 0.0;
  long cells_per_subtile = 0;  // K array + V array
  long cells_per_head = 0;
  int subtiles_per_head = 0;
  // One sub-tile.
  double k_cells_um2 = 0.0, v_cells_um2 = 0.0;
  double hs_integrator_um2 = 0.0;      // one HardSigmoid integrator capacitor
  double signed_integrator_um2 = 0.0;  // one signed integrator capacitor
  double hs_converters_um2 = 0.0;      // HardSigmoid converters and their line drivers
  double signed_converters_um2 = 0.0;
  double counters_um2 = 0.0;  // counters and output registers
  // One head, besides its sub-tiles.
  double adder_tree_um2 = 0.0;
  double write_dacs_um2 = 0.0;    // K and V write DACs with their drivers
  double q_generators_um2 = 0.0;  // Q pulse generators with their line drivers
  double control_um2 = 0.0;       // sequencer, registers, host interface, routing
  double shadow_um2 = 0.0;        // SRAM shadow copy of the refresh policy
  // Sums.
  double subtile_cells_mm2 = 0.0;
  double subtile_periphery_mm2 = 0.0;
  double subtile_mm2 = 0.0;
  double head_control_mm2 = 0.0;  // everything of a head outside its sub-tiles
  double head_mm2 = 0.0;
  double layer_mm2 = 0.0;
  double model_mm2 = 0.0;
};
AreaBreakdown compute_area(const gca::spec::HardwareSpec& spec);

// Leakage power (mW) of each kind of module: area x cost.leakage_mw_per_mm2. Summed over a
// head's modules it is head_mm2 x the density.
struct StaticPower {
  double k_array_mw = 0.0;    // per sub-tile: K cells, HardSigmoid converters and drivers
  double v_array_mw = 0.0;    // per sub-tile: V cells, signed converters
  double counters_mw = 0.0;   // per sub-tile: counters and output registers
  double control_mw = 0.0;    // per head: control and adder tree
  double q_pulses_mw = 0.0;   // per head: Q pulse generators
  double write_dac_mw = 0.0;  // per head and per array kind (K or V): write DACs and half the
                              // shadow copy's SRAM
  double head_mw(int subtiles) const {
    return subtiles * (k_array_mw + v_array_mw + counters_mw) + control_mw + q_pulses_mw +
           2.0 * write_dac_mw;
  }
};
StaticPower static_power(const gca::spec::HardwareSpec& spec);

class CostModel {
 public:
  explicit CostModel(const gca::spec::HardwareSpec& spec);

  const std::vector<Component>& components() const { return components_; }
  // Sum of the components of an action, in pJ per unit of its amount.
  double energy_pj(Action a) const;
  const CircuitSizes& sizes() const { return sizes_; }

 private:
  void add(const char* name, Action a, double energy_fj, std::string formula, std::string values);
  CircuitSizes sizes_;
  std::vector<Component> components_;
};

}  // namespace gca::power
