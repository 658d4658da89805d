// The integer read of the K array (level_moments.hpp) against plain references written apart
// from it: binomial moments against a naive integer loop whose factors come from Pascal's
// triangle, the binomial form of the cubic against the polynomial itself, and a whole K read
// against a double loop over the gain-cell formula (paper Eq. 4, term by term from the
// coefficient table). Edge levels and codes (0, the top level, the largest code) included.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "gca/spec/gain_cell_array.hpp"
#include "gca/spec/level_moments.hpp"
#include "gca/spec/params.hpp"

using namespace gca::spec;

namespace {

// C(l, k) by Pascal's triangle (additions only).
long pascal(int l, int k) {
  std::vector<std::vector<long>> t(std::size_t(l) + 1);
  for (int i = 0; i <= l; ++i) {
    t[std::size_t(i)].assign(std::size_t(i) + 1, 1);
    for (int j = 1; j < i; ++j)
      t[std::size_t(i)][std::size_t(j)] =
          t[std::size_t(i) - 1][std::size_t(j) - 1] + t[std::size_t(i) - 1][std::size_t(j)];
  }
  return k > l ? 0 : t[std::size_t(l)][std::size_t(k)];
}

struct MomentCase {
  int rows, n, levels, max_code;
  double zero_fraction;  // of the codes
  int edge;              // 0: random levels and codes; 1: all at the top; 2: all level 0
};

void check_moments(const MomentCase& k, unsigned seed) {
  ASSERT_TRUE(level_moments_fit(k.levels, k.max_code));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> lv(0, k.levels - 1), cd(1, std::max(1, k.max_code));
  std::bernoulli_distribution zero(k.zero_fraction);
  const std::size_t stride = std::size_t(k.n) + 5;  // rows not packed
  std::vector<std::uint8_t> code(std::size_t(k.rows)), index(std::size_t(k.rows) * stride + 32);
  for (auto& a : code)
    a = static_cast<std::uint8_t>(k.edge == 1 ? k.max_code : zero(rng) ? 0 : cd(rng));
  for (auto& l : index)
    l = static_cast<std::uint8_t>(k.edge == 1 ? k.levels - 1 : k.edge == 2 ? 0 : lv(rng));
  std::vector<std::int32_t> fast(3 * std::size_t(k.n), -7), ref(fast);
  std::int32_t *f1 = fast.data(), *f2 = f1 + k.n, *f3 = f2 + k.n;
  std::int32_t *r1 = ref.data(), *r2 = r1 + k.n, *r3 = r2 + k.n;
  level_moments(code.data(), k.rows, index.data(), stride, k.levels, k.n, f1, f2, f3);
  level_moments_reference(code.data(), k.rows, index.data(), stride, k.levels, k.n, r1, r2, r3);
  std::vector<long> factor[4];
  for (int j = 1; j <= 3; ++j)
    for (int l = 0; l < k.levels; ++l) factor[j].push_back(pascal(l, j));
  for (int c = 0; c < k.n; ++c) {
    long want[4] = {0, 0, 0, 0};
    for (int r = 0; r < k.rows; ++r) {
      const int l = index[std::size_t(r) * stride + std::size_t(c)];
      for (int j = 1; j <= 3; ++j)
        want[j] += long(code[std::size_t(r)]) * factor[j][std::size_t(l)];
    }
    ASSERT_EQ(f1[c], want[1]) << "column " << c;
    ASSERT_EQ(f2[c], want[2]) << "column " << c;
    ASSERT_EQ(f3[c], want[3]) << "column " << c;
    ASSERT_EQ(r1[c], want[1]) << "column " << c;
    ASSERT_EQ(r2[c], want[2]) << "column " << c;
    ASSERT_EQ(r3[c], want[3]) << "column " << c;
  }
}

// g(w) term by term from the coefficient table: sum_ij c[i][j] v_in^j w^i.
double g_by_table(const GainCellParams& p, double w) {
  double g = 0.0;
  for (int i = 0; i <= 3; ++i)
    for (int j = 0; i + j <= 3; ++j) g += p.c[i][j] * std::pow(p.v_in_v, j) * std::pow(w, i);
  return g;
}

}  // namespace

