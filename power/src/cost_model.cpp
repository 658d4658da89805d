#include "gca/power/cost_model.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "gca/spec/technology.hpp"

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
// Single-pole settling to half an LSB of b bits takes (b + 1) ln 2 time constants.
constexpr double kLn2 = 0.69314718055994531;

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
  // Input registers hold the codes the link carries (a Q code and a K and a V code per
  // feature); the write pointer addresses the window.
  z.input_register_bits = z.d_head * (z.q_bits + 2 * z.kv_bits);
  z.pointer_bits = address_bits(spec.window);
  z.control_ffs = z.input_register_bits + z.pointer_bits + spec.cost.control_fsm_ffs;
  z.count_cycles = spec.timing.phase_count_ns * spec.timing.clock_ghz;
  z.token_cycles = spec.timing.token_latency_ns() * spec.timing.clock_ghz;
  z.head_ffs = double(z.subtiles) * z.d_head * 2 * z.output_bits +
               double(z.subtiles - 1) * z.d_head * z.tree_width_bits + z.control_ffs;
  z.shadow_bits = spec.retention.refresh == 1 ? 2.0 * z.d_head * spec.window * z.kv_bits : 0.0;
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
  using gca::spec::technology_scale;
  const auto& c = spec.cost;
  const auto& z = sizes_;
  const gca::spec::TechnologyScale s = technology_scale(spec);
  const gca::spec::CriticalPath path = gca::spec::critical_path(spec);
  const double vdd = c.vdd_v, vdd2 = vdd * vdd;
  const double vin = spec.gain_cell.v_in_v, vin2 = vin * vin;
  const double t_max = spec.timing.t_max_ns, t_ref = spec.charge_to_pulse.t_ref_ns;
  const double t_count = spec.timing.phase_count_ns;
  const double a = c.switching_activity;
  const bool gated = c.clock_gating == 1;
  const double pitch = path.cell_pitch_um;

  // Logic at this node and supply: every energy is a capacitance switched at V_DD.
  const double e_clk = c.c_ff_clock_ff * s.cap * vdd2;              // clock pin, per cycle
  const double e_tree = c.c_clock_tree_per_sink_ff * s.cap * vdd2;  // its clock-tree share
  const double e_sink = e_clk + e_tree;
  const double e_data = c.c_ff_data_ff * s.cap * vdd2;   // a stored bit that changes
  const double e_fa = c.c_full_adder_ff * s.cap * vdd2;  // a full-adder bit that switches
  const std::string sink_text = "(cost.c_ff_clock_ff + cost.c_clock_tree_per_sink_ff) x node";
  const std::string v2_text = "cost.vdd_v^2";

  // Gain-cell reads: the charge a column's push-pull cells source or sink, sum of width x |g|
  // (SubTileActivity::qk_read_charge). One charge unit is read_charge_unit_fc over a pulse of
  // t_ref; a longer T_max integrates proportionally more.
  const double read_fj = c.read_charge_unit_fc * (t_max / t_ref) * vdd;
  for (Action act : {Action::qk_cell_read, Action::av_cell_read}) {
    add(act == Action::qk_cell_read ? "gain-cell read (K array)" : "gain-cell read (V array)", act,
        read_fj,
        "cost.read_charge_unit_fc x timing.t_max_ns / charge_to_pulse.t_ref_ns x cost.vdd_v",
        format("%g fC x %g / %g x %g V", c.read_charge_unit_fc, t_max, t_ref, vdd));
  }

  // One model for both charge-to-pulse converters. A reference current empties the
  // saturation charge within the converter's window (I_ref = Q_sat / t_window) and a comparator
  // biased at I_c ends the pulse when the integrator crosses its threshold; both are switched
  // off with the pulse, so they run for the pulse width only: a full-scale pulse costs
  // (Q_sat + I_c t_window) V_DD (the pulse action, in full-scale pulses), a pulse of width x
  // that times x. Each conversion also swings the comparator's output node once.
  auto converter = [&](const char* name, Action conversion, Action pulse, double q_sat_fc,
                       double window_ns, const char* window_text) {
    add((std::string(name) + " comparator decision").c_str(), conversion,
        c.c_comparator_ff * s.cap * vdd2, "cost.c_comparator_ff x node x " + v2_text,
        format("%g fF x %g x (%g V)^2", c.c_comparator_ff, s.cap, vdd));
    add((std::string(name) + " reference and bias while the pulse lasts").c_str(), pulse,
        q_sat_fc * vdd + c.comparator_bias_ua * vdd * window_ns,
        std::string("Q_sat x cost.vdd_v + cost.comparator_bias_ua x cost.vdd_v x ") + window_text,
        format("%g fC x %g V + %g uA x %g V x %g ns", q_sat_fc, vdd, c.comparator_bias_ua, vdd,
               window_ns));
  };

  // Per K column: precharge of its bit line, the HardSigmoid converter, and the driver of the
  // V-array line its pulse runs along (rows gates and rows cell pitches of wire).
  add("K column precharge", Action::qk_ctp, z.rows * c.c_read_bitline_per_cell_ff * s.cap * vdd2,
      "array.rows x cost.c_read_bitline_per_cell_ff x node x " + v2_text,
      format("%d x %g fF x %g x (%g V)^2", z.rows, c.c_read_bitline_per_cell_ff, s.cap, vdd));
  converter("HardSigmoid charge-to-pulse", Action::qk_ctp, Action::qk_ctp_pulse,
            gca::spec::saturation_charge_qk_fc(spec), t_max, "timing.t_max_ns");
  const double v_line_ff =
      z.rows * (c.c_read_wordline_per_cell_ff * s.cap + pitch * c.c_wire_per_um_ff);
  add("HardSigmoid pulse driver (V-array line)", Action::qk_ctp, v_line_ff * vin2,
      "array.rows x (cost.c_read_wordline_per_cell_ff x node + cell pitch x cost.c_wire_per_um_ff)"
      " x gain_cell.v_in_v^2",
      format("%g fF x (%g V)^2", v_line_ff, vin));

  // Per V output: precharge of its output line and the signed converter, whose pulse is
  // counted during the count phase.
  add("V output line precharge", Action::av_ctp,
      z.cols * c.c_read_bitline_per_cell_ff * s.cap * vdd2,
      "array.cols x cost.c_read_bitline_per_cell_ff x node x " + v2_text,
      format("%d x %g fF x %g x (%g V)^2", z.cols, c.c_read_bitline_per_cell_ff, s.cap, vdd));
  converter("signed charge-to-pulse", Action::av_ctp, Action::av_ctp_pulse,
            gca::spec::saturation_charge_av_fc(spec), t_count, "count phase");

  // Counters. Gated: a counter is clocked only while its pulse lasts, (levels - 1) cycles for a
  // full-scale count, about two bits changing per increment; its clock gate sees the count
  // phase's clock; the output register loads once. Ungated: the clock of every flip-flop is
  // booked with the control (digital_active) and only the data switching stays here.
  const double count_clock = gated ? z.counter_bits * e_sink : 0.0;
  add("counter increments", Action::counter_count,
      (z.counter_levels - 1) * (count_clock + 2.0 * (e_data + e_fa)),
      gated ? "(counter levels - 1) x (counter bits x " + sink_text +
                  " + 2 x (cost.c_ff_data_ff + "
                  "cost.c_full_adder_ff) x node) x " +
                  v2_text
            : "(counter levels - 1) x 2 x (cost.c_ff_data_ff + cost.c_full_adder_ff) x node x " +
                  v2_text,
      format("%d x (%g + 2 x (%g + %g)) fJ", z.counter_levels - 1, count_clock, e_data, e_fa));
  const double gate_fj = gated ? z.count_cycles * e_sink : 0.0;
  const double load_fj = z.output_bits * ((gated ? e_sink : 0.0) + a * e_data);
  add("counter clock gate and output register", Action::counter_clock, gate_fj + load_fj,
      gated ? "count cycles x " + sink_text + " x " + v2_text + " + (counter bits + sign) x (" +
                  sink_text + " + cost.switching_activity x cost.c_ff_data_ff x node) x " + v2_text
            : "(counter bits + sign) x cost.switching_activity x cost.c_ff_data_ff x node x " +
                  v2_text,
      format("%g x %g fJ + %d x (%g + %g x %g) fJ", gated ? z.count_cycles : 0.0, e_sink,
             z.output_bits, gated ? e_sink : 0.0, a, e_data));

  // Adder tree: each sub-tile output crosses half the head to the tree and passes through
  // adders and registers as wide as the tree's last stage.
  const double head_side_um = std::sqrt(compute_area(spec).head_mm2 / kMm2PerUm2);
  const double route_ff = 0.5 * head_side_um * c.c_wire_per_um_ff;
  add("sub-tile output routing", Action::digital_add, z.output_bits * a * route_ff * vdd2,
      "(counter bits + sign) x cost.switching_activity x (head side / 2) x cost.c_wire_per_um_ff "
      "x " +
          v2_text,
      format("%d x %g x %g fF x (%g V)^2", z.output_bits, a, route_ff, vdd));
  const double add_bit = a * e_fa + (gated ? e_sink : 0.0) + a * e_data;
  add("adder tree add and register", Action::digital_add, z.tree_width_bits * add_bit,
      "(output bits + tree depth) x (switching x (full adder + data) + clocked sink)",
      format("%d x %g fJ", z.tree_width_bits, add_bit));

  // Control, per token: the input registers load the link's codes once, the write pointer
  // advances, the sequencer is clocked for the token's cycles (it times the phases) and so is
  // the clock trunk that crosses the head. Without clock gating every flip-flop of the head is
  // clocked for every cycle of the token.
  const double load_bit = (gated ? e_sink : 0.0) + a * e_data;
  add("input registers (codes of q, k, v)", Action::digital_active,
      z.input_register_bits * load_bit,
      "d x (q bits + 2 kv bits) x (clocked sink + switching x data)",
      format("%d x %g fJ", z.input_register_bits, load_bit));
  add("write pointer", Action::digital_active, z.pointer_bits * (load_bit + e_data),
      "ceil(log2 window) x (clocked sink + data)",
      format("%d x %g fJ", z.pointer_bits, load_bit + e_data));
  const double clocked_ffs = gated ? double(c.control_fsm_ffs) : z.head_ffs;
  add(gated ? "sequencer clock" : "every flip-flop's clock (ungated)", Action::digital_active,
      z.token_cycles * clocked_ffs * e_sink,
      std::string("token cycles x ") + (gated ? "cost.control_fsm_ffs" : "flip-flops of the head") +
          " x " + sink_text + " x " + v2_text,
      format("%g x %g x %g fJ", z.token_cycles, clocked_ffs, e_sink));
  const double trunk_ff = head_side_um * c.c_wire_per_um_ff;
  add("clock trunk across the head", Action::digital_active, z.token_cycles * trunk_ff * vdd2,
      "token cycles x head side x cost.c_wire_per_um_ff x " + v2_text,
      format("%g x %g fF x (%g V)^2", z.token_cycles, trunk_ff, vdd));

  // K/V write: a binary-weighted capacitor DAC (unit capacitors sized by matching, not by the
  // node), a class-A buffer that settles the write bit line to half an LSB within the write
  // (bias ~ C V_ov (b+1) ln 2 / (2 t_w) held for t_w: the energy does not depend on t_w), the
  // write bit line across the array and, with the refresh policy built in, the code's bits
  // written into (or read back from) the SRAM shadow copy.
  const double units = std::ldexp(1.0, z.kv_bits);
  const double c_wbl = z.cols * c.c_write_bitline_per_cell_ff * s.cap;
  const double c_load = c_wbl + c.c_storage_ff * s.cap;
  add("K/V write DAC capacitors", Action::dac_kv_conversion, a * units * c.dac_unit_cap_ff * vdd2,
      "cost.switching_activity x 2^kv_bits x cost.dac_unit_cap_ff x " + v2_text,
      format("%g x %g x %g fF x (%g V)^2", a, units, c.dac_unit_cap_ff, vdd));
  const double settle = c_load * c.dac_settling_overdrive_v * vdd * (z.kv_bits + 1) * kLn2 / 2.0;
  add("K/V write DAC settling buffer", Action::dac_kv_conversion, settle,
      "C_load x cost.dac_settling_overdrive_v x cost.vdd_v x (kv_bits + 1) ln 2 / 2, C_load = "
      "(array.cols x cost.c_write_bitline_per_cell_ff + cost.c_storage_ff) x node",
      format("%g fF x %g V x %g V x %d x 0.693 / 2", c_load, c.dac_settling_overdrive_v, vdd,
             z.kv_bits + 1));
  add("write bit line", Action::dac_kv_conversion, a * c_wbl * vdd2,
      "cost.switching_activity x array.cols x cost.c_write_bitline_per_cell_ff x node x " + v2_text,
      format("%g x %g fF x (%g V)^2", a, c_wbl, vdd));
  if (z.shadow_bits > 0.0) {
    const double sram_fj = z.kv_bits * c.c_sram_bit_ff * s.cap * vdd2;
    add("shadow copy access (SRAM)", Action::dac_kv_conversion, sram_fj,
        "kv_bits x cost.c_sram_bit_ff x node x " + v2_text,
        format("%d x %g fF x %g x (%g V)^2", z.kv_bits, c.c_sram_bit_ff, s.cap, vdd));
  }
  add("gain-cell write", Action::cell_write, a * c.c_storage_ff * s.cap * vdd2,
      "cost.switching_activity x cost.c_storage_ff x node x " + v2_text,
      format("%g x %g fF x %g x (%g V)^2", a, c.c_storage_ff, s.cap, vdd));

  // Q pulses: the generator compares its code with a shared time base at each of the
  // q_levels - 1 steps; the driver charges a read word line through every sub-tile (gates and
  // wire).
  add("Q pulse generator", Action::dac_q_pulse, (z.q_levels - 1) * z.q_bits * e_fa,
      "(q levels - 1) x q_bits x cost.c_full_adder_ff x node x " + v2_text,
      format("%d x %d x %g fJ", z.q_levels - 1, z.q_bits, e_fa));
  const double q_line_ff = double(z.subtiles) * z.cols *
                           (c.c_read_wordline_per_cell_ff * s.cap + pitch * c.c_wire_per_um_ff);
  add("Q read word line driver", Action::dac_q_pulse, q_line_ff * vin2,
      "sub-tiles x array.cols x (cost.c_read_wordline_per_cell_ff x node + cell pitch x "
      "cost.c_wire_per_um_ff) x gain_cell.v_in_v^2",
      format("%g fF x (%g V)^2", q_line_ff, vin));
}

