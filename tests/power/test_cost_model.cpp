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
  // The HardSigmoid comparator is biased for T_max: 5 ns less of hs_ctp_bias_ua x vdd.
  EXPECT_NEAR(pj(s15, Action::qk_ctp) - pj(s10, Action::qk_ctp),
              s15.cost.hs_ctp_bias_ua * s15.cost.vdd_v * 5.0 * 1e-3, 1e-12);
  // Q and HardSigmoid phases last T_max: 10 ns shorter per token.
  EXPECT_DOUBLE_EQ(s15.timing.token_latency_ns() - s10.timing.token_latency_ns(), 10.0);
}

TEST(CostModel, WriteDacGrowsWithResolution) {
  const HardwareSpec s8 = spec_with(), s64 = spec_with({"quant.kv_levels=64"});
  const auto& c = s8.cost;
  const double v2 = c.vdd_v * c.vdd_v;
  // 3 -> 6 bits: 8 -> 64 unit capacitors, buffer bias for 3 -> 6 bits over the write.
  const double expected_fj = c.switching_activity * (64 - 8) * c.dac_unit_cap_ff * v2 +
                             c.dac_buffer_ua_per_bit * (6 - 3) * c.vdd_v * s8.timing.write_ns;
  EXPECT_NEAR(pj(s64, Action::dac_kv_conversion) - pj(s8, Action::dac_kv_conversion),
              expected_fj * 1e-3, 1e-12);
  // An ideal DAC is costed with ideal_equivalent_bits (8): 256 capacitors, 8 bits of buffer.
  const HardwareSpec ideal = spec_with({"quant.kv_levels=0"});
  const double ideal_fj = c.switching_activity * (256 - 8) * c.dac_unit_cap_ff * v2 +
                          c.dac_buffer_ua_per_bit * (8 - 3) * c.vdd_v * s8.timing.write_ns;
  EXPECT_NEAR(pj(ideal, Action::dac_kv_conversion) - pj(s8, Action::dac_kv_conversion),
              ideal_fj * 1e-3, 1e-12);
}

TEST(CostModel, QPulseGeneratorGrowsWithResolutionAndReach) {
  const HardwareSpec base = spec_with();
  const auto& c = base.cost;
  // 16 -> 32 levels: 15 steps x 4 bits -> 31 steps x 5 bits of comparison.
  const HardwareSpec q32 = spec_with({"quant.q_levels=32", "timing.t_max_ns=15.5"});
  const double vin2 = base.gain_cell.v_in_v * base.gain_cell.v_in_v;
  EXPECT_NEAR(pj(q32, Action::dac_q_pulse) - pj(base, Action::dac_q_pulse),
              (31 * 5 - 15 * 4) * c.full_adder_fj * 1e-3, 1e-12);
  // Window 1024 -> 256: the word line runs through 4 instead of 16 sub-tiles of 64 cells.
  const HardwareSpec w256 = spec_with({"window=256"});
  EXPECT_NEAR(pj(base, Action::dac_q_pulse) - pj(w256, Action::dac_q_pulse),
              (16 - 4) * 64 * c.c_read_wordline_per_cell_ff * vin2 * 1e-3, 1e-12);
  // The read voltage enters the word-line energy squared.
  const HardwareSpec low = spec_with({"gain_cell.v_in_v=0.6"});
  EXPECT_NEAR(pj(base, Action::dac_q_pulse) - pj(low, Action::dac_q_pulse),
              16 * 64 * c.c_read_wordline_per_cell_ff * (0.81 - 0.36) * 1e-3, 1e-12);
}

TEST(CostModel, CountersFollowTheirLevels) {
  const HardwareSpec s32 = spec_with(), s64 = spec_with({"quant.out_levels=64"});
  const double e_ff = s32.cost.ff_clock_fj, e_fa = s32.cost.full_adder_fj;
  // 32 levels: sign + 16-level counter (4 bits), 15 ns at 1 GHz; 64 levels: 32 levels, 31 ns.
  EXPECT_DOUBLE_EQ(s32.timing.phase_count_ns, 15.0);
  EXPECT_DOUBLE_EQ(s64.timing.phase_count_ns, 31.0);
  EXPECT_NEAR(pj(s32, Action::counter_clock), (15 + 1) * 5 * e_ff * 1e-3, 1e-12);
  EXPECT_NEAR(pj(s64, Action::counter_clock), (31 + 1) * 6 * e_ff * 1e-3, 1e-12);
  EXPECT_NEAR(pj(s64, Action::counter_count), 31 * 2 * e_fa * 1e-3, 1e-12);
  // The signed converter stays biased through the longer count phase.
  EXPECT_NEAR(pj(s64, Action::av_ctp) - pj(s32, Action::av_ctp),
              s32.cost.signed_ctp_bias_ua * s32.cost.vdd_v * 16.0 * 1e-3, 1e-12);
  // A slower clock stretches the count phase.
  EXPECT_DOUBLE_EQ(spec_with({"timing.clock_ghz=0.5"}).timing.phase_count_ns, 30.0);
}

