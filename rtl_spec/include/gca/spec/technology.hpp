// The technology layer: how the process node, the supply and the temperature change the
// circuits. The cost.*, area.* and timing.* values of a parameter file are stated at the
// reference node (28 nm) and the node's nominal supply; technology.node_nm and cost.vdd_v move
// them by the laws below (docs/cost_model.md, "Technology"):
//   gate and wire capacitance of a device, storage node   proportional to the node
//   area of cells and logic                               proportional to the node squared
//   area of analog blocks (converters, DAC capacitors)    proportional to the node
//   wire resistance per length                            inversely proportional to node squared
//   gate delay                                            node x alpha-power law in V_DD
//   retention time constant                               Arrhenius in the temperature
// A technology file (tech_*.json) restates what its node changes and may set any key.
#pragma once

#include "gca/spec/params.hpp"

namespace gca::spec {

// The node every cost.*, area.* and timing.* value of a parameter file is stated at.
constexpr double kReferenceNodeNm = 28.0;

// Delay of a gate at supply vdd relative to the node's nominal supply (Sakurai-Newton
// alpha-power law: t ~ C V / (V - V_th)^alpha).
double alpha_power_delay_factor(double vdd_v, double vdd_nominal_v, double vth_v, double alpha);

// Retention time constant at temperature t_c relative to the one at t_ref_c: a leakage
// current that is thermally activated with energy ea_ev makes tau ~ exp(Ea / kT).
double arrhenius_retention_factor(double ea_ev, double t_c, double t_ref_c);

struct TechnologyScale {
  double node = 1.0;         // node_nm / reference node
  double cap = 1.0;          // device and wire capacitance of a cell or a gate
  double logic_area = 1.0;   // cells, flip-flops, adders, drivers, SRAM bits, control
  double analog_area = 1.0;  // comparators and switches of the converters, DAC unit capacitors
  double wire_r = 1.0;       // wire resistance per um
  double delay = 1.0;        // gate delay (node x supply)
  double leakage = 1.0;      // leakage power at vdd relative to the nominal supply (~ V)
};
TechnologyScale technology_scale(const HardwareSpec& spec);

// The delays that decide how long the analog phases last (docs/cost_model.md, "Critical
// path"). All in ns.
struct CriticalPath {
  double fo4_ns = 0.0;           // fan-out-of-4 inverter delay at the node and supply
  double line_segment_ns = 0.0;  // one sub-tile's stretch of a Q read word line and its repeater
  double q_line_ns = 0.0;        // the Q word line through every sub-tile of a head
  double v_line_ns = 0.0;        // a HardSigmoid pulse along one V-array line
  double comparator_ns = 0.0;    // comparator of a charge-to-pulse converter
  double adder_stage_ns = 0.0;   // one registered ripple-carry stage of the adder tree
  double cell_pitch_um = 0.0;    // side of a gain cell
};
CriticalPath critical_path(const HardwareSpec& spec);

// Saturation charge of the two converters in fC (s_sat x the charge unit; independent of T_max
// because both the saturation count and the charge per count scale with it).
double saturation_charge_qk_fc(const HardwareSpec& spec);
double saturation_charge_av_fc(const HardwareSpec& spec);
// Integrator capacitance that holds a saturation charge within the allowed swing.
double integrator_cap_ff(const HardwareSpec& spec, double saturation_charge_fc);

// Upper end of the voltage a cell can store: the write DAC cannot drive above the supply.
inline double storable_max_v(const HardwareSpec& spec) {
  return spec.gain_cell.v_max_v < spec.cost.vdd_v ? spec.gain_cell.v_max_v : spec.cost.vdd_v;
}

}  // namespace gca::spec