AreaBreakdown compute_area(const gca::spec::HardwareSpec& spec) {
  const auto& ar = spec.area;
  const CircuitSizes z = circuit_sizes(spec);
  const gca::spec::TechnologyScale s = gca::spec::technology_scale(spec);
  const double logic = s.logic_area, analog = s.analog_area;
  const double cap_density = spec.cost.cap_density_ff_per_um2;
  AreaBreakdown b;
  b.cell_um2 = ar.cell_um2 * logic;
  b.cells_per_subtile = 2L * z.rows * z.cols;
  b.subtiles_per_head = z.subtiles;
  b.cells_per_head = b.cells_per_subtile * z.subtiles;
  b.k_cells_um2 = double(z.rows) * z.cols * b.cell_um2;
  b.v_cells_um2 = b.k_cells_um2;
  b.hs_integrator_um2 =
      gca::spec::integrator_cap_ff(spec, gca::spec::saturation_charge_qk_fc(spec)) / cap_density;
  b.signed_integrator_um2 =
      gca::spec::integrator_cap_ff(spec, gca::spec::saturation_charge_av_fc(spec)) / cap_density;
  b.hs_converters_um2 =
      z.cols * (ar.hs_ctp_um2 * analog + b.hs_integrator_um2 + ar.line_driver_um2 * logic);
  b.signed_converters_um2 = z.rows * (ar.signed_ctp_um2 * analog + b.signed_integrator_um2);
  b.counters_um2 = z.rows * 2.0 * z.output_bits * ar.ff_um2 * logic;  // counter + output reg
  b.adder_tree_um2 =
      double(z.subtiles - 1) * z.rows * z.tree_width_bits * (ar.full_adder_um2 + ar.ff_um2) * logic;
  b.write_dacs_um2 =
      2.0 * z.rows *
      (std::ldexp(1.0, z.kv_bits) * ar.dac_unit_cap_um2 * analog + ar.line_driver_um2 * logic);
  b.q_generators_um2 = z.rows * (z.q_bits * ar.ff_um2 + ar.line_driver_um2) * logic;
  b.control_um2 = (ar.control_um2 + z.control_ffs * ar.ff_um2) * logic;
  b.shadow_um2 = z.shadow_bits * ar.sram_bit_um2 * logic;

  b.subtile_cells_mm2 = (b.k_cells_um2 + b.v_cells_um2) * kMm2PerUm2;
  b.subtile_periphery_mm2 =
      (b.hs_converters_um2 + b.signed_converters_um2 + b.counters_um2) * kMm2PerUm2;
  b.subtile_mm2 = b.subtile_cells_mm2 + b.subtile_periphery_mm2;
  b.head_control_mm2 =
      (b.adder_tree_um2 + b.write_dacs_um2 + b.q_generators_um2 + b.control_um2 + b.shadow_um2) *
      kMm2PerUm2;
  b.head_mm2 = z.subtiles * b.subtile_mm2 + b.head_control_mm2;
  b.layer_mm2 = spec.model.n_heads * b.head_mm2;
  b.model_mm2 = spec.model.n_layers * b.layer_mm2;
  return b;
}

StaticPower static_power(const gca::spec::HardwareSpec& spec) {
  const AreaBreakdown b = compute_area(spec);
  const CircuitSizes z = circuit_sizes(spec);
  const gca::spec::TechnologyScale s = gca::spec::technology_scale(spec);
  const double mw_per_um2 = spec.cost.leakage_mw_per_mm2 * s.leakage * kMm2PerUm2;
  StaticPower p;
  p.k_array_mw = (b.k_cells_um2 + b.hs_converters_um2) * mw_per_um2;
  p.v_array_mw = (b.v_cells_um2 + b.signed_converters_um2) * mw_per_um2;
  p.counters_mw = b.counters_um2 * mw_per_um2;
  p.control_mw = (b.control_um2 + b.adder_tree_um2) * mw_per_um2;
  p.q_pulses_mw = b.q_generators_um2 * mw_per_um2;
  // The shadow copy feeds the write DACs: half its bits with each bank (pW -> mW: 1e-9).
  const double shadow_mw = z.shadow_bits * spec.cost.sram_leakage_pw_per_bit * s.leakage * 1e-9;
  p.write_dac_mw = 0.5 * (b.write_dacs_um2 * mw_per_um2 + shadow_mw);
  return p;
}

}  // namespace gca::power
