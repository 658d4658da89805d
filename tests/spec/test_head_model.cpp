// The executable spec's head against the oracle (rtl_spec OracleHead, a plain implementation)
// on random token streams, and against one case worked out by hand.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>

#include "gca/spec/head_model.hpp"
#include "gca/spec/oracle_head.hpp"

using namespace gca::spec;

namespace {

struct StreamCase {
  const char* name;
  std::vector<std::string> overrides;
  int tokens;
};

std::ostream& operator<<(std::ostream& os, const StreamCase& c) {
  return os << c.name;
}

class HeadVsReference : public ::testing::TestWithParam<StreamCase> {};

TEST_P(HeadVsReference, RandomStream) {
  const StreamCase& c = GetParam();
  HardwareSpec spec = load_spec(default_spec_path(), c.overrides);
  HeadModel head(spec, 3);
  OracleHead ref(spec, 3);
  const int d = spec.model.d_head, M = spec.window;
  std::mt19937_64 rng(1234);
  // Slightly beyond the physical ranges, so that the clamps are exercised too.
  std::uniform_real_distribution<double> uq(-0.05, 1.05), ukv(-0.05, 0.95);
  std::vector<double> q(d), k(d), v(d), out(d);
  // Float accumulation of d products of magnitude <= ~11 against double.
  const double s_tol = 8.0 * FLT_EPSILON * d * 11.0;
  // Q pulses on a 4-bit grid and K levels read without decay or variation: the K read sums
  // integers exactly (level_moments.hpp), so each score is the oracle's rounded once to float.
  const bool exact_scores = spec.quant.q_levels >= 2 && spec.quant.kv_levels >= 2 &&
                            spec.quant.kv_levels <= 8 && !spec.retention.leaks() &&
                            !spec.variation.cells_vary() && spec.noise.write_sigma_v <= 0.0 &&
                            spec.noise.read_sigma <= 0.0 && spec.variation.ctp_offset_sigma <= 0.0;
  long flips = 0, outputs = 0;
  for (int t = 0; t < c.tokens; ++t) {
    for (int i = 0; i < d; ++i) {
      q[i] = uq(rng);
      k[i] = ukv(rng);
      v[i] = ukv(rng);
    }
    // Irregular token times: the host sometimes pauses between tokens.
    const double now_ns = 780.0 * t + 20000.0 * (t % 7 == 3);
    head.step(q.data(), k.data(), v.data(), out.data(), now_ns + 20000.0 * (t / 7));
    const OracleToken r = ref.step(q.data(), k.data(), v.data(), now_ns + 20000.0 * (t / 7));
    for (int j = 0; j < M; ++j) {
      ASSERT_NEAR(head.scores()[j], r.scores[j], s_tol) << "t=" << t << " slot=" << j;
      if (exact_scores) {
        ASSERT_NEAR(head.scores()[j], r.scores[j],
                    0.5 * FLT_EPSILON * std::fabs(r.scores[j]) + 1e-12)
            << "t=" << t << " slot=" << j;
      }
      ASSERT_NEAR(head.phi()[j], r.phi[j], s_tol / spec.charge_to_pulse.s_sat_qk) << "t=" << t;
    }
    double out_sum_check[512] = {};
    for (int s = 0; s < head.tiling().subtiles; ++s) {
      for (int i = 0; i < d; ++i) {
        const double got = head.subtile_output(s)[i], want = r.o[s][i];
        out_sum_check[i] += got;
        ++outputs;
        if (spec.quant.out_levels == 0) {
          ASSERT_NEAR(got, want, 1e-4) << "t=" << t << " s=" << s << " i=" << i;
        } else if (got != want) {
          // Only a float-vs-double difference at a decision boundary may flip one level.
          ASSERT_LT(counter_boundary_distance(r.pre_quant[s][i], spec.quant.out_levels), 1e-4)
              << "t=" << t << " s=" << s << " i=" << i;
          ASSERT_NEAR(std::fabs(got - want), 2.0 / (spec.quant.out_levels - 1), 1e-12);
          ++flips;
        }
      }
    }
    for (int i = 0; i < d; ++i) {
      const Affine& sc = spec.scalers.out;
      ASSERT_NEAR(out[i], sc.apply(out_sum_check[i]), 1e-9);  // digital sum of the sub-tiles
      if (spec.quant.out_levels == 0) {
        ASSERT_NEAR(out[i], r.out[i], 1e-3);
      }
    }
  }
  EXPECT_LE(flips, outputs / 1000) << "flips at quantizer boundaries: " << flips;
  EXPECT_EQ(head.tokens(), c.tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Streams, HeadVsReference,
    ::testing::Values(
        // Default hardware, window not a multiple of 64, wrap-around twice.
        StreamCase{"quantized_window200_wrap", {"window=200"}, 450},
        // Other array shape: 16-column arrays, 24 features in 32-row arrays, decay on.
        StreamCase{"decay_arrays32x16_window100",
                   {"window=100", "array.rows=32", "array.cols=16", "model.d_head=24",
                    "retention.tau_ms=0.78"},
                   260},
        // Ideal converters with CMOS retention: every value continuous.
        StreamCase{"ideal_cmos_decay_window64",
                   {"window=64", "quant.q_levels=0", "quant.kv_levels=0", "quant.out_levels=0",
                    "retention.tau_ms=5"},
                   150},
        // Every non-ideality on, 3-bit DACs, no leakage.
        StreamCase{"nonideal_window100",
                   {"window=100", "variation.cell_gain_sigma=0.05",
                    "variation.cell_offset_sigma_v=0.01", "variation.ctp_offset_sigma=0.01",
                    "noise.read_sigma=0.01", "noise.write_sigma_v=0.02"},
                   260},
        // Every non-ideality on with fast leakage and the refresh policy, ideal DACs.
        StreamCase{"nonideal_refresh_ideal_dac_window64",
                   {"window=64", "quant.kv_levels=0", "retention.tau_ms=0.5", "retention.refresh=1",
                    "variation.cell_gain_sigma=0.05", "variation.cell_offset_sigma_v=0.01",
                    "variation.ctp_offset_sigma=0.01", "noise.read_sigma=0.01",
                    "noise.write_sigma_v=0.02"},
                   200},
        // Leakage with refresh, 3-bit DACs and cells alike (the level-indexed decay kernels).
        StreamCase{"refresh_levels_window128",
                   {"window=128", "retention.tau_ms=0.5", "retention.refresh=1"},
                   300},
        // Digital affine scalers and an odd window smaller than one array.
        StreamCase{"scalers_window37",
                   {"window=37", "scalers.q_gain=0.8", "scalers.q_offset=0.1", "scalers.k_gain=0.9",
                    "scalers.v_offset=0.05", "scalers.out_gain=2", "scalers.out_offset=-0.5"},
                   120},
        // Shorter pulses: a 10 ns T_max integrates 2/3 of the charge of the 15 ns reference.
        StreamCase{"tmax10_window128", {"window=128", "timing.t_max_ns=10"}, 200},
        // The full GPT-2 window, filled and wrapped once (fewer tokens: the reference is slow).
        StreamCase{"gpt2_window1024", {}, 1100}),
    [](const auto& info) { return std::string(info.param.name); });

// Two tokens through a window of 2 held in two one-column sub-tiles, one feature, ideal
// converters: every number below follows from g() of the gain-cell polynomial (Eq. 4 of the paper)
// by hand.
TEST(HeadModel, TwoTokensByHand) {
  HardwareSpec spec = load_spec(default_spec_path(),
                                {"window=2", "array.rows=1", "array.cols=1", "model.d_head=1",
                                 "quant.q_levels=0", "quant.kv_levels=0", "quant.out_levels=0"});
  HeadModel head(spec);
  ASSERT_EQ(head.tiling().subtiles, 2);
  const double g0 = 0.52136361391, g_p01 = 1.9024400589, g_m02 = -2.67434503989,
               g_p045 = 10.312987754065;
  double out;
  // Token 0: q = 1, k at w = 0, v at w = 0.1. Only sub-tile 0 is active.
  double q = 1.0, k = 0.45, v = 0.55;
  head.step(&q, &k, &v, &out);
  double phi0 = g0 / 80.0;
  EXPECT_NEAR(head.scores()[0], g0, 1e-6);
  EXPECT_NEAR(out, phi0 * g_p01 / 40.0, 1e-7);
  EXPECT_DOUBLE_EQ(head.subtile_output(1)[0], 0.0);
  // Token 1: q = 0.5, k at w = 0.45, v at w = -0.2; both sub-tiles add their outputs.
  q = 0.5, k = 0.9, v = 0.25;
  head.step(&q, &k, &v, &out);
  double s0 = 0.5 * g0, s1 = 0.5 * g_p045;
  EXPECT_NEAR(head.scores()[0], s0, 1e-6);
  EXPECT_NEAR(head.scores()[1], s1, 1e-6);
  EXPECT_NEAR(out, (s0 / 80.0) * g_p01 / 40.0 + (s1 / 80.0) * g_m02 / 40.0, 1e-7);
  // Token 2 overwrites slot 0 (the oldest): the window holds tokens 1 and 2.
  q = 1.0, k = 0.45, v = 0.45;
  head.step(&q, &k, &v, &out);
  EXPECT_NEAR(head.scores()[0], g0, 1e-6);
  EXPECT_NEAR(head.scores()[1], g_p045, 1e-5);
  EXPECT_NEAR(out, (g0 / 80.0) * g0 / 40.0 + (g_p045 / 80.0) * g_m02 / 40.0, 1e-7);
}

// Without views, a head computes the same outputs against the oracle (the views are write-only
// scratch then); its scores keep the last kept token's until views are kept again.
TEST(HeadModel, OutputsDoNotDependOnKeepingViews) {
  HardwareSpec spec = load_spec(default_spec_path(), {"window=192"});
  HeadModel head(spec);
  OracleHead oracle(spec);
  const int d = spec.model.d_head;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.05, 0.95);
  std::vector<double> q(d), k(d), v(d), out(d);
  std::vector<float> kept_scores;
  for (int t = 0; t < 300; ++t) {
    if (t == 100) {
      kept_scores = head.scores();
      head.keep_views(false);
    }
    if (t == 250) head.keep_views(true);
    for (int i = 0; i < d; ++i) q[i] = u(rng), k[i] = u(rng), v[i] = u(rng);
    head.step(q.data(), k.data(), v.data(), out.data());
    oracle.write(k.data(), v.data(), 0.0);
    const OracleToken want = oracle.read(q.data(), 0.0);
    for (int i = 0; i < d; ++i) ASSERT_LE(std::fabs(out[i] - want.out[i]), want.allowance[i]);
    if (t == 200) {
      EXPECT_EQ(head.scores(), kept_scores);
    }
    if (t == 299) {
      EXPECT_NE(head.scores(), kept_scores);
    }
  }
}

TEST(HeadModel, SaturationClipsThePulses) {
  HardwareSpec spec = load_spec(default_spec_path(), {"window=64", "quant.out_levels=0"});
  HeadModel head(spec);
  std::vector<double> q(64, 1.0), k(64, 0.9), v(64, 0.9), out(64);
  // S = 64 * g(0.45) = 660 > 80: phi saturates at 1; A = g(0.45) = 10.3 per token.
  for (int t = 0; t < 5; ++t) head.step(q.data(), k.data(), v.data(), out.data());
  EXPECT_FLOAT_EQ(head.phi()[0], 1.0f);
  EXPECT_NEAR(out[0], 1.0, 1e-6);  // 5 * 10.31 / 40 = 1.29 clips to 1
}
}  // namespace

