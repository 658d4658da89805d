#include "gca/spec/technology.hpp"

#include <cmath>

namespace gca::spec {

namespace {
constexpr double kBoltzmannEvPerK = 8.617333262e-5;
constexpr double kKelvinAtZeroC = 273.15;
// Elmore delay of a distributed RC line (0.38 RC) and of a driver into a lumped load (0.69 RC).
constexpr double kDistributedRc = 0.38;
constexpr double kLumpedRc = 0.69;
}  // namespace

double alpha_power_delay_factor(double vdd_v, double vdd_nominal_v, double vth_v, double alpha) {
  return (vdd_v / vdd_nominal_v) * std::pow((vdd_nominal_v - vth_v) / (vdd_v - vth_v), alpha);
}

double arrhenius_retention_factor(double ea_ev, double t_c, double t_ref_c) {
  const double t = t_c + kKelvinAtZeroC, t_ref = t_ref_c + kKelvinAtZeroC;
  return std::exp(ea_ev / kBoltzmannEvPerK * (1.0 / t - 1.0 / t_ref));
}

TechnologyScale technology_scale(const HardwareSpec& spec) {
  const TechnologyParams& t = spec.technology;
  TechnologyScale s;
  s.node = t.node_nm / kReferenceNodeNm;
  s.cap = s.node;
  s.logic_area = s.node * s.node;
  s.analog_area = s.node;
  s.wire_r = 1.0 / (s.node * s.node);
  s.delay = s.node * alpha_power_delay_factor(spec.cost.vdd_v, t.vdd_nominal_v, t.vth_v, t.alpha);
  s.leakage = spec.cost.vdd_v / t.vdd_nominal_v;
  return s;
}

double saturation_charge_qk_fc(const HardwareSpec& spec) {
  return spec.charge_to_pulse.s_sat_qk * spec.cost.read_charge_unit_fc;
}

double saturation_charge_av_fc(const HardwareSpec& spec) {
  return spec.charge_to_pulse.s_sat_av * spec.cost.read_charge_unit_fc;
}

double integrator_cap_ff(const HardwareSpec& spec, double saturation_charge_fc) {
  // fC / V = fF
  return saturation_charge_fc / (spec.cost.integrator_swing_fraction * spec.cost.vdd_v);
}

CriticalPath critical_path(const HardwareSpec& spec) {
  const TechnologyScale s = technology_scale(spec);
  const CostParams& c = spec.cost;
  CriticalPath p;
  p.fo4_ns = spec.technology.fo4_ps * s.delay * 1e-3;
  p.cell_pitch_um = std::sqrt(spec.area.cell_um2 * s.logic_area);
  // A read word line crosses `cells` gates over cells x pitch of wire; a repeater (the line
  // driver, whose on-resistance follows the supply like a gate delay) drives each stretch.
  const double r_driver_kohm =
      c.line_driver_kohm * alpha_power_delay_factor(c.vdd_v, spec.technology.vdd_nominal_v,
                                                    spec.technology.vth_v, spec.technology.alpha);
  auto stretch_ns = [&](int cells) {
    const double length_um = cells * p.cell_pitch_um;
    const double c_ff =
        cells * c.c_read_wordline_per_cell_ff * s.cap + length_um * c.c_wire_per_um_ff;
    const double r_wire_kohm = length_um * c.r_wire_per_um_ohm * s.wire_r * 1e-3;
    // kOhm x fF = ps
    return p.fo4_ns + (kLumpedRc * r_driver_kohm + kDistributedRc * r_wire_kohm) * c_ff * 1e-3;
  };
  p.line_segment_ns = stretch_ns(spec.array.cols);
  p.q_line_ns = spec.subtiles_per_head() * p.line_segment_ns;
  p.v_line_ns = stretch_ns(spec.array.rows);
  // The comparator swings its output node (c_comparator_ff) by half the supply with its bias.
  // fF x V / uA = ns
  p.comparator_ns = c.c_comparator_ff * s.cap * 0.5 * c.vdd_v / c.comparator_bias_ua;
  // Ripple-carry: about two FO4 per bit of carry chain, plus clock-to-output and set-up.
  const int out_bits =
      converter_bits(counter_levels(spec.quant.out_levels, c.ideal_equivalent_bits),
                     c.ideal_equivalent_bits) +
      1;
  const int width = out_bits + adder_tree_depth(spec.subtiles_per_head());
  p.adder_stage_ns = (2.0 * width + 3.0) * p.fo4_ns;
  return p;
}

}  // namespace gca::spec
