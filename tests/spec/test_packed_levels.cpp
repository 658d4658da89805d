// The read kernels over level codes packed two to a byte (column 2i of a row in the low nibble
// of byte i, 2i + 1 in the high one), against naive loops written here: the integer moments
// against a plain sum of code x C(l, k) with factors from Pascal's triangle, the float look-up
// against a loop that rounds each product to float and adds the rows in order (the rounding
// the kernels promise), bit for bit. The layout is packed by this file's own code. Then the
// arrays that store their codes packed: every cell keeps its own level, and the memory halves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gca/spec/gain_cell_array.hpp"
#include "gca/spec/level_moments.hpp"
#include "gca/spec/params.hpp"

using namespace gca::spec;

namespace {

// A rows x n matrix of levels and its nibble layout with `stride` bytes per row.
struct PackedMatrix {
  int rows = 0, n = 0;
  std::size_t stride = 0;
  std::vector<int> level;           // [r * n + c]
  std::vector<std::uint8_t> bytes;  // [r * stride + c / 2]
  PackedMatrix(int rows_, int n_, std::size_t extra_bytes, int levels, std::mt19937& rng)
      : rows(rows_), n(n_), stride(std::size_t(n_ + 1) / 2 + extra_bytes) {
    std::uniform_int_distribution<int> lv(0, levels - 1);
    level.resize(std::size_t(rows) * n);
    for (int& l : level) l = lv(rng);
    // Padding bytes (and an odd row's unused high nibble) hold all ones: nothing may read them.
    bytes.assign(std::size_t(rows) * stride, 0xFF);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < n; ++c) {
        std::uint8_t& b = bytes[std::size_t(r) * stride + std::size_t(c) / 2];
        const int l = level[std::size_t(r) * n + c];
        b = c % 2 == 0 ? std::uint8_t((b & 0xF0) | l) : std::uint8_t((b & 0x0F) | (l << 4));
      }
    }
  }
  int at(int r, int c) const { return level[std::size_t(r) * n + c]; }
};

long pascal(int l, int k) {
  std::vector<long> row{1};  // row l of the triangle
  for (int i = 1; i <= l; ++i) {
    std::vector<long> next(std::size_t(i) + 1, 1);
    for (int j = 1; j < i; ++j)
      next[std::size_t(j)] = row[std::size_t(j) - 1] + row[std::size_t(j)];
    row = next;
  }
  return k > l ? 0 : row[std::size_t(k)];
}

// g(w) term by term from the coefficient table: sum_ij c[i][j] v_in^j w^i (paper Eq. 4).
double g_by_table(const GainCellParams& p, double w) {
  double g = 0.0;
  for (int i = 0; i <= 3; ++i)
    for (int j = 0; i + j <= 3; ++j) g += p.c[i][j] * std::pow(p.v_in_v, j) * std::pow(w, i);
  return g;
}

struct Case {
  int rows, n, levels;
  double zero_fraction;  // of the codes or weights
};

void check_moments(const Case& k, int max_code, unsigned seed) {
  ASSERT_TRUE(level_moments_fit(k.levels, max_code));
  std::mt19937 rng(seed);
  const PackedMatrix m(k.rows, k.n, 3, k.levels, rng);
  std::uniform_int_distribution<int> cd(1, max_code);
  std::bernoulli_distribution zero(k.zero_fraction);
  std::vector<std::uint8_t> code(std::size_t(k.rows));
  for (auto& a : code) a = static_cast<std::uint8_t>(zero(rng) ? 0 : cd(rng));
  std::vector<std::int32_t> fast(3 * std::size_t(k.n) + 1, -7), ref(fast);
  level_moments_packed(code.data(), k.rows, m.bytes.data(), m.stride, k.levels, k.n, fast.data(),
                       fast.data() + k.n, fast.data() + 2 * k.n);
  level_moments_packed_reference(code.data(), k.rows, m.bytes.data(), m.stride, k.levels, k.n,
                                 ref.data(), ref.data() + k.n, ref.data() + 2 * k.n);
  for (int c = 0; c < k.n; ++c) {
    for (int j = 1; j <= 3; ++j) {
      long want = 0;
      for (int r = 0; r < k.rows; ++r) want += long(code[std::size_t(r)]) * pascal(m.at(r, c), j);
      ASSERT_EQ(fast[std::size_t(j - 1) * k.n + c], want) << "column " << c << " moment " << j;
      ASSERT_EQ(ref[std::size_t(j - 1) * k.n + c], want) << "column " << c << " moment " << j;
    }
  }
  EXPECT_EQ(fast.back(), -7);  // nothing written past the three moments
}

