// The dispatched read kernel of the `levels` form against a plain double-precision sum and
// against the portable loop, bit for bit (the AVX2 kernel must round exactly as the loop does).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gca/spec/gain_cell_array.hpp"

using namespace gca::spec;

namespace {
struct Case {
  int rows, n, levels;
  double zero_fraction;  // of the weights
};

void check(const Case& k, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> lv(0, k.levels - 1);
  std::bernoulli_distribution zero(k.zero_fraction);
  const std::size_t stride = std::size_t(k.n) + 3;  // rows not packed
  std::vector<float> weight(k.rows), table(k.levels);
  std::vector<std::uint8_t> index(std::size_t(k.rows) * stride);
  for (float& w : weight) w = zero(rng) ? 0.0f : u(rng);
  for (float& t : table) t = u(rng);
  for (auto& i : index) i = static_cast<std::uint8_t>(lv(rng));
  std::vector<float> fast(k.n, 7.0f), ref(k.n, 7.0f);
  gemv_levels(weight.data(), k.rows, index.data(), stride, table.data(), k.levels, fast.data(),
              k.n);
  gemv_levels_reference(weight.data(), k.rows, index.data(), stride, table.data(), k.levels,
                        ref.data(), k.n);
  for (int c = 0; c < k.n; ++c) {
    double exact = 0.0, magnitude = 0.0;
    for (int r = 0; r < k.rows; ++r) {
      const double term = double(weight[r]) * table[index[std::size_t(r) * stride + c]];
      exact += term;
      magnitude += std::fabs(term);
    }
    ASSERT_EQ(std::memcmp(&fast[c], &ref[c], sizeof(float)), 0)
        << "column " << c << ": " << fast[c] << " vs " << ref[c];
    // Float rounding of rows products and rows sums: a few ulps of the magnitude.
    ASSERT_NEAR(fast[c], exact, 1e-6 * (k.rows + 1) * (magnitude + 1e-30)) << "column " << c;
  }
}
}  // namespace

TEST(GemvLevels, DispatchedKernelRoundsAsThePortableLoop) {
  const Case cases[] = {{64, 64, 8, 0.0},  {64, 64, 8, 0.5},  {64, 64, 6, 0.2},
                        {7, 71, 8, 0.3},   {64, 5, 8, 0.0},   {1, 1, 2, 0.0},
                        {64, 64, 16, 0.3}, {33, 100, 3, 1.0}, {0, 16, 8, 0.0}};
  unsigned seed = 1;
  for (const Case& k : cases) check(k, seed++);
}

TEST(GemvLevels, AllZeroWeightsGivePositiveZero) {
  std::vector<float> weight(4, 0.0f), table{-1.0f, 2.0f}, out(3, 5.0f);
  std::vector<std::uint8_t> index(12, 0);
  gemv_levels(weight.data(), 4, index.data(), 3, table.data(), 2, out.data(), 3);
  for (float o : out) {
    EXPECT_EQ(o, 0.0f);
    EXPECT_FALSE(std::signbit(o));
  }
}
