// Non-idealities and retention in time: each model checked against numbers worked out by hand
// from its equation (docs/variation.md, docs/retention.md), the draws against the normal
// distribution, and the reproducibility contract (same seed, same bytes).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "gca/spec/head_model.hpp"
#include "gca/spec/variation.hpp"

using namespace gca::spec;

namespace {

HardwareSpec spec_with(std::vector<std::string> o) {
  return load_spec(default_spec_path(), o);
}

// One cell of a 1 x 1 K array read with a full pulse: its current, by the model.
double one_cell_charge(const HardwareSpec& spec, double volts) {
  CircuitModel cm(spec);
  KeyArray a(cm, 1, 1);
  a.write_column(0, &volts, 0.0, 0);
  const float q = 1.0f;
  float s = 0.0f;
  a.integrate(&q, 0.0, 0, &s);
  return s;
}

TEST(NormalDraw, InverseCdfAgreesWithErfc) {
  for (double p : {1e-9, 1e-4, 0.01, 0.02425, 0.1, 0.3, 0.5, 0.77, 0.975, 0.9999, 1 - 1e-9}) {
    const double x = inverse_normal_cdf(p);
    const double back = 0.5 * std::erfc(-x / std::sqrt(2.0));  // the normal CDF
    EXPECT_NEAR(back / p, 1.0, 5e-8) << "p=" << p;  // 1.2e-9 in x, amplified in the far tail
  }
}

TEST(NormalDraw, KeyedStandardNormal) {
  EXPECT_EQ(normal_draw(7, Draw::read, {1, 2, 3}), normal_draw(7, Draw::read, {1, 2, 3}));
  EXPECT_NE(normal_draw(7, Draw::read, {1, 2, 3}), normal_draw(8, Draw::read, {1, 2, 3}));
  EXPECT_NE(normal_draw(7, Draw::read, {1, 2, 3}), normal_draw(7, Draw::write, {1, 2, 3}));
  EXPECT_NE(normal_draw(7, Draw::read, {1, 2, 3}), normal_draw(7, Draw::read, {1, 3, 2}));
  const int n = 200000;
  double sum = 0, sum2 = 0;
  int beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = normal_draw(11, Draw::cell_gain, {0, std::uint64_t(i)});
    sum += z;
    sum2 += z * z;
    beyond2 += std::fabs(z) > 2.0;
  }
  // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032, tail share 0.0005.
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.015);
  EXPECT_NEAR(double(beyond2) / n, 0.0455, 0.0025);  // 2 (1 - Phi(2))
}

TEST(Variation, CellGainScalesTheCurrent) {
  const auto ideal = spec_with({"quant.kv_levels=0"});
  const auto varied =
      spec_with({"quant.kv_levels=0", "variation.cell_gain_sigma=0.1", "variation.chip_seed=5"});
  const double z = normal_draw(5, Draw::cell_gain, {0, kind_index(ArrayKind::key, 0), 0});
  GainCellModel g(ideal.gain_cell);
  EXPECT_NEAR(one_cell_charge(ideal, 0.75), g.g(0.3), 1e-5);
  EXPECT_NEAR(one_cell_charge(varied, 0.75), (1.0 + 0.1 * z) * g.g(0.3), 1e-5);
}

TEST(Variation, ThresholdOffsetShiftsTheStoredVoltage) {
  const auto varied = spec_with(
      {"quant.kv_levels=0", "variation.cell_offset_sigma_v=0.02", "variation.chip_seed=9"});
  const double z = normal_draw(9, Draw::cell_offset, {0, kind_index(ArrayKind::key, 0), 0});
  GainCellModel g(varied.gain_cell);
  EXPECT_NEAR(one_cell_charge(varied, 0.55), g.g(0.1 + 0.02 * z), 1e-5);
}

TEST(Noise, WriteNoiseAddsToTheDacLevelWithinTheRange) {
  const auto spec = spec_with({"noise.write_sigma_v=0.05", "noise.seed=4"});
  CircuitModel cm(spec);
  KeyArray a(cm, 2, 1);
  const double k[2] = {0.5, 0.89};  // DAC levels 0.514 V (4 x 0.9/7) and 0.9 V
  a.write_column(0, k, 0.0, 17);
  const double z0 = normal_draw(4, Draw::write, {0, kind_index(ArrayKind::key, 0), 0, 17});
  const double z1 = normal_draw(4, Draw::write, {0, kind_index(ArrayKind::key, 0), 1, 17});
  EXPECT_NEAR(a.stored_voltage(0, 0), std::clamp(4 * 0.9 / 7 + 0.05 * z0, 0.0, 0.9), 1e-6);
  EXPECT_NEAR(a.stored_voltage(1, 0), std::clamp(0.9 + 0.05 * z1, 0.0, 0.9), 1e-6);
}

