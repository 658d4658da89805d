// Circuit models against values worked out by hand (and, for g, evaluated from the paper's
// coefficient table with a calculator).
#include <gtest/gtest.h>

#include <cmath>

#include "gca/spec/circuits.hpp"
#include "gca/spec/gain_cell_array.hpp"
#include "gca/spec/params.hpp"

using namespace gca::spec;

namespace {
HardwareSpec default_spec(std::vector<std::string> overrides = {}) {
  return load_spec(default_spec_path(), overrides);
}
}  // namespace

TEST(Quantizer, SixteenLevelPulseWidths) {
  Quantizer q(16, 0.0, 1.0);  // step 1/15
  EXPECT_DOUBLE_EQ(q(0.0), 0.0);
  EXPECT_DOUBLE_EQ(q(1.0), 1.0);
  EXPECT_DOUBLE_EQ(q(0.5), 8.0 / 15.0);   // 7.5 steps: the tie rounds up
  EXPECT_DOUBLE_EQ(q(0.03), 0.0);         // 0.45 steps
  EXPECT_DOUBLE_EQ(q(0.04), 1.0 / 15.0);  // 0.6 steps
  EXPECT_DOUBLE_EQ(q(1.2), 1.0);          // clamped
  EXPECT_DOUBLE_EQ(q(-0.3), 0.0);         // clamped
  EXPECT_EQ(q.level_index(0.5), 8);
}

TEST(Quantizer, EightLevelStoredVoltage) {
  Quantizer q(8, 0.0, 0.9);                  // step 0.9/7
  EXPECT_NEAR(q(0.45), 4 * 0.9 / 7, 1e-15);  // 3.5 steps rounds up to level 4
  EXPECT_NEAR(q(0.2), 2 * 0.9 / 7, 1e-15);   // 1.56 steps
  EXPECT_NEAR(q(0.95), 0.9, 1e-15);
}

TEST(Quantizer, ThirtyTwoLevelSignedOutputHasNoZero) {
  Quantizer q(32, -1.0, 1.0);              // step 2/31; levels are -1 + 2k/31
  EXPECT_NEAR(q(0.0), 1.0 / 31.0, 1e-15);  // 15.5 steps: tie rounds up
  EXPECT_NEAR(q(-1.0), -1.0, 1e-15);
  EXPECT_NEAR(q(0.5), -1.0 + 46.0 / 31.0, 1e-15);  // 23.25 steps -> 23
}

TEST(Quantizer, ZeroLevelsIsIdealButClamps) {
  Quantizer q(0, 0.0, 0.9);
  EXPECT_DOUBLE_EQ(q(0.123456789), 0.123456789);
  EXPECT_DOUBLE_EQ(q(1.5), 0.9);
  EXPECT_DOUBLE_EQ(q(-0.5), 0.0);
}

TEST(GainCellModel, PaperEquation4Values) {
  GainCellModel g(default_spec().gain_cell);
  // From the paper's Eq. 4: g(-0.45) ~ -10.33, g(0) ~ 0.52, g(0.45) ~ 10.31; digits from the
  // coefficient table.
  EXPECT_NEAR(g.g(-0.45), -10.33154100194, 1e-9);
  EXPECT_NEAR(g.g(0.0), 0.52136361391, 1e-9);
  EXPECT_NEAR(g.g(0.45), 10.312987754065, 1e-9);
  EXPECT_NEAR(g.g_of_voltage(0.55), 1.9024400589, 1e-9);
  // The w^1 coefficient folds the read voltage in: C10 + 0.9 C11 + 0.81 C12.
  EXPECT_NEAR(g.poly(1), 5.51975209 + 0.9 * 4.96777688 + 0.81 * 4.4709992, 1e-12);
}

TEST(RetentionModel, ExponentialDecayByAge) {
  RetentionModel r(5e6);  // tau = 5 ms in ns
  EXPECT_DOUBLE_EQ(r.factor(0), 1.0);
  // 100 tokens of 12 x 65 ns: exp(-78000 / 5e6) = exp(-0.0156).
  EXPECT_NEAR(r.factor(78000.0), 0.98452104972, 1e-11);
  EXPECT_FALSE(RetentionModel(0.0).enabled());
  EXPECT_DOUBLE_EQ(RetentionModel(0.0).factor(1000000), 1.0);
}