TEST(CostModel, PhasesDeriveFromTheCircuitsUnlessSet) {
  const HardwareSpec s = spec_with();
  const int handoff = s.timing.handoff_cycles;
  // Digital sum: adder-tree depth (log2 of the sub-tiles) + hand-off, at 1 GHz.
  EXPECT_DOUBLE_EQ(s.timing.phase_digital_ns, 4 + handoff);
  EXPECT_DOUBLE_EQ(spec_with({"window=256"}).timing.phase_digital_ns, 2 + handoff);
  EXPECT_DOUBLE_EQ(spec_with({"window=4096"}).timing.phase_digital_ns, 6 + handoff);
  EXPECT_DOUBLE_EQ(
      spec_with({"window=4096", "timing.adder_stage_cycles=2"}).timing.phase_digital_ns,
      12 + handoff);
  EXPECT_DOUBLE_EQ(s.timing.phase_q_ns, 15.0);
  EXPECT_DOUBLE_EQ(s.timing.phase_phi_ns, 15.0);
  // A key set to a duration overrides the derivation.
  const HardwareSpec set = spec_with({"timing.phase_count_ns=20", "timing.phase_digital_ns=7"});
  EXPECT_DOUBLE_EQ(set.timing.phase_count_ns, 20.0);
  EXPECT_DOUBLE_EQ(set.timing.phase_digital_ns, 7.0);
  // Overrides applied one by one re-derive as well.
  HardwareSpec step = spec_with();
  gca::spec::apply_override(step, "window=4096");
  EXPECT_DOUBLE_EQ(step.timing.phase_digital_ns, 6 + handoff);
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
  // One sub-tile by hand: 2 x 64 x 64 cells, 64 HardSigmoid converters with drivers, 64 signed
  // converters, 64 counters + output registers of 5 bits each.
  const double subtile_um2 = 2 * 4096 * a.cell_um2 + 64 * (a.hs_ctp_um2 + a.line_driver_um2) +
                             64 * a.signed_ctp_um2 + 64 * 2 * 5 * a.ff_um2;
  // Adder tree: (n - 1) x 64 adders of 5 + depth bits with their registers.
  const double tree1024 = 15 * 64 * 9 * (a.full_adder_um2 + a.ff_um2);
  const double tree4096 = 63 * 64 * 11 * (a.full_adder_um2 + a.ff_um2);
  const AreaBreakdown b1024 = compute_area(s), b4096 = compute_area(spec_with({"window=4096"}));
  EXPECT_NEAR(b1024.subtile_mm2, subtile_um2 * 1e-6, 1e-12);
  // The write pointer needs 12 instead of 10 bits.
  EXPECT_NEAR(b4096.head_mm2 - b1024.head_mm2,
              (48 * subtile_um2 + tree4096 - tree1024 + 2 * a.ff_um2) * 1e-6, 1e-12);
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
  const auto& c = s.cost;
  // Control: 3 x 64 x 8 input register bits + 10 pointer bits + 32 sequencer flip-flops,
  // clocked at 1 GHz: energy per ns of activity.
  EXPECT_NEAR(pj(s, Action::digital_active), (3 * 64 * 8 + 10 + 32) * c.ff_clock_fj * 1e-3, 1e-12);
  // Tree input: routed 5 bits, added and registered at 5 + 4 bits.
  const double v2 = c.vdd_v * c.vdd_v;
  EXPECT_NEAR(pj(s, Action::digital_add),
              (5 * c.switching_activity * c.c_route_per_bit_ff * v2 +
               9 * (c.full_adder_fj + c.ff_clock_fj)) *
                  1e-3,
              1e-12);
}

TEST(TokenActions, SubTilesAndHeadAddUp) {
  const HardwareSpec s = spec_with({"window=256"});
  gca::spec::SubTileActivity one;
  one.qk_read_charge = 100.0;
  one.columns_converted = 64;
  one.av_read_charge = 50.0;
  one.outputs_converted = 64;
  one.counter_fullscale = 3.0;
  gca::spec::SubTileActivity sum;
  for (int i = 0; i < 3; ++i) sum.add(one);
  const ActionCounts c = token_actions(sum, 3, s);
  // By hand: 3 active sub-tiles of d = 64 outputs; the head writes one K column and one V line
  // and sends 64 Q pulses; its control runs for the token (63 ns with 4 sub-tiles).
  EXPECT_DOUBLE_EQ(c[index(Action::qk_cell_read)], 300.0);
  EXPECT_DOUBLE_EQ(c[index(Action::qk_ctp)], 192.0);
  EXPECT_DOUBLE_EQ(c[index(Action::av_cell_read)], 150.0);
  EXPECT_DOUBLE_EQ(c[index(Action::counter_count)], 9.0);
  EXPECT_DOUBLE_EQ(c[index(Action::counter_clock)], 192.0);
  EXPECT_DOUBLE_EQ(c[index(Action::digital_add)], 192.0);
  EXPECT_DOUBLE_EQ(c[index(Action::dac_kv_conversion)], 128.0);
  EXPECT_DOUBLE_EQ(c[index(Action::cell_write)], 128.0);
  EXPECT_DOUBLE_EQ(c[index(Action::dac_q_pulse)], 64.0);
  EXPECT_DOUBLE_EQ(c[index(Action::digital_active)], 63.0);
}
