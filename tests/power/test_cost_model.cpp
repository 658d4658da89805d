// Scaling laws of the component cost model: each test changes one quantity and checks the
// change of an energy, a phase or an area against the formula worked out by hand from the
// parameter values (docs/cost_model.md). No test compares a calibrated total with the paper.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gca/power/cost_model.hpp"
#include "gca/power/energy_table.hpp"
#include "gca/spec/params.hpp"
#include "gca/spec/technology.hpp"

using namespace gca::power;
using gca::spec::HardwareSpec;

namespace {

HardwareSpec spec_with(const std::vector<std::string>& overrides = {}) {
  return gca::spec::load_spec(gca::spec::default_spec_path(), overrides);
}

double pj(const HardwareSpec& s, Action a) {
  return EnergyTable(s).energy_pj(a);
}

std::string spec_error(const std::vector<std::string>& overrides) {
  try {
    spec_with(overrides);
  } catch (const gca::spec::SpecError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(CostModel, ReadChargeScalesWithTmax) {
  const HardwareSpec s15 = spec_with(), s10 = spec_with({"timing.t_max_ns=10"});
  // The charge a cell delivers grows with the time it conducts.
  EXPECT_NEAR(pj(s10, Action::qk_cell_read) / pj(s15, Action::qk_cell_read), 10.0 / 15.0, 1e-12);
  EXPECT_NEAR(pj(s10, Action::av_cell_read) / pj(s15, Action::av_cell_read), 10.0 / 15.0, 1e-12);
  // One charge unit at 15 ns: read_charge_unit_fc x vdd.
  EXPECT_NEAR(pj(s15, Action::qk_cell_read), s15.cost.read_charge_unit_fc * s15.cost.vdd_v * 1e-3,
              1e-15);
  // A full-scale HardSigmoid pulse lasts T_max: the reference current empties the saturation
  // charge within it (Q_sat x V whatever T_max) and the comparator is biased for it: 5 ns less
  // of bias x vdd. The per-conversion part does not depend on T_max.
  EXPECT_NEAR(pj(s15, Action::qk_ctp_pulse) - pj(s10, Action::qk_ctp_pulse),
              s15.cost.comparator_bias_ua * s15.cost.vdd_v * 5.0 * 1e-3, 1e-12);
  EXPECT_NEAR(pj(s15, Action::qk_ctp), pj(s10, Action::qk_ctp), 1e-15);
  // Q and HardSigmoid phases last T_max plus the same delays: 10 ns shorter per token.
  EXPECT_DOUBLE_EQ(s15.timing.token_latency_ns() - s10.timing.token_latency_ns(), 10.0);
}

TEST(CostModel, ConvertersShareOneModel) {
  const HardwareSpec s = spec_with();
  const auto& c = s.cost;
  const double v = c.vdd_v, v2 = v * v;
  // Saturation charges 80 and 40 charge units; integrators sized to hold them at half V_DD.
  const double q_hs = 80.0 * c.read_charge_unit_fc, q_signed = 40.0 * c.read_charge_unit_fc;
  EXPECT_NEAR(gca::spec::integrator_cap_ff(s, q_hs), q_hs / (0.5 * v), 1e-9);
  // K column: precharge 64 x 0.1 fF, the comparator's 5 fF output node, V-line driver
  // 64 x (0.15 fF + 1 um x 0.2 fF/um) at V_in.
  const double vin2 = s.gain_cell.v_in_v * s.gain_cell.v_in_v;
  EXPECT_NEAR(pj(s, Action::qk_ctp), (64 * 0.1 * v2 + 5.0 * v2 + 64 * (0.15 + 0.2) * vin2) * 1e-3,
              1e-9);
  // V output: precharge 64 x 0.1 fF and the comparator's output node.
  EXPECT_NEAR(pj(s, Action::av_ctp), (64 * 0.1 * v2 + 5.0 * v2) * 1e-3, 1e-9);
  // A full-scale pulse: Q_sat V + bias V over the window (T_max; the count phase).
  EXPECT_NEAR(pj(s, Action::qk_ctp_pulse), (q_hs * v + c.comparator_bias_ua * v * 15.0) * 1e-3,
              1e-9);
  EXPECT_NEAR(pj(s, Action::av_ctp_pulse),
              (q_signed * v + c.comparator_bias_ua * v * s.timing.phase_count_ns) * 1e-3, 1e-9);
}

TEST(CostModel, ConverterEnergyFollowsThePulseWidth) {
  // Charge unit 2 fC, comparator bias 10 uA, V_DD 0.9 V, T_max 15 ns, 16-level counter at
  // 1 GHz (count phase 15 ns). HardSigmoid: saturation charge 80 x 2 = 160 fC; a full-scale
  // pulse costs 160 fC x 0.9 V + 10 uA x 0.9 V x 15 ns = 144 + 135 = 279 fJ. Signed: 40 x 2 =
  // 80 fC; 72 + 135 = 207 fJ.
  const HardwareSpec s = spec_with({"cost.read_charge_unit_fc=2", "cost.comparator_bias_ua=10"});
  ASSERT_DOUBLE_EQ(s.timing.phase_count_ns, 15.0);
  const EnergyTable table(s);
  // One sub-tile's conversions: 64 HardSigmoid pulses of 0.3 T_max on average (sum 19.2 full
  // scale) and 64 signed outputs of |o| = 0.25 (sum 16).
  gca::spec::SubTileActivity a;
  a.columns_converted = 64;
  a.phi_pulse_sum = 19.2 * 64;  // each width counted once per V-array cell it drives (d = 64)
  a.outputs_converted = 64;
  a.counter_fullscale = 16.0;
  const ActionCounts c = subtile_actions(a, s);
  EXPECT_NEAR(c[index(Action::qk_ctp_pulse)] * table.energy_pj(Action::qk_ctp_pulse),
              19.2 * 279.0 * 1e-3, 1e-9);
  EXPECT_NEAR(c[index(Action::av_ctp_pulse)] * table.energy_pj(Action::av_ctp_pulse),
              16.0 * 207.0 * 1e-3, 1e-9);
  // No pulse (a column whose charge is at or below zero): only the per-conversion part.
  a.phi_pulse_sum = 0.0;
  a.counter_fullscale = 0.0;
  const ActionCounts none = subtile_actions(a, s);
  EXPECT_DOUBLE_EQ(none[index(Action::qk_ctp_pulse)], 0.0);
  EXPECT_DOUBLE_EQ(none[index(Action::av_ctp_pulse)], 0.0);
}

TEST(CostModel, WriteDacGrowsWithResolutionNotWithWriteTime) {
  const HardwareSpec s8 = spec_with(), s64 = spec_with({"quant.kv_levels=64"});
  const auto& c = s8.cost;
  const double v2 = c.vdd_v * c.vdd_v;
  // Buffer load: 64 cells x 0.1 fF of write bit line + 1 fF storage node = 7.4 fF; settling to
  // half an LSB takes (bits + 1) ln 2 time constants.
  const double c_load = 64 * 0.1 + 1.0;
  const double settle_per_tau = c_load * c.dac_settling_overdrive_v * c.vdd_v * std::log(2.0) / 2;
  // 3 -> 6 bits: 8 -> 64 unit capacitors, 4 -> 7 time constants.
  const double expected_fj =
      c.switching_activity * (64 - 8) * c.dac_unit_cap_ff * v2 + (7 - 4) * settle_per_tau;
  EXPECT_NEAR(pj(s64, Action::dac_kv_conversion) - pj(s8, Action::dac_kv_conversion),
              expected_fj * 1e-3, 1e-12);
  // An ideal DAC is costed with ideal_equivalent_bits (8): 256 capacitors, 9 time constants.
  const HardwareSpec ideal = spec_with({"quant.kv_levels=0"});
  const double ideal_fj =
      c.switching_activity * (256 - 8) * c.dac_unit_cap_ff * v2 + (9 - 4) * settle_per_tau;
  EXPECT_NEAR(pj(ideal, Action::dac_kv_conversion) - pj(s8, Action::dac_kv_conversion),
              ideal_fj * 1e-3, 1e-12);
  // More settling time needs less bias for as long: the same energy.
  EXPECT_NEAR(pj(spec_with({"timing.write_ns=10"}), Action::dac_kv_conversion),
              pj(s8, Action::dac_kv_conversion), 1e-15);
}

TEST(CostModel, QPulseGeneratorGrowsWithResolutionAndReach) {
  const HardwareSpec base = spec_with();
  const auto& c = base.cost;
  const double v2 = c.vdd_v * c.vdd_v;
  // 16 -> 32 levels: 15 steps x 4 bits -> 31 steps x 5 bits of comparison, 2.5 fF each.
  const HardwareSpec q32 = spec_with({"quant.q_levels=32", "timing.t_max_ns=15.5"});
  const double vin2 = base.gain_cell.v_in_v * base.gain_cell.v_in_v;
  EXPECT_NEAR(pj(q32, Action::dac_q_pulse) - pj(base, Action::dac_q_pulse),
              (31 * 5 - 15 * 4) * 2.5 * v2 * 1e-3, 1e-12);
  // Window 1024 -> 256: the word line runs through 4 instead of 16 sub-tiles of 64 cells, each
  // a 0.15 fF gate and 1 um of wire at 0.2 fF/um.
  const HardwareSpec w256 = spec_with({"window=256"});
  EXPECT_NEAR(pj(base, Action::dac_q_pulse) - pj(w256, Action::dac_q_pulse),
              (16 - 4) * 64 * (0.15 + 0.2) * vin2 * 1e-3, 1e-12);
  // The read voltage enters the word-line energy squared.
  const HardwareSpec low = spec_with({"gain_cell.v_in_v=0.6"});
  EXPECT_NEAR(pj(base, Action::dac_q_pulse) - pj(low, Action::dac_q_pulse),
              16 * 64 * (0.15 + 0.2) * (0.81 - 0.36) * 1e-3, 1e-12);
}

TEST(CostModel, CountersAreClockedWhileTheyCount) {
  const HardwareSpec s32 = spec_with(), s64 = spec_with({"quant.out_levels=64"});
  const double v2 = 0.81;
  const double e_sink = (2.0 + s32.cost.c_clock_tree_per_sink_ff) * v2;  // clock pin + tree
  const double e_data = 2.0 * v2, e_fa = 2.5 * v2;
  // 32 levels: sign + 16-level counter (4 bits): a full-scale count is 15 cycles of 4 clocked
  // bits and two changing bits with their increment logic.
  EXPECT_NEAR(pj(s32, Action::counter_count), 15 * (4 * e_sink + 2 * (e_data + e_fa)) * 1e-3,
              1e-12);
  EXPECT_NEAR(pj(s64, Action::counter_count), 31 * (5 * e_sink + 2 * (e_data + e_fa)) * 1e-3,
              1e-12);
  // Per output: the clock gate sees the count phase (15 cycles), the 5-bit output register
  // loads once.
  EXPECT_DOUBLE_EQ(s32.timing.phase_count_ns, 15.0);
  EXPECT_NEAR(pj(s32, Action::counter_clock), (15 * e_sink + 5 * (e_sink + 0.5 * e_data)) * 1e-3,
              1e-12);
  // A slower clock stretches the count phase, but counts the same cycles.
  const HardwareSpec slow = spec_with({"timing.clock_ghz=0.5"});
  EXPECT_DOUBLE_EQ(slow.timing.phase_count_ns, 30.0);
  EXPECT_NEAR(pj(slow, Action::counter_clock), pj(s32, Action::counter_clock), 1e-15);
  EXPECT_NEAR(pj(slow, Action::counter_count), pj(s32, Action::counter_count), 1e-15);
}

TEST(CostModel, DigitalEnergyIsSwitchedCapacitance) {
  // C V^2: the counters at 1.08 V over 0.72 V.
  const HardwareSpec lo = spec_with({"cost.vdd_v=0.72"}), hi = spec_with({"cost.vdd_v=1.08"});
  EXPECT_NEAR(pj(hi, Action::counter_count) / pj(lo, Action::counter_count), 2.25, 1e-12);
  // Capacitance follows the node: 65 nm over 28 nm.
  const HardwareSpec n65 = spec_with({"technology.node_nm=65"});
  EXPECT_NEAR(pj(n65, Action::counter_count) / pj(spec_with(), Action::counter_count), 65.0 / 28,
              1e-12);
  // Without clock gating every flip-flop is clocked every cycle of the token.
  const HardwareSpec s = spec_with(), ungated = spec_with({"cost.clock_gating=0"});
  const double e_sink = (2.0 + s.cost.c_clock_tree_per_sink_ff) * 0.81;
  const double ffs = 16 * 64 * 2 * 5 + 15 * 64 * 9 + 64 * 10 + 10 + 32;
  const double cycles = s.timing.token_latency_ns();  // at 1 GHz
  const double trunk = cycles * std::sqrt(compute_area(s).head_mm2 * 1e6) * 0.2 * 0.81;
  const double load_bit = 0.5 * 2.0 * 0.81;
  EXPECT_NEAR(
      pj(ungated, Action::digital_active),
      (640 * load_bit + 10 * (load_bit + 2.0 * 0.81) + cycles * ffs * e_sink + trunk) * 1e-3, 1e-9);
}

TEST(CostModel, PhasesDeriveFromTheCriticalPath) {
  const HardwareSpec s = spec_with();
  const int handoff = s.timing.handoff_cycles;
  // One sub-tile's stretch of Q word line by hand: 64 cells of 1 um pitch, 64 x 0.15 fF of gates
  // + 64 um x 0.2 fF/um = 22.4 fF, driven through 2 kOhm and 64 um x 2 Ohm/um of wire, after
  // one FO4 (12 ps): 0.012 + (0.69 x 2 + 0.38 x 0.128) x 22.4 / 1000 ns.
  const double stretch = 0.012 + (0.69 * 2.0 + 0.38 * 0.128) * 22.4e-3;
  const auto path = gca::spec::critical_path(s);
  EXPECT_NEAR(path.line_segment_ns, stretch, 1e-12);
  EXPECT_NEAR(path.q_line_ns, 16 * stretch, 1e-12);
  EXPECT_NEAR(path.v_line_ns, stretch, 1e-12);  // 64 rows: the same stretch
  // The pulse phases last the pulses; the Q line's skew, the V line and the two comparators
  // are paid once, in the digital phase, beyond the slack its last cycle leaves.
  EXPECT_DOUBLE_EQ(s.timing.phase_q_ns, 15.0);
  EXPECT_DOUBLE_EQ(s.timing.phase_phi_ns, 15.0);
  auto digital = [&](int n_subtiles, int depth) {
    return depth + handoff + std::ceil((n_subtiles + 1) * stretch + 2 * path.comparator_ns);
  };
  EXPECT_DOUBLE_EQ(s.timing.phase_digital_ns, digital(16, 4));
  EXPECT_DOUBLE_EQ(spec_with({"window=256"}).timing.phase_digital_ns, digital(4, 2));
  EXPECT_DOUBLE_EQ(spec_with({"window=4096"}).timing.phase_digital_ns, digital(64, 6));
  EXPECT_DOUBLE_EQ(
      spec_with({"window=4096", "timing.adder_stage_cycles=2"}).timing.phase_digital_ns,
      digital(64, 12));
  // 64 sub-tiles: the Q line alone takes 2.8 ns, three cycles more than the tree and hand-off.
  EXPECT_GE(digital(64, 6) - (6 + handoff), 3.0);
  // Comparator: 5 fF swung by V_DD / 2 with its bias.
  EXPECT_NEAR(path.comparator_ns, 5.0 * 0.45 / s.cost.comparator_bias_ua, 1e-12);
  // A key set to a duration overrides the derivation.
  const HardwareSpec set = spec_with({"timing.phase_count_ns=20", "timing.phase_digital_ns=7"});
  EXPECT_DOUBLE_EQ(set.timing.phase_count_ns, 20.0);
  EXPECT_DOUBLE_EQ(set.timing.phase_digital_ns, 7.0);
  // Overrides applied one by one re-derive as well.
  HardwareSpec step = spec_with();
  gca::spec::apply_override(step, "window=4096");
  EXPECT_DOUBLE_EQ(step.timing.phase_digital_ns, digital(64, 6));
}

TEST(Technology, AlphaPowerArrheniusAndStorableRange) {
  // 0.72 V on a 0.9 V node with V_th 0.35 V, alpha 1.3: 0.8 x (0.55 / 0.37)^1.3 = 0.8 x exp(1.3 x
  // 0.396415) = 1.339366.
  EXPECT_NEAR(gca::spec::alpha_power_delay_factor(0.72, 0.9, 0.35, 1.3), 1.339366, 1e-6);
  // Ea 0.6 eV, 35 C against 25 C: exp(0.6 / k x (1/308.15 - 1/298.15)) = 0.46867.
  EXPECT_NEAR(gca::spec::arrhenius_retention_factor(0.6, 35.0, 25.0), 0.46867, 1e-5);
  const HardwareSpec hot = spec_with({"retention.tau_ms=5", "technology.temperature_c=35"});
  EXPECT_NEAR(hot.retention.tau_ns(), 5e6 * 0.46867, 5e6 * 1e-5);
  // The cells cannot store above the supply.
  EXPECT_DOUBLE_EQ(gca::spec::storable_max_v(spec_with({"cost.vdd_v=0.72"})), 0.72);
  EXPECT_DOUBLE_EQ(gca::spec::storable_max_v(spec_with({"cost.vdd_v=1.08"})), 0.9);
  EXPECT_NE(spec_error({"cost.vdd_v=0.4"}).find("cost.vdd_v"), std::string::npos);
  // A slower supply slows the FO4 by the alpha-power factor.
  EXPECT_NEAR(gca::spec::critical_path(spec_with({"cost.vdd_v=0.72"})).fo4_ns, 0.012 * 1.339366,
              1e-7);
}

TEST(CostModel, PwmStepShorterThanTheTimeBaseIsRejected) {
  // 16 levels: T_max 7 ns gives 7/15 ns steps, finer than the 0.5 ns time base.
  const std::string msg = spec_error({"timing.t_max_ns=7"});
  EXPECT_NE(msg.find("timing.t_max_ns"), std::string::npos) << msg;
  EXPECT_NE(msg.find("timing.pwm_time_base_ns"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);        // one line
  EXPECT_EQ(spec_error({"timing.t_max_ns=7.5"}), "");  // exactly the time base
  EXPECT_NE(spec_error({"quant.q_levels=64"}), "");    // 15/63 ns steps
}

TEST(CostModel, AreaGrowsWithTheSubTiles) {
  const HardwareSpec s = spec_with();
  const auto& a = s.area;
  const double c_hs = gca::spec::integrator_cap_ff(s, gca::spec::saturation_charge_qk_fc(s));
  const double c_sg = gca::spec::integrator_cap_ff(s, gca::spec::saturation_charge_av_fc(s));
  // One sub-tile by hand: 2 x 64 x 64 cells, 64 HardSigmoid converters (circuit + integrator
  // capacitor at 5 fF/um^2) with drivers, 64 signed converters, 64 counters + output registers
  // of 5 bits each.
  const double subtile_um2 = 2 * 4096 * a.cell_um2 +
                             64 * (a.hs_ctp_um2 + c_hs / 5.0 + a.line_driver_um2) +
                             64 * (a.signed_ctp_um2 + c_sg / 5.0) + 64 * 2 * 5 * a.ff_um2;
  // Adder tree: (n - 1) x 64 adders of 5 + depth bits with their registers.
  const double tree1024 = 15 * 64 * 9 * (a.full_adder_um2 + a.ff_um2);
  const double tree4096 = 63 * 64 * 11 * (a.full_adder_um2 + a.ff_um2);
  const AreaBreakdown b1024 = compute_area(s), b4096 = compute_area(spec_with({"window=4096"}));
  EXPECT_NEAR(b1024.subtile_mm2, subtile_um2 * 1e-6, 1e-12);
  // The write pointer needs 12 instead of 10 bits.
  EXPECT_NEAR(b4096.head_mm2 - b1024.head_mm2,
              (48 * subtile_um2 + tree4096 - tree1024 + 2 * a.ff_um2) * 1e-6, 1e-12);
  // 65 nm: cells and logic scale with the node squared.
  EXPECT_NEAR(compute_area(spec_with({"technology.node_nm=65"})).k_cells_um2,
              4096 * a.cell_um2 * (65.0 / 28) * (65.0 / 28), 1e-9);
}

TEST(CostModel, RefreshShadowCopyIsCosted) {
  const HardwareSpec off = spec_with({"retention.tau_ms=5"});
  const HardwareSpec on = spec_with({"retention.tau_ms=5", "retention.refresh=1"});
  // 2 x 64 features x 1024 slots x 3 bits = 393216 SRAM bits of 0.2 um^2.
  EXPECT_NEAR(compute_area(on).head_mm2 - compute_area(off).head_mm2, 393216 * 0.2 * 1e-6, 1e-12);
  // Leakage: 5 pW per bit, half with each write DAC bank.
  EXPECT_NEAR(static_power(on).write_dac_mw - static_power(off).write_dac_mw, 0.5 * 393216 * 5e-9,
              1e-12);
  // Every conversion moves its 3-bit code through the shadow copy: 3 x 1.2 fF x V^2.
  EXPECT_NEAR(pj(on, Action::dac_kv_conversion) - pj(off, Action::dac_kv_conversion),
              3 * 1.2 * 0.81 * 1e-3, 1e-12);
}

TEST(CostModel, LeakageIsAreaTimesDensity) {
  const HardwareSpec s = spec_with();
  const StaticPower p = static_power(s);
  const AreaBreakdown b = compute_area(s);
  EXPECT_NEAR(p.head_mw(16), b.head_mm2 * s.cost.leakage_mw_per_mm2, 1e-12);
  EXPECT_GT(s.cost.leakage_mw_per_mm2, 0.0);  // a non-zero default
  const StaticPower p2 = static_power(spec_with({"cost.leakage_mw_per_mm2=3"}));
  EXPECT_NEAR(p2.head_mw(16), b.head_mm2 * 3.0, 1e-12);
}

TEST(CostModel, DigitalPerSubTileAndPerHead) {
  const HardwareSpec s = spec_with();
  const double v2 = 0.81, a = 0.5;
  const double e_sink = (2.0 + s.cost.c_clock_tree_per_sink_ff) * v2, e_data = 2.0 * v2;
  const double load_bit = e_sink + a * e_data;
  // Control, per token: the codes of q, k, v (64 x (4 + 3 + 3) bits) load once, the 10-bit
  // pointer advances, 32 sequencer flip-flops and the clock trunk (the head's side of wire)
  // are clocked for the token's 65 cycles.
  const double side_um = std::sqrt(compute_area(s).head_mm2 * 1e6);
  const double cycles = s.timing.token_latency_ns();
  EXPECT_NEAR(pj(s, Action::digital_active),
              (640 * load_bit + 10 * (load_bit + e_data) + cycles * 32 * e_sink +
               cycles * side_um * 0.2 * v2) *
                  1e-3,
              1e-9);
  // Tree input: 5 bits routed across half the head, added and registered at 5 + 4 bits.
  EXPECT_NEAR(pj(s, Action::digital_add),
              (5 * a * 0.5 * side_um * 0.2 * v2 + 9 * (a * 2.5 * v2 + e_sink + a * e_data)) * 1e-3,
              1e-9);
}

TEST(TokenActions, SubTilesAndHeadAddUp) {
  const HardwareSpec s = spec_with({"window=256"});
  gca::spec::SubTileActivity one;
  one.qk_read_charge = 100.0;
  one.columns_converted = 64;
  one.av_read_charge = 50.0;
  one.outputs_converted = 64;
  one.counter_fullscale = 3.0;
  one.phi_pulse_sum = 20.0 * 64;  // HardSigmoid widths summing to 20 T_max, each read by 64 cells
  gca::spec::SubTileActivity sum;
  for (int i = 0; i < 3; ++i) sum.add(one);
  const ActionCounts c = token_actions(sum, 3, s);
  // By hand: 3 active sub-tiles of d = 64 outputs; the head writes one K column and one V line
  // and sends 64 Q pulses; its control sequences one token.
  EXPECT_DOUBLE_EQ(c[index(Action::qk_cell_read)], 300.0);
  EXPECT_DOUBLE_EQ(c[index(Action::qk_ctp)], 192.0);
  EXPECT_DOUBLE_EQ(c[index(Action::av_cell_read)], 150.0);
  EXPECT_DOUBLE_EQ(c[index(Action::counter_count)], 9.0);
  EXPECT_DOUBLE_EQ(c[index(Action::av_ctp_pulse)], 9.0);  // the signed pulses the counters count
  EXPECT_DOUBLE_EQ(c[index(Action::qk_ctp_pulse)], 3 * 20.0);  // phi sums 20 per sub-tile
  EXPECT_DOUBLE_EQ(c[index(Action::counter_clock)], 192.0);
  EXPECT_DOUBLE_EQ(c[index(Action::digital_add)], 192.0);
  EXPECT_DOUBLE_EQ(c[index(Action::dac_kv_conversion)], 128.0);
  EXPECT_DOUBLE_EQ(c[index(Action::cell_write)], 128.0);
  EXPECT_DOUBLE_EQ(c[index(Action::dac_q_pulse)], 64.0);
  EXPECT_DOUBLE_EQ(c[index(Action::digital_active)], 1.0);
}