TEST(Noise, ReadNoiseAndComparatorOffsetMoveTheColumnCharge) {
  const auto spec =
      spec_with({"quant.kv_levels=0", "noise.read_sigma=0.01", "variation.ctp_offset_sigma=0.02",
                 "noise.seed=2", "variation.chip_seed=3"});
  const std::uint64_t col = kind_index(ArrayKind::key, 0);
  const double read = normal_draw(2, Draw::read, {0, col, 0});
  const double offset = normal_draw(3, Draw::ctp_offset, {0, col});
  GainCellModel g(spec.gain_cell);
  // Saturation charge of the HardSigmoid: 80.
  EXPECT_NEAR(one_cell_charge(spec, 0.75), g.g(0.3) + 80.0 * (0.01 * read + 0.02 * offset), 1e-4);
}

// Relative L2 distance of two output streams.
double rel_l2(const std::vector<double>& a, const std::vector<double>& ref) {
  double e = 0, r = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    e += (a[i] - ref[i]) * (a[i] - ref[i]), r += ref[i] * ref[i];
  return std::sqrt(e / r);
}

std::vector<double> run_head(const HardwareSpec& spec, int tokens) {
  HeadModel head(spec);
  const int d = spec.model.d_head;
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> q(d), k(d), v(d), out(d), all;
  for (int t = 0; t < tokens; ++t) {
    for (int i = 0; i < d; ++i) q[i] = u(rng), k[i] = 0.9 * u(rng), v[i] = 0.9 * u(rng);
    head.step(q.data(), k.data(), v.data(), out.data());
    all.insert(all.end(), out.begin(), out.end());
  }
  return all;
}

TEST(Variation, ErrorGrowsWithSigmaAndFollowsTheSeed) {
  const int T = 300;
  const auto ideal = run_head(spec_with({"window=256"}), T);
  // Zero spread: the seed changes nothing, bit for bit.
  EXPECT_EQ(run_head(spec_with({"window=256", "variation.chip_seed=77", "noise.seed=78"}), T),
            ideal);
  auto with = [&](const char* sigma, const char* seed) {
    return run_head(spec_with({"window=256", std::string("variation.cell_gain_sigma=") + sigma,
                               std::string("variation.chip_seed=") + seed}),
                    T);
  };
  const auto small = with("0.02", "1"), large = with("0.10", "1");
  EXPECT_GT(rel_l2(small, ideal), 0.0);
  EXPECT_GT(rel_l2(large, ideal), 2.0 * rel_l2(small, ideal));
  EXPECT_EQ(with("0.10", "1"), large);  // same seed, same outputs
  EXPECT_NE(with("0.10", "2"), large);  // another chip
}

TEST(Retention, DecayFollowsSimulatedTimeNotTokenCount) {
  // The digital phase pinned to 15 ns: a token period of 12 x 65 ns without a clock.
  const auto spec =
      spec_with({"window=8", "array.cols=8", "model.d_head=1", "quant.q_levels=0",
                 "quant.kv_levels=0", "retention.tau_ms=1", "timing.phase_digital_ns=15"});
  GainCellModel g(spec.gain_cell);
  const double q = 1.0, k = 0.75, v = 0.45;
  double out;
  HeadModel head(spec);
  head.step(&q, &k, &v, &out, 0.0);
  head.step(&q, &k, &v, &out, 200000.0);  // 200 us later: token 0 decayed by exp(-0.2)
  EXPECT_NEAR(head.scores()[0], g.g(0.3 * std::exp(-0.2)), 1e-5);
  EXPECT_NEAR(head.scores()[1], g.g(0.3), 1e-5);
  EXPECT_NEAR(head.oldest_age_ns(), 200000.0, 1e-9);
  // Without a clock, token t is at t x 12 x 65 ns.
  HeadModel nominal(spec);
  nominal.step(&q, &k, &v, &out);
  nominal.step(&q, &k, &v, &out);
  EXPECT_DOUBLE_EQ(nominal.nominal_token_period_ns(), 780.0);
  EXPECT_NEAR(nominal.scores()[0], g.g(0.3 * std::exp(-780.0 / 1e6)), 1e-5);
}

TEST(Retention, RefreshRewritesDecayedColumnsFromTheShadow) {
  // tau = 1 ms, threshold 5%: a column is rewritten once older than -ln(0.95) ms = 51.3 us.
  const auto spec = spec_with({"window=4", "array.cols=2", "model.d_head=1", "quant.q_levels=0",
                               "quant.kv_levels=0", "retention.tau_ms=1", "retention.refresh=1"});
  GainCellModel g(spec.gain_cell);
  const double q = 1.0, k = 0.75, v = 0.45;
  double out;
  HeadModel head(spec);
  head.step(&q, &k, &v, &out, 0.0);
  head.step(&q, &k, &v, &out, 50000.0);  // age 50 us: kept
  EXPECT_EQ(head.refresh_activity().columns, 0);
  EXPECT_NEAR(head.scores()[0], g.g(0.3 * std::exp(-0.05)), 1e-5);
  head.step(&q, &k, &v, &out, 60000.0);  // token 0 at 60 us: rewritten; token 1 at 10 us: kept
  EXPECT_EQ(head.refresh_activity().columns, 1);
  EXPECT_EQ(head.refresh_activity().cells, 2);  // its K cell and its V cell
  EXPECT_NEAR(head.scores()[0], g.g(0.3), 1e-5);
  EXPECT_NEAR(head.scores()[1], g.g(0.3 * std::exp(-0.01)), 1e-5);
}

}  // namespace
