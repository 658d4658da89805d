#include "gca/power/cost_model.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace gca::power {

namespace {

std::string format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

// ceil(log2 n) for n >= 1: the bits that address n things.
int address_bits(int n) {
  return gca::spec::adder_tree_depth(n);
}

constexpr double kMm2PerUm2 = 1e-6;

}  // namespace

CircuitSizes circuit_sizes(const gca::spec::HardwareSpec& spec) {
  using namespace gca::spec;
  const int ideal = spec.cost.ideal_equivalent_bits;
  CircuitSizes z;
  z.rows = spec.array.rows;
  z.cols = spec.array.cols;
  z.d_head = spec.model.d_head;
  z.subtiles = spec.subtiles_per_head();
  z.q_bits = converter_bits(spec.quant.q_levels, ideal);
  z.q_levels = spec.quant.q_levels >= 2 ? spec.quant.q_levels : 1 << ideal;
  z.kv_bits = converter_bits(spec.quant.kv_levels, ideal);
  z.counter_levels = counter_levels(spec.quant.out_levels, ideal);
  z.counter_bits = converter_bits(z.counter_levels, ideal);
  z.output_bits = z.counter_bits + 1;
  z.tree_depth = adder_tree_depth(z.subtiles);
  z.tree_width_bits = z.output_bits + z.tree_depth;
  // Input registers for q, k and v, the write pointer over the window, the sequencer.
  z.control_ffs = 3 * z.d_head * spec.cost.input_register_bits + address_bits(spec.window) +
                  spec.cost.control_fsm_ffs;
  z.count_cycles = spec.timing.phase_count_ns * spec.timing.clock_ghz;
  return z;
}

void CostModel::add(const char* name, Action a, double energy_fj, std::string formula,
                    std::string values) {
  components_.push_back(Component{name, a, energy_fj, std::move(formula), std::move(values)});
}

double CostModel::energy_pj(Action a) const {
  double fj = 0.0;
  for (const auto& c : components_) {
    if (c.action == a) fj += c.energy_fj;
  }
  return fj * 1e-3;
}