TEST(LevelMoments, KernelsGiveTheNaiveIntegerSums) {
  const MomentCase cases[] = {
      {64, 64, 8, 15, 0.0, 0},   // the GPT-2 sub-tile
      {64, 64, 8, 15, 0.4, 0},   // zero codes skipped
      {63, 64, 8, 15, 0.0, 0},   // an odd row left without a partner
      {64, 64, 8, 15, 0.0, 1},   // every cell at the top level, every code the largest
      {64, 64, 8, 15, 0.0, 2},   // every cell at level 0: moments 0
      {300, 64, 8, 15, 0.0, 1},  // past what 16-bit sums hold: widened on the way
      {7, 100, 8, 15, 0.3, 0},   // columns past the last block of 32
      {64, 33, 8, 15, 0.0, 0},   // one column past a block
      {64, 5, 8, 15, 0.0, 0},    // fewer columns than a block
      {1, 1, 2, 1, 0.0, 0},      // one cell, two levels
      {40, 64, 13, 41, 0.2, 0},  // the most levels whose factors fit a byte
      {40, 64, 12, 99, 0.0, 1},  // ... with the largest codes they allow
      {64, 64, 4, 127, 0.1, 1},  // seven-bit codes
      {0, 16, 8, 15, 0.0, 0},    // no rows
      {20, 64, 8, 15, 1.0, 0}};  // all codes zero
  unsigned seed = 11;
  for (const MomentCase& k : cases) {
    SCOPED_TRACE(::testing::Message() << "rows " << k.rows << " n " << k.n << " levels " << k.levels
                                      << " max_code " << k.max_code);
    check_moments(k, seed++);
  }
}

// The dispatched combination rounds as BinomialCubic::combine, column by column.
TEST(LevelMoments, CombinationRoundsAsTheScalarFormula) {
  std::mt19937 rng(8);
  std::uniform_real_distribution<double> u(-5.0, 5.0);
  std::uniform_int_distribution<std::int32_t> m(0, 400000);
  const BinomialCubic h{{u(rng), u(rng), u(rng), u(rng)}};
  for (int n : {0, 1, 3, 4, 7, 64, 65}) {
    std::vector<std::int32_t> m1(n), m2(n), m3(n);
    for (int c = 0; c < n; ++c) m1[c] = m(rng), m2[c] = m(rng), m3[c] = m(rng);
    std::vector<float> out(std::size_t(n) + 1, 5.0f);
    combine_level_moments(h, 9876, m1.data(), m2.data(), m3.data(), 1.0 / 15, n, out.data());
    for (int c = 0; c < n; ++c) {
      const float want = static_cast<float>(
          1.0 / 15 * (h.b[0] * 9876.0 + h.b[1] * m1[c] + h.b[2] * m2[c] + h.b[3] * m3[c]));
      ASSERT_EQ(out[std::size_t(c)], want) << "n " << n << " column " << c;
    }
    EXPECT_EQ(out[std::size_t(n)], 5.0f);  // nothing past n
  }
}

TEST(LevelMoments, FitSaysWhereBytesAndSixteenBitsHold) {
  EXPECT_TRUE(level_moments_fit(8, 127));    // C(7,3) = 35; 2 x 35 x 127 < 2^15
  EXPECT_TRUE(level_moments_fit(12, 99));    // C(11,3) = 165; 2 x 165 x 99 = 32670
  EXPECT_FALSE(level_moments_fit(12, 100));  // 33000 would saturate a 16-bit lane
  EXPECT_TRUE(level_moments_fit(13, 1));     // C(12,3) = 220 still fits a byte
  EXPECT_FALSE(level_moments_fit(14, 1));    // C(13,3) = 286 does not
  EXPECT_FALSE(level_moments_fit(8, 128));   // codes are signed bytes
}

TEST(BinomialCubic, OnGridIsThePolynomial) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  for (int trial = 0; trial < 20; ++trial) {
    const double p[4] = {u(rng), u(rng), u(rng), u(rng)};
    const double w0 = 0.2 * u(rng), step = 0.05 + 0.05 * std::fabs(u(rng));
    const BinomialCubic h = BinomialCubic::on_grid(p, w0, step);
    for (int l = 0; l < 16; ++l) {
      const double w = w0 + step * l;
      const double want = p[0] + p[1] * w + p[2] * w * w + p[3] * w * w * w;
      double got = 0.0;
      for (int k = 0; k <= 3; ++k) got += h.b[k] * double(pascal(l, k));
      EXPECT_NEAR(got, want, 1e-12 * (1.0 + std::fabs(want))) << "l = " << l;
    }
  }
}