TEST(ChargeToPulse, HardSigmoidAndSignedCounter) {
  HardSigmoidChargeToPulse hs{80.0};
  EXPECT_FLOAT_EQ(hs(40.0f), 0.5f);
  EXPECT_FLOAT_EQ(hs(-5.0f), 0.0f);
  EXPECT_FLOAT_EQ(hs(100.0f), 1.0f);
  SignedChargeToPulse sc{40.0, Quantizer(32, -1.0, 1.0)};
  EXPECT_NEAR(sc(20.0), -1.0 + 46.0 / 31.0, 1e-15);  // 0.5 -> level 23
  EXPECT_NEAR(sc(-100.0), -1.0, 1e-15);              // saturates
  SignedChargeToPulse ideal{40.0, Quantizer(0, -1.0, 1.0)};
  EXPECT_DOUBLE_EQ(ideal(-10.0), -0.25);
}

TEST(KeyArray, OneColumnByHand) {
  auto spec = default_spec({"quant.q_levels=0", "quant.kv_levels=0"});
  CircuitModel cm(spec);
  KeyArray a(cm, 2, 3);
  const double k[2] = {0.55, 0.25};  // w = 0.1 and -0.2
  a.write_column(1, k, 0.0, 0);
  const float q[2] = {0.5f, 1.0f};
  float s[3] = {9, 9, 9};
  a.integrate(q, 0.0, 0, s);
  EXPECT_FLOAT_EQ(s[0], 0.0f);  // never written
  EXPECT_NEAR(s[1], 0.5 * 1.9024400589 + 1.0 * -2.67434503989, 1e-5);
  EXPECT_FLOAT_EQ(s[2], 0.0f);
  EXPECT_NEAR(a.stored_voltage(0, 1), 0.55, 1e-7);
}

TEST(KeyArray, DecayShrinksTheDeviationByAge) {
  // tau = 2 us; written at 100 ns, read at 500 ns: age 400 ns, factor exp(-0.2).
  auto spec = default_spec({"quant.q_levels=0", "quant.kv_levels=0", "retention.tau_ms=0.002"});
  CircuitModel cm(spec);
  KeyArray a(cm, 1, 2);
  const double k[1] = {0.75};  // w = 0.3
  a.write_column(0, k, 100.0, 10);
  const float q[1] = {1.0f};
  float s[2];
  a.integrate(q, 500.0, 30, s);  // w_eff = 0.3 * exp(-0.2) = 0.245619...
  GainCellModel g(spec.gain_cell);
  EXPECT_NEAR(s[0], g.g(0.3 * 0.8187307530779818), 1e-5);
  EXPECT_FLOAT_EQ(s[1], 0.0f);
}

TEST(ValueArray, WeightedSumOverLines) {
  auto spec = default_spec({"quant.q_levels=0", "quant.kv_levels=0"});
  CircuitModel cm(spec);
  ValueArray a(cm, 2, 2);
  const double v0[2] = {0.45, 0.55}, v1[2] = {0.25, 0.9};
  a.write_line(0, v0, 0.0, 0);
  a.write_line(1, v1, 780.0, 1);
  const float phi[2] = {0.5f, 0.25f};
  float out[2];
  a.integrate(phi, 780.0, 1, out);
  EXPECT_NEAR(out[0], 0.5 * 0.52136361391 + 0.25 * -2.67434503989, 1e-5);
  EXPECT_NEAR(out[1], 0.5 * 1.9024400589 + 0.25 * 10.312987754065, 1e-5);
}