// The oracle keeps only what a configuration reads: with a quantizing DAC, cells alike and no
// leakage, one level byte per stored value (K and V: 2 x 1024 x 64 = 131072 bytes for GPT-2's
// window) plus small fixed parts; mismatch adds a gain and an offset per cell (4 doubles per
// stored value pair), leakage the stored voltages.
TEST(OracleHead, StateBytesFollowTheOptions) {
  const HardwareSpec plain = load_spec(default_spec_path(), {"window=1024"});
  const std::size_t plain_bytes = OracleHead::state_bytes(plain);
  EXPECT_GE(plain_bytes, 131072u);
  EXPECT_LT(plain_bytes, 131072u + 16384u);  // written times (8 kB), levels table, the object
  const HardwareSpec varied =
      load_spec(default_spec_path(), {"window=1024", "variation.cell_gain_sigma=0.05"});
  // Level bytes and the table of 8 levels out; g per cell as a double (2 x 65536 x 8) and gain
  // and offset per cell (4 x 65536 x 8) in.
  EXPECT_EQ(OracleHead::state_bytes(varied), plain_bytes - 131072u - 8u * 8u + 6u * 65536u * 8u);
  const HardwareSpec leaky = load_spec(default_spec_path(), {"window=1024", "retention.tau_ms=5"});
  EXPECT_GE(OracleHead::state_bytes(leaky), plain_bytes + 2u * 65536u * 8u);
}