// A whole K read of the default hardware (4-bit Q pulses, 3-bit K levels) against the double
// sum over the gain-cell formula: the integer read is exact but for its last rounding to float.
TEST(KeyArray, QuantizedReadIsTheExactSumRoundedOnce) {
  const HardwareSpec spec = load_spec(default_spec_path(), {});
  ASSERT_EQ(spec.quant.q_levels, 16);
  ASSERT_EQ(spec.quant.kv_levels, 8);
  const CircuitModel cm(spec);
  const int d = 64, cols = 64, levels = 8;
  const GainCellParams& gc = spec.gain_cell;
  const double lo = gc.v_min_v, hi = std::min(gc.v_max_v, spec.cost.vdd_v);
  const double step = (hi - lo) / (levels - 1);
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> lv(0, levels - 1), cd(0, 15);
  for (int edge = 0; edge < 3; ++edge) {
    KeyArray a(cm, d, cols);
    std::vector<int> level(std::size_t(d) * cols);
    for (int c = 0; c < cols; ++c) {
      if (c % 9 == 4) continue;  // some columns never written: they read 0
      std::vector<double> k(d);
      for (int f = 0; f < d; ++f) {
        const int l = edge == 1 ? levels - 1 : edge == 2 ? 0 : lv(rng);
        level[std::size_t(f) * cols + c] = l;
        k[std::size_t(f)] = lo + step * l;  // exactly on the DAC grid
      }
      a.write_column(c, k.data(), 0.0, c);
    }
    std::vector<int> code(d);
    std::vector<float> q(d);
    for (int f = 0; f < d; ++f) {
      code[std::size_t(f)] = edge == 1 ? 15 : cd(rng);
      q[std::size_t(f)] = static_cast<float>(cm.q_dac(code[std::size_t(f)] / 15.0));
    }
    std::vector<float> s(cols, 99.0f);
    a.integrate(q.data(), 0.0, 0, s.data());
    for (int c = 0; c < cols; ++c) {
      if (c % 9 == 4) {
        EXPECT_EQ(s[std::size_t(c)], 0.0f) << "column " << c;
        continue;
      }
      double exact = 0.0, magnitude = 0.0;
      for (int f = 0; f < d; ++f) {
        const double w = lo + step * level[std::size_t(f) * cols + c] - gc.w_center_v;
        const double term = code[std::size_t(f)] / 15.0 * g_by_table(gc, w);
        exact += term;
        magnitude += std::fabs(term);
      }
      // Half an ulp of float for the one rounding, and double-precision slack for the sums.
      EXPECT_NEAR(s[std::size_t(c)], exact,
                  0.5 * FLT_EPSILON * std::fabs(exact) + 1e-13 * (magnitude + 1.0))
          << "edge " << edge << " column " << c;
    }
  }
}

// Widths off the Q DAC's grid (a caller with its own pulses) take the float kernel instead:
// still the weighted sum, within float rounding of each product and partial sum.
TEST(KeyArray, WidthsOffTheCodeGridUseTheFloatKernel) {
  const HardwareSpec spec = load_spec(default_spec_path(), {});
  const CircuitModel cm(spec);
  const int d = 8, cols = 4;
  KeyArray a(cm, d, cols);
  const GainCellParams& gc = spec.gain_cell;
  const double lo = gc.v_min_v, hi = std::min(gc.v_max_v, spec.cost.vdd_v);
  std::vector<double> k(d);
  for (int f = 0; f < d; ++f) k[std::size_t(f)] = lo + (hi - lo) / 7.0 * (f % 8);
  for (int c = 0; c < cols; ++c) a.write_column(c, k.data(), 0.0, c);
  std::vector<float> q(d, 0.3f);  // 0.3 x 15 = 4.5: not a code
  std::vector<float> s(cols);
  a.integrate(q.data(), 0.0, 0, s.data());
  double exact = 0.0, magnitude = 0.0;
  for (int f = 0; f < d; ++f) {
    const double term = double(0.3f) * g_by_table(gc, k[std::size_t(f)] - gc.w_center_v);
    exact += term;
    magnitude += std::fabs(term);
  }
  for (int c = 0; c < cols; ++c)
    EXPECT_NEAR(s[std::size_t(c)], exact, 4.0 * d * FLT_EPSILON * magnitude);
}