// The push-pull cell: read charge follows |g| (values of g from the tests above).
TEST(ReadCharge, KeyArrayFollowsAbsoluteG) {
  auto spec = default_spec({"quant.q_levels=0", "quant.kv_levels=0"});
  CircuitModel cm(spec);
  KeyArray a(cm, 2, 3);
  const double k[2] = {0.55, 0.25};  // g = 1.90244, -2.67435
  a.write_column(1, k, 0.0, 0);
  const float q[2] = {0.5f, 1.0f};
  EXPECT_NEAR(a.read_charge(q, 0.0), 0.5 * 1.9024400589 + 1.0 * 2.67434503989, 1e-5);
  // Overwriting the column replaces its cells' charge: 0.45 V (g = 0.52136) and 0.55 V.
  const double k2[2] = {0.45, 0.55};
  a.write_column(1, k2, 0.0, 1);
  EXPECT_NEAR(a.read_charge(q, 0.0), 0.5 * 0.52136361391 + 1.0 * 1.9024400589, 1e-5);
  // A second column adds its own.
  a.write_column(0, k, 0.0, 2);
  EXPECT_NEAR(a.read_charge(q, 0.0),
              0.5 * (0.52136361391 + 1.9024400589) + 1.0 * (1.9024400589 + 2.67434503989), 1e-5);
}

TEST(ReadCharge, ValueArrayWithDecay) {
  // tau = 2 us, age 400 ns: w = 0.3 reads as g(0.3 exp(-0.2)); w = -0.2 likewise.
  auto spec = default_spec({"quant.q_levels=0", "quant.kv_levels=0", "retention.tau_ms=0.002"});
  CircuitModel cm(spec);
  ValueArray a(cm, 2, 2);
  const double v[2] = {0.75, 0.25};
  a.write_line(1, v, 100.0, 0);
  const float phi[2] = {0.9f, 0.5f};  // line 0 never written: no charge
  GainCellModel g(spec.gain_cell);
  const double f = 0.8187307530779818;
  EXPECT_NEAR(a.read_charge(phi, 500.0), 0.5 * (std::fabs(g.g(0.3 * f)) + std::fabs(g.g(-0.2 * f))),
              1e-5);
}

// Stored as DAC level indices (8 levels on [0, 0.9] V) with leakage: each cell's charge is
// |g| of its level's deviation from the centre scaled by its column's decay exp(-age / tau).
TEST(ReadCharge, LevelFormsWithDecayFollowEachCell) {
  auto spec = default_spec({"quant.kv_levels=8", "retention.tau_ms=0.002"});
  CircuitModel cm(spec);
  GainCellModel g(spec.gain_cell);
  const double step = 0.9 / 7.0, center = spec.gain_cell.w_center_v;
  auto level_volts = [&](int l) { return step * l; };
  // Columns 0 and 2 of three, written at 100 ns and 300 ns; read at 700 ns.
  KeyArray k(cm, 3, 3);
  const double k0[3] = {level_volts(1), level_volts(6), level_volts(3)};
  const double k2[3] = {level_volts(7), level_volts(0), level_volts(4)};
  k.write_column(0, k0, 100.0, 0);
  k.write_column(2, k2, 300.0, 1);
  const float q[3] = {0.25f, 0.0f, 1.0f};
  const double f0 = std::exp(-600.0 / 2000.0), f2 = std::exp(-400.0 / 2000.0);
  auto cell = [&](double volts, double f) { return std::fabs(g.g((volts - center) * f)); };
  const double expected_k =
      0.25 * (cell(k0[0], f0) + cell(k2[0], f2)) + 1.0 * (cell(k0[2], f0) + cell(k2[2], f2));
  EXPECT_NEAR(k.read_charge(q, 700.0), expected_k, 1e-5);
  // V: line 1 of two written at 200 ns, read at 600 ns with pulse 0.5 (line 0 never written).
  ValueArray v(cm, 3, 2);
  const double v1[3] = {level_volts(2), level_volts(5), level_volts(7)};
  v.write_line(1, v1, 200.0, 0);
  const float phi[2] = {0.75f, 0.5f};
  const double f1 = std::exp(-400.0 / 2000.0);
  EXPECT_NEAR(v.read_charge(phi, 600.0),
              0.5 * (cell(v1[0], f1) + cell(v1[1], f1) + cell(v1[2], f1)), 1e-5);
}

TEST(ReadCharge, StorableRangeFollowsTheSupply) {
  CircuitModel cm(default_spec({"cost.vdd_v=0.72"}));
  EXPECT_DOUBLE_EQ(cm.kv_dac.hi(), 0.72);
  EXPECT_NEAR(cm.k_voltage(0.9), 0.72, 1e-15);
}