CostModel::CostModel(const gca::spec::HardwareSpec& spec) : sizes_(circuit_sizes(spec)) {
  const auto& c = spec.cost;
  const auto& z = sizes_;
  const double vdd = c.vdd_v, vdd2 = vdd * vdd;
  const double vin = spec.gain_cell.v_in_v, vin2 = vin * vin;
  const double t_max = spec.timing.t_max_ns, t_ref = spec.charge_to_pulse.t_ref_ns;
  const double t_count = spec.timing.phase_count_ns, t_write = spec.timing.write_ns;
  const double a = c.switching_activity;

  // Gain-cell reads: the charge a column draws from the supply. One charge unit is
  // read_charge_unit_fc over a pulse of t_ref; a longer T_max integrates proportionally more.
  const double read_fj = c.read_charge_unit_fc * (t_max / t_ref) * vdd;
  add("gain-cell read (K array)", Action::qk_cell_read, read_fj,
      "cost.read_charge_unit_fc x timing.t_max_ns / charge_to_pulse.t_ref_ns x cost.vdd_v",
      format("%g fC x %g / %g x %g V", c.read_charge_unit_fc, t_max, t_ref, vdd));
  add("gain-cell read (V array)", Action::av_cell_read, read_fj,
      "cost.read_charge_unit_fc x timing.t_max_ns / charge_to_pulse.t_ref_ns x cost.vdd_v",
      format("%g fC x %g / %g x %g V", c.read_charge_unit_fc, t_max, t_ref, vdd));

  // Per K column: precharge of its bit line (rows cells), the HardSigmoid converter (reset of
  // its integrator, comparator bias while its pulse may last) and the driver of the V-array
  // line the pulse runs along (rows cells' read word line).
  add("K column precharge", Action::qk_ctp, z.rows * c.c_read_bitline_per_cell_ff * vdd2,
      "array.rows x cost.c_read_bitline_per_cell_ff x cost.vdd_v^2",
      format("%d x %g fF x (%g V)^2", z.rows, c.c_read_bitline_per_cell_ff, vdd));
  add("HardSigmoid charge-to-pulse", Action::qk_ctp,
      c.c_ctp_integrator_ff * vdd2 + c.hs_ctp_bias_ua * vdd * t_max,
      "cost.c_ctp_integrator_ff x cost.vdd_v^2 + cost.hs_ctp_bias_ua x cost.vdd_v x "
      "timing.t_max_ns",
      format("%g fF x (%g V)^2 + %g uA x %g V x %g ns", c.c_ctp_integrator_ff, vdd,
             c.hs_ctp_bias_ua, vdd, t_max));
  add("HardSigmoid pulse driver (V-array line)", Action::qk_ctp,
      z.rows * c.c_read_wordline_per_cell_ff * vin2,
      "array.rows x cost.c_read_wordline_per_cell_ff x gain_cell.v_in_v^2",
      format("%d x %g fF x (%g V)^2", z.rows, c.c_read_wordline_per_cell_ff, vin));

  // Per V output: precharge of its output line (cols cells), the signed converter (reset,
  // bias for the count phase during which its pulse is counted).
  add("V output line precharge", Action::av_ctp, z.cols * c.c_read_bitline_per_cell_ff * vdd2,
      "array.cols x cost.c_read_bitline_per_cell_ff x cost.vdd_v^2",
      format("%d x %g fF x (%g V)^2", z.cols, c.c_read_bitline_per_cell_ff, vdd));
  add("signed charge-to-pulse", Action::av_ctp,
      c.c_ctp_integrator_ff * vdd2 + c.signed_ctp_bias_ua * vdd * t_count,
      "cost.c_ctp_integrator_ff x cost.vdd_v^2 + cost.signed_ctp_bias_ua x cost.vdd_v x "
      "phase_count",
      format("%g fF x (%g V)^2 + %g uA x %g V x %g ns", c.c_ctp_integrator_ff, vdd,
             c.signed_ctp_bias_ua, vdd, t_count));

  // Counters: a full-scale count is counter_levels - 1 increments of about two bit toggles
  // each; every counter is clocked through the count phase and loads its output register.
  add("counter increments", Action::counter_count, (z.counter_levels - 1) * 2.0 * c.full_adder_fj,
      "(counter levels - 1) x 2 x cost.full_adder_fj",
      format("%d x 2 x %g fJ", z.counter_levels - 1, c.full_adder_fj));
  add("counter and output register clocking", Action::counter_clock,
      (z.count_cycles + 1.0) * z.output_bits * c.ff_clock_fj,
      "(count cycles + 1) x (counter bits + sign) x cost.ff_clock_fj",
      format("(%g + 1) x %d x %g fJ", z.count_cycles, z.output_bits, c.ff_clock_fj));

  // Adder tree: each sub-tile output travels to the tree and passes through adders and
  // registers as wide as the tree's last stage.
  add("sub-tile output routing", Action::digital_add,
      z.output_bits * a * c.c_route_per_bit_ff * vdd2,
      "(counter bits + sign) x cost.switching_activity x cost.c_route_per_bit_ff x cost.vdd_v^2",
      format("%d x %g x %g fF x (%g V)^2", z.output_bits, a, c.c_route_per_bit_ff, vdd));
  add("adder tree add and register", Action::digital_add,
      z.tree_width_bits * (c.full_adder_fj + c.ff_clock_fj),
      "(output bits + tree depth) x (cost.full_adder_fj + cost.ff_clock_fj)",
      format("(%d + %d) x (%g + %g) fJ", z.output_bits, z.tree_depth, c.full_adder_fj,
             c.ff_clock_fj));

  // Control: its flip-flops are clocked during the whole token; energy per ns of activity.
  add("control and clock (per ns)", Action::digital_active,
      z.control_ffs * c.ff_clock_fj * spec.timing.clock_ghz,
      "(3 d x cost.input_register_bits + ceil(log2 window) + cost.control_fsm_ffs) x "
      "cost.ff_clock_fj x timing.clock_ghz",
      format("%d x %g fJ x %g GHz", z.control_ffs, c.ff_clock_fj, spec.timing.clock_ghz));

  // K/V write: a binary-weighted capacitor DAC of 2^bits unit capacitors, an output buffer
  // whose bias grows with the bits it must settle, the write bit line across the array.
  const double units = std::ldexp(1.0, z.kv_bits);
  add("K/V write DAC", Action::dac_kv_conversion,
      a * units * c.dac_unit_cap_ff * vdd2 + c.dac_buffer_ua_per_bit * z.kv_bits * vdd * t_write,
      "cost.switching_activity x 2^kv_bits x cost.dac_unit_cap_ff x cost.vdd_v^2 + "
      "cost.dac_buffer_ua_per_bit x kv_bits x cost.vdd_v x timing.write_ns",
      format("%g x %g x %g fF x (%g V)^2 + %g uA x %d x %g V x %g ns", a, units, c.dac_unit_cap_ff,
             vdd, c.dac_buffer_ua_per_bit, z.kv_bits, vdd, t_write));
  add("write bit line driver", Action::dac_kv_conversion,
      a * z.cols * c.c_write_bitline_per_cell_ff * vdd2,
      "cost.switching_activity x array.cols x cost.c_write_bitline_per_cell_ff x cost.vdd_v^2",
      format("%g x %d x %g fF x (%g V)^2", a, z.cols, c.c_write_bitline_per_cell_ff, vdd));
  add("gain-cell write", Action::cell_write, a * c.c_storage_ff * vdd2,
      "cost.switching_activity x cost.c_storage_ff x cost.vdd_v^2",
      format("%g x %g fF x (%g V)^2", a, c.c_storage_ff, vdd));

  // Q pulses: the generator compares its code with a shared time base at each of the
  // q_levels - 1 steps; the driver charges a read word line through every sub-tile.
  add("Q pulse generator", Action::dac_q_pulse, (z.q_levels - 1) * z.q_bits * c.full_adder_fj,
      "(q levels - 1) x q_bits x cost.full_adder_fj",
      format("%d x %d x %g fJ", z.q_levels - 1, z.q_bits, c.full_adder_fj));
  add("Q read word line driver", Action::dac_q_pulse,
      double(z.subtiles) * z.cols * c.c_read_wordline_per_cell_ff * vin2,
      "sub-tiles x array.cols x cost.c_read_wordline_per_cell_ff x gain_cell.v_in_v^2",
      format("%d x %d x %g fF x (%g V)^2", z.subtiles, z.cols, c.c_read_wordline_per_cell_ff, vin));
}

