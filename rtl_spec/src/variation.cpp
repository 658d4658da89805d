#include "gca/spec/variation.hpp"

#include <cmath>
#include <vector>

namespace gca::spec {
namespace {

// A 64-bit finaliser with full avalanche: every input bit flips about half the output bits.
std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

double inverse_normal_cdf(double p) {
  // Rational approximations on a central region and two tails (P. J. Acklam's coefficients).
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  if (p < kLow || p > 1.0 - kLow) {
    const double q = std::sqrt(-2.0 * std::log(p < kLow ? p : 1.0 - p));
    const double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                     ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    return p < kLow ? x : -x;
  }
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

namespace {

// The inverse CDF tabulated at p = i / kBins, read by linear interpolation: a draw every
// token per output must cost a few ns. The two outermost bins on each side, where the curve
// bends most, take the exact function. Interpolation error: below 3e-4 in x.
constexpr int kBins = 4096;

const std::vector<double>& icdf_table() {
  static const std::vector<double> table = [] {
    std::vector<double> t(kBins + 1, 0.0);
    for (int i = 1; i < kBins; ++i) t[i] = inverse_normal_cdf(double(i) / kBins);
    return t;
  }();
  return table;
}

double normal_of_hash(std::uint64_t h) {
  // 53 random bits, centred in their bin: never 0, never 1.
  const double u = (double(h >> 11) + 0.5) * 0x1.0p-53;
  const double x = u * kBins;
  const int i = static_cast<int>(x);
  if (i < 2 || i >= kBins - 2) return inverse_normal_cdf(u);
  const std::vector<double>& t = icdf_table();
  return t[i] + (x - i) * (t[i + 1] - t[i]);
}

}  // namespace

std::uint64_t draw_prefix(std::uint64_t seed, Draw what,
                          std::initializer_list<std::uint64_t> indices) {
  std::uint64_t h = mix64(seed ^ mix64(static_cast<std::uint64_t>(what)));
  for (std::uint64_t i : indices) h = mix64(h ^ i);
  return h;
}

double normal_draw_last(std::uint64_t prefix, std::uint64_t last) {
  return normal_of_hash(mix64(prefix ^ last));
}

double normal_draw(std::uint64_t seed, Draw what, std::initializer_list<std::uint64_t> indices) {
  return normal_of_hash(draw_prefix(seed, what, indices));
}

}  // namespace gca::spec
