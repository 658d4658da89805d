// Exact integer sums for reads whose row weights are quantizer codes and whose cells hold DAC
// level indices: the K read with a 4-bit Q pulse and 3-bit stored levels.
//
// g of a stored level l is a cubic in l (paper Eq. 4 on an evenly spaced DAC grid), so any such
// cubic h can be written in the binomial basis, h(l) = b0 + b1 C(l,1) + b2 C(l,2) + b3 C(l,3),
// and a weighted column sum becomes
//   sum_r a_r h(l_rc) = b0 sum_r a_r + b1 M1[c] + b2 M2[c] + b3 M3[c],
//   M_k[c] = sum_r a_r C(l_rc, k)        (the binomial moments: integers, summed exactly).
// The integers do not depend on the order of the rows; the floating point is one short
// combination per column at the end, so every kernel and every machine gets the same bits.
// The binomial basis keeps the factors small: C(l, k) <= 35 for l < 8, so a code times a factor
// fits a signed 16-bit product and the AVX2 kernel uses byte multiply-adds (vpmaddubsw).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gca::spec {

// h(l) = b[0] + b[1] C(l,1) + b[2] C(l,2) + b[3] C(l,3).
struct BinomialCubic {
  double b[4] = {0.0, 0.0, 0.0, 0.0};
  // From the power form h(l) = e0 + e1 l + e2 l^2 + e3 l^3 (l^2 = 2 C(l,2) + l,
  // l^3 = 6 C(l,3) + 6 C(l,2) + l).
  static BinomialCubic from_powers(double e0, double e1, double e2, double e3) {
    return BinomialCubic{{e0, e1 + e2 + e3, 2.0 * e2 + 6.0 * e3, 6.0 * e3}};
  }
  // The polynomial p0 + p1 w + p2 w^2 + p3 w^3 on the grid w = w0 + step l.
  static BinomialCubic on_grid(const double p[4], double w0, double step);
  // sum_r a_r h(l_rc) x scale, from sum_r a_r and the column's moments (one rounding per
  // operation, in this order).
  double combine(std::int64_t code_sum, std::int32_t m1, std::int32_t m2, std::int32_t m3,
                 double scale) const {
    return scale *
           (b[0] * double(code_sum) + b[1] * double(m1) + b[2] * double(m2) + b[3] * double(m3));
  }
};

// Whether the integer kernel handles `levels` stored levels (indices below 16 whose binomial
// factors fit a byte) and codes up to max_code (a code times two factors within 16 bits).
bool level_moments_fit(int levels, int max_code);

// m1, m2, m3 [c] = sum over r < rows of code[r] * C(index[r * stride + c], k), for c < n
// (k = 1, 2, 3). Requires level_moments_fit(levels, max of code) and every index < levels.
// Chosen at run time (AVX2 where the processor has it, a portable loop elsewhere); exact, so
// both give the same integers.
void level_moments(const std::uint8_t* code, int rows, const std::uint8_t* index,
                   std::size_t stride, int levels, int n, std::int32_t* m1, std::int32_t* m2,
                   std::int32_t* m3);
// out[c] = float(h.combine(code_sum, m1[c], m2[c], m3[c], scale)) for c < n: the same
// operations in the same order on every kernel (AVX2 takes four columns at once).
void combine_level_moments(const BinomialCubic& h, std::int64_t code_sum, const std::int32_t* m1,
                           const std::int32_t* m2, const std::int32_t* m3, double scale, int n,
                           float* out);
// The portable loop alone (for tests of the dispatched kernel).
void level_moments_reference(const std::uint8_t* code, int rows, const std::uint8_t* index,
                             std::size_t stride, int levels, int n, std::int32_t* m1,
                             std::int32_t* m2, std::int32_t* m3);

// The same sums over levels packed two to a byte: column 2i of a row in the low nibble of its
// byte i, column 2i + 1 in the high nibble; `stride` is in bytes (at least (n + 1) / 2).
// Requires what level_moments requires (levels <= 13 fit; nibbles hold up to 16 levels).
void level_moments_packed(const std::uint8_t* code, int rows, const std::uint8_t* nibbles,
                          std::size_t stride, int levels, int n, std::int32_t* m1, std::int32_t* m2,
                          std::int32_t* m3);
void level_moments_packed_reference(const std::uint8_t* code, int rows, const std::uint8_t* nibbles,
                                    std::size_t stride, int levels, int n, std::int32_t* m1,
                                    std::int32_t* m2, std::int32_t* m3);

}  // namespace gca::spec