AreaBreakdown compute_area(const gca::spec::HardwareSpec& spec) {
  const auto& ar = spec.area;
  const CircuitSizes z = circuit_sizes(spec);
  AreaBreakdown b;
  b.cell_um2 = ar.cell_um2;
  b.cells_per_subtile = 2L * z.rows * z.cols;
  b.subtiles_per_head = z.subtiles;
  b.cells_per_head = b.cells_per_subtile * z.subtiles;
  b.k_cells_um2 = double(z.rows) * z.cols * ar.cell_um2;
  b.v_cells_um2 = b.k_cells_um2;
  b.hs_converters_um2 = z.cols * (ar.hs_ctp_um2 + ar.line_driver_um2);
  b.signed_converters_um2 = z.rows * ar.signed_ctp_um2;
  b.counters_um2 = z.rows * 2.0 * z.output_bits * ar.ff_um2;  // counter + output register
  b.adder_tree_um2 =
      double(z.subtiles - 1) * z.rows * z.tree_width_bits * (ar.full_adder_um2 + ar.ff_um2);
  b.write_dacs_um2 =
      2.0 * z.rows * (std::ldexp(1.0, z.kv_bits) * ar.dac_unit_cap_um2 + ar.line_driver_um2);
  b.q_generators_um2 = z.rows * (z.q_bits * ar.ff_um2 + ar.line_driver_um2);
  b.control_um2 = ar.control_um2 + z.control_ffs * ar.ff_um2;

  b.subtile_cells_mm2 = (b.k_cells_um2 + b.v_cells_um2) * kMm2PerUm2;
  b.subtile_periphery_mm2 =
      (b.hs_converters_um2 + b.signed_converters_um2 + b.counters_um2) * kMm2PerUm2;
  b.subtile_mm2 = b.subtile_cells_mm2 + b.subtile_periphery_mm2;
  b.head_control_mm2 =
      (b.adder_tree_um2 + b.write_dacs_um2 + b.q_generators_um2 + b.control_um2) * kMm2PerUm2;
  b.head_mm2 = z.subtiles * b.subtile_mm2 + b.head_control_mm2;
  b.layer_mm2 = spec.model.n_heads * b.head_mm2;
  b.model_mm2 = spec.model.n_layers * b.layer_mm2;
  return b;
}

StaticPower static_power(const gca::spec::HardwareSpec& spec) {
  const AreaBreakdown b = compute_area(spec);
  const double mw_per_um2 = spec.cost.leakage_mw_per_mm2 * kMm2PerUm2;
  StaticPower p;
  p.k_array_mw = (b.k_cells_um2 + b.hs_converters_um2) * mw_per_um2;
  p.v_array_mw = (b.v_cells_um2 + b.signed_converters_um2) * mw_per_um2;
  p.counters_mw = b.counters_um2 * mw_per_um2;
  p.control_mw = (b.control_um2 + b.adder_tree_um2) * mw_per_um2;
  p.q_pulses_mw = b.q_generators_um2 * mw_per_um2;
  p.write_dac_mw = 0.5 * b.write_dacs_um2 * mw_per_um2;
  return p;
}

}  // namespace gca::power