// The promised rounding, spelled out: each product rounded to float, the rows added in order.
float naive_gemv_column(const std::vector<float>& weight, const PackedMatrix& m,
                        const std::vector<float>& table, int c) {
  float sum = 0.0f;
  for (int r = 0; r < m.rows; ++r) {
    if (weight[std::size_t(r)] == 0.0f) continue;
    volatile float product = weight[std::size_t(r)] * table[std::size_t(m.at(r, c))];
    sum += product;
  }
  return sum;
}

void check_gemv(const Case& k, unsigned seed) {
  std::mt19937 rng(seed);
  const PackedMatrix m(k.rows, k.n, 5, k.levels, rng);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::bernoulli_distribution zero(k.zero_fraction);
  std::vector<float> weight(std::size_t(k.rows)), table(std::size_t(k.levels));
  for (float& w : weight) w = zero(rng) ? 0.0f : u(rng);
  for (float& t : table) t = u(rng);
  std::vector<float> fast(std::size_t(k.n) + 1, 7.0f), ref(fast);
  gemv_levels_packed(weight.data(), k.rows, m.bytes.data(), m.stride, table.data(), k.levels,
                     fast.data(), k.n);
  gemv_levels_packed_reference(weight.data(), k.rows, m.bytes.data(), m.stride, table.data(),
                               k.levels, ref.data(), k.n);
  for (int c = 0; c < k.n; ++c) {
    const float want = naive_gemv_column(weight, m, table, c);
    ASSERT_EQ(std::memcmp(&fast[std::size_t(c)], &want, sizeof want), 0)
        << "column " << c << ": " << fast[std::size_t(c)] << " vs " << want;
    ASSERT_EQ(std::memcmp(&ref[std::size_t(c)], &want, sizeof want), 0) << "column " << c;
  }
  EXPECT_EQ(fast.back(), 7.0f);  // nothing written past n
}

}  // namespace

TEST(PackedLevels, MomentsGiveTheNaiveIntegerSums) {
  const Case cases[] = {{64, 64, 8, 0.0},   // the GPT-2 sub-tile
                        {64, 64, 8, 0.4},   // rows of code 0
                        {63, 64, 8, 0.0},   // an odd last row
                        {7, 65, 8, 0.2},    // an odd column count
                        {64, 33, 5, 0.0},   // one past a block of 32
                        {64, 100, 8, 0.0},  // not a multiple of 64 (nor of 32)
                        {64, 31, 8, 0.0},   // fewer than a block, odd
                        {1, 1, 2, 0.0},     // one cell
                        {300, 64, 8, 0.0},  // 16-bit sums widen on the way
                        {0, 16, 8, 0.0},    // no rows
                        {20, 64, 8, 1.0}};  // every code 0
  unsigned seed = 100;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "rows " << k.rows << " n " << k.n << " levels " << k.levels);
    check_moments(k, 15, seed++);
  }
  for (int levels = 2; levels <= 13; ++levels) {  // 13: the most whose factors fit a byte
    SCOPED_TRACE(::testing::Message() << "levels " << levels);
    check_moments({64, 96, levels, 0.1}, 15, seed++);
    check_moments({17, 47, levels, 0.1}, 15, seed++);
  }
}

TEST(PackedLevels, LookUpRoundsAsTheNaiveFloatLoop) {
  const Case cases[] = {{64, 64, 8, 0.0},   // the GPT-2 sub-tile
                        {64, 64, 8, 0.5},   // rows of weight 0
                        {7, 71, 8, 0.3},    // odd column count past a block of 64
                        {64, 5, 8, 0.0},    // fewer than a block of 16
                        {64, 17, 8, 0.0},   // one past a block of 16
                        {64, 130, 8, 0.2},  // two blocks of 64 and a tail
                        {1, 1, 2, 0.0},     // one cell
                        {33, 100, 3, 1.0},  // every weight 0
                        {0, 16, 8, 0.0}};   // no rows
  unsigned seed = 200;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "rows " << k.rows << " n " << k.n << " levels " << k.levels);
    check_gemv(k, seed++);
  }
  for (int levels = 2; levels <= 16; ++levels) {  // past 8: the portable loop takes them
    SCOPED_TRACE(::testing::Message() << "levels " << levels);
    check_gemv({64, 64, levels, 0.1}, seed++);
    check_gemv({9, 83, levels, 0.1}, seed++);
  }
}

// The write DAC's grid (8 levels over the storable range, capped by the supply): level a is
// stored at dac_lo + a x dac_step volts.
double dac_lo(const HardwareSpec& spec) {
  return spec.gain_cell.v_min_v;
}
double dac_step(const HardwareSpec& spec) {
  const GainCellParams& gc = spec.gain_cell;
  return (std::min(gc.v_max_v, spec.cost.vdd_v) - gc.v_min_v) / 7;
}

// Arrays of the default hardware (3-bit K/V levels, no leakage or variation) keep two cells
// per byte; writing one cell leaves its neighbour in the byte alone.
TEST(PackedLevels, ArraysKeepEveryCellsLevel) {
  const HardwareSpec spec = load_spec(default_spec_path(), {});
  ASSERT_EQ(spec.quant.kv_levels, 8);
  const CircuitModel cm(spec);
  const double lo = dac_lo(spec), step = dac_step(spec);
  const int d = 64, cols = 64;
  KeyArray k(cm, d, cols);
  ValueArray v(cm, d, cols);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> lv(0, 7);
  std::vector<int> k_level(std::size_t(d) * cols), v_level(k_level.size());
  // Columns (lines) written in a shuffled order, each once, some written twice.
  std::vector<int> order(cols);
  for (int c = 0; c < cols; ++c) order[std::size_t(c)] = c;
  std::shuffle(order.begin(), order.end(), rng);
  order.insert(order.end(), {5, 6, 40});
  for (int c : order) {
    std::vector<double> kv(d), vv(d);
    for (int f = 0; f < d; ++f) {
      const int a = lv(rng), b = lv(rng);
      k_level[std::size_t(f) * cols + c] = a;
      v_level[std::size_t(c) * d + f] = b;
      kv[std::size_t(f)] = lo + step * a;
      vv[std::size_t(f)] = lo + step * b;
    }
    k.write_column(c, kv.data(), 0.0, c);
    v.write_line(c, vv.data(), 0.0, c);
  }
  for (int f = 0; f < d; ++f) {
    for (int c = 0; c < cols; ++c) {
      ASSERT_FLOAT_EQ(k.stored_voltage(f, c), lo + step * k_level[std::size_t(f) * cols + c])
          << "K feature " << f << " column " << c;
      ASSERT_FLOAT_EQ(v.stored_voltage(c, f), lo + step * v_level[std::size_t(c) * d + f])
          << "V line " << c << " feature " << f;
    }
  }
  // The codes of 64 x 64 cells take 2048 bytes; an odd row length keeps a byte per cell, so 64
  // rows of 63 cells take 4032: more than 1900 bytes more, though the array is a column smaller.
  KeyArray k_odd(cm, d, cols - 1);
  EXPECT_GT(k_odd.state_bytes(), k.state_bytes() + 1900);
}

// A V read of packed codes against the double sum of the gain-cell formula over the lines.
TEST(PackedLevels, ValueReadIsTheWeightedSum) {
  const HardwareSpec spec = load_spec(default_spec_path(), {});
  const CircuitModel cm(spec);
  const GainCellParams& gc = spec.gain_cell;
  const double lo = dac_lo(spec), step = dac_step(spec);
  const int d = 64, lines = 64;
  ValueArray v(cm, d, lines);
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> lv(0, 7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<int> level(std::size_t(d) * lines);
  for (int l = 0; l < lines; ++l) {
    if (l % 7 == 3) continue;  // never written: no charge whatever its pulse
    std::vector<double> vv(d);
    for (int f = 0; f < d; ++f) {
      level[std::size_t(l) * d + f] = lv(rng);
      vv[std::size_t(f)] = lo + step * level[std::size_t(l) * d + f];
    }
    v.write_line(l, vv.data(), 0.0, l);
  }
  std::vector<float> phi(lines);
  for (int l = 0; l < lines; ++l) phi[std::size_t(l)] = l % 5 == 0 ? 0.0f : u(rng);
  std::vector<float> out(d);
  v.integrate(phi.data(), 0.0, 0, out.data());
  for (int f = 0; f < d; ++f) {
    double exact = 0.0, magnitude = 0.0;
    for (int l = 0; l < lines; ++l) {
      if (l % 7 == 3) continue;
      const double term = double(phi[std::size_t(l)]) *
                          g_by_table(gc, lo + step * level[std::size_t(l) * d + f] - gc.w_center_v);
      exact += term;
      magnitude += std::fabs(term);
    }
    EXPECT_NEAR(out[std::size_t(f)], exact, 1e-6 * (lines + 1) * (magnitude + 1e-30))
        << "feature " << f;
  }
}
