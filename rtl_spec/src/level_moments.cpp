// The binomial moments of a level-indexed array (level_moments.hpp): integer sums, exact.
#include "gca/spec/level_moments.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "cpu_dispatch.hpp"

namespace gca::spec {

BinomialCubic BinomialCubic::on_grid(const double p[4], double w0, double step) {
  const double e0 = p[0] + w0 * (p[1] + w0 * (p[2] + w0 * p[3]));
  const double e1 = step * (p[1] + w0 * (2.0 * p[2] + 3.0 * w0 * p[3]));
  const double e2 = step * step * (p[2] + 3.0 * w0 * p[3]);
  const double e3 = step * step * step * p[3];
  return from_powers(e0, e1, e2, e3);
}

namespace {

constexpr int kMaxLevels = 16;  // a byte shuffle looks up 16 entries

int choose(int l, int k) {
  if (k == 1) return l;
  if (k == 2) return l * (l - 1) / 2;
  return l * (l - 1) * (l - 2) / 6;
}

// Largest binomial factor of any level below `levels`.
int largest_factor(int levels) {
  int m = 0;
  for (int k = 1; k <= 3; ++k) m = std::max(m, choose(std::max(levels - 1, 0), k));
  return m;
}

// The two layouts of a row of levels: a byte per column, or two columns per byte (column 2i
// in the low nibble of byte i, 2i + 1 in the high one).
struct ByteLevels {
  static constexpr bool kPacked = false;
  static int level(const std::uint8_t* row, int c) { return row[c]; }
  static std::size_t offset(int c) { return std::size_t(c); }  // byte of column c
};
struct NibbleLevels {
  static constexpr bool kPacked = true;
  static int level(const std::uint8_t* row, int c) { return (row[c >> 1] >> ((c & 1) * 4)) & 0x0F; }
  static std::size_t offset(int c) { return std::size_t(c) / 2; }  // c even
};

template <class Layout>
void moments_portable(const std::uint8_t* code, int rows, const std::uint8_t* levels_in,
                      std::size_t stride, int levels, int n, std::int32_t* m1, std::int32_t* m2,
                      std::int32_t* m3) {
  std::array<std::int32_t, kMaxLevels> c2{}, c3{};
  for (int l = 0; l < std::min(levels, kMaxLevels); ++l) c2[l] = choose(l, 2), c3[l] = choose(l, 3);
  std::fill(m1, m1 + n, 0);
  std::fill(m2, m2 + n, 0);
  std::fill(m3, m3 + n, 0);
  for (int r = 0; r < rows; ++r) {
    const std::int32_t a = code[r];
    if (a == 0) continue;
    const std::uint8_t* p = levels_in + std::size_t(r) * stride;
    for (int c = 0; c < n; ++c) {
      const int l = Layout::level(p, c);
      m1[c] += a * l;
      m2[c] += a * c2[l];
      m3[c] += a * c3[l];
    }
  }
}

#if defined(GCA_HAVE_X86_DISPATCH)
// C(l, 2) and C(l, 3) of the levels a byte shuffle can look up (those past 13 levels do not fit
// a byte and are never looked up: level_moments_fit).
constexpr std::uint8_t kChoose2[16] = {0, 0, 1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 66, 78, 0, 0};
constexpr std::uint8_t kChoose3[16] = {0, 0, 0, 1, 4, 10, 20, 35, 56, 84, 120, 165, 220, 0, 0, 0};

// The levels of 32 columns of a row, a byte each. Bytes: one 32-byte load. Nibbles: 16 bytes
// loaded into both halves of a register; the low half keeps the low nibbles (the even columns,
// in order), the high half the high nibbles (the odd columns). Shifting 32-bit lanes by 4 moves
// each byte's high nibble down (the next byte's low nibble lands above it and is masked off).
template <class Layout>
__attribute__((target("avx2"))) inline __m256i load_levels32(const std::uint8_t* p) {
  if constexpr (!Layout::kPacked) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  } else {
    const __m256i both =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
    return _mm256_and_si256(_mm256_srlv_epi32(both, shift), _mm256_set1_epi8(0x0F));
  }
}

// 32 columns, rows taken in pairs (r, r + 1). Interleaving the level bytes of two rows puts, in
// each 16-bit lane, the levels of one column in both rows; a byte multiply-add with the pair's
// codes (a0, a1) then gives a0 C(l0,k) + a1 C(l1,k) for that column, and a byte shuffle of a
// small table gives C(l, 2) and C(l, 3) from l. Rows of code 0 add 0 (an odd last row is paired
// with itself at code 0). Sums stay in 16-bit lanes (taken as unsigned: every term is >= 0) for
// up to `pairs_per_flush` pairs, then widen into the 32-bit totals.
// The unpack works within 128-bit halves. Bytes: lanes of `lo` hold columns 0-7 and 16-23, lanes
// of `hi` columns 8-15 and 24-31. Nibbles: the low half of each 128-bit lane holds even columns
// and the high half the odd ones, so the widening interleaves them back into column order.
template <class Layout>
__attribute__((target("avx2"))) void moments_block32(const std::uint8_t* code, int rows,
                                                     const std::uint8_t* levels_in,
                                                     std::size_t stride, int pairs_per_flush,
                                                     std::int32_t* m1, std::int32_t* m2,
                                                     std::int32_t* m3) {
  const __m256i table2 =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kChoose2)));
  const __m256i table3 =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kChoose3)));
  std::int32_t* out[3] = {m1, m2, m3};
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 32; j += 8)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[k] + j), _mm256_setzero_si256());
  int r = 0;
  while (r < rows) {
    __m256i a1_lo = _mm256_setzero_si256(), a1_hi = a1_lo, a2_lo = a1_lo, a2_hi = a1_lo,
            a3_lo = a1_lo, a3_hi = a1_lo;
    // One pair: rows p0 and p1 with the codes in w (low byte p0's).
    auto add_pair = [&](const std::uint8_t* p0, const std::uint8_t* p1, __m256i w)
        __attribute__((target("avx2"))) {
      const __m256i x0 = load_levels32<Layout>(p0), x1 = load_levels32<Layout>(p1);
      const __m256i lo = _mm256_unpacklo_epi8(x0, x1), hi = _mm256_unpackhi_epi8(x0, x1);
      a1_lo = _mm256_add_epi16(a1_lo, _mm256_maddubs_epi16(lo, w));
      a1_hi = _mm256_add_epi16(a1_hi, _mm256_maddubs_epi16(hi, w));
      a2_lo = _mm256_add_epi16(a2_lo, _mm256_maddubs_epi16(_mm256_shuffle_epi8(table2, lo), w));
      a2_hi = _mm256_add_epi16(a2_hi, _mm256_maddubs_epi16(_mm256_shuffle_epi8(table2, hi), w));
      a3_lo = _mm256_add_epi16(a3_lo, _mm256_maddubs_epi16(_mm256_shuffle_epi8(table3, lo), w));
      a3_hi = _mm256_add_epi16(a3_hi, _mm256_maddubs_epi16(_mm256_shuffle_epi8(table3, hi), w));
    };
    const int end = std::min(rows, r + 2 * pairs_per_flush);
    for (; r + 1 < end; r += 2) {
      std::uint16_t codes;  // code[r] in the low byte, code[r + 1] in the high one
      std::memcpy(&codes, code + r, sizeof codes);
      const std::uint8_t* p0 = levels_in + std::size_t(r) * stride;
      add_pair(p0, p0 + stride, _mm256_set1_epi16(static_cast<short>(codes)));
    }
    if (r < end) {  // the odd last row, with itself at code 0
      const std::uint8_t* p0 = levels_in + std::size_t(r) * stride;
      add_pair(p0, p0, _mm256_set1_epi16(static_cast<short>(code[r])));
      ++r;
    }
    const __m256i acc[3][2] = {{a1_lo, a1_hi}, {a2_lo, a2_hi}, {a3_lo, a3_hi}};
    for (int k = 0; k < 3; ++k) {
      for (int h = 0; h < 2; ++h) {
        const __m128i low = _mm256_castsi256_si128(acc[k][h]);
        const __m128i high = _mm256_extracti128_si256(acc[k][h], 1);
        for (int q = 0; q < 2; ++q) {
          // Bytes: the low half of `lo` is columns 0-7, its high half 16-23; `hi` gives 8-15,
          // 24-31. Nibbles: the halves are the even and the odd columns of 16 in a row.
          __m128i part;
          __m256i* dst;
          if constexpr (!Layout::kPacked) {
            part = q == 0 ? low : high;
            dst = reinterpret_cast<__m256i*>(out[k] + 16 * q + 8 * h);
          } else {
            part = q == 0 ? _mm_unpacklo_epi16(low, high) : _mm_unpackhi_epi16(low, high);
            dst = reinterpret_cast<__m256i*>(out[k] + 16 * h + 8 * q);
          }
          _mm256_storeu_si256(
              dst, _mm256_add_epi32(_mm256_loadu_si256(dst), _mm256_cvtepu16_epi32(part)));
        }
      }
    }
  }
}

// How many row pairs the 16-bit sums take before they widen: a pair adds at most
// 2 x max_code x largest factor to a 16-bit lane read as unsigned.
int pairs_per_flush_for(const std::uint8_t* code, int rows, int levels) {
  int max_code = 0;
  for (int r = 0; r < rows; ++r) max_code = std::max<int>(max_code, code[r]);
  const int per_pair = std::max(1, 2 * max_code * largest_factor(levels));
  return std::max(1, 65535 / per_pair);
}

template <class Layout>
__attribute__((target("avx2"))) void moments_avx2(const std::uint8_t* code, int rows,
                                                  const std::uint8_t* levels_in, std::size_t stride,
                                                  int levels, int n, std::int32_t* m1,
                                                  std::int32_t* m2, std::int32_t* m3) {
  const int pairs_per_flush = pairs_per_flush_for(code, rows, levels);
  int c = 0;
  for (; c + 32 <= n; c += 32) {
    moments_block32<Layout>(code, rows, levels_in + Layout::offset(c), stride, pairs_per_flush,
                            m1 + c, m2 + c, m3 + c);
  }
  if (c < n) {  // the last columns (c even: a packed row's rest starts at a low nibble)
    moments_portable<Layout>(code, rows, levels_in + Layout::offset(c), stride, levels, n - c,
                             m1 + c, m2 + c, m3 + c);
  }
}
#endif

void combine_portable(const BinomialCubic& h, std::int64_t code_sum, const std::int32_t* m1,
                      const std::int32_t* m2, const std::int32_t* m3, double scale, int n,
                      float* out) {
  for (int c = 0; c < n; ++c)
    out[c] = static_cast<float>(h.combine(code_sum, m1[c], m2[c], m3[c], scale));
}

#if defined(GCA_HAVE_X86_DISPATCH)
__attribute__((target("avx2"))) inline __m256d four_columns(const std::int32_t* m, int c) {
  return _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(m + c)));
}

// BinomialCubic::combine four columns at a time: the same products and sums, in its order.
__attribute__((target("avx2"))) void combine_avx2(const BinomialCubic& h, std::int64_t code_sum,
                                                  const std::int32_t* m1, const std::int32_t* m2,
                                                  const std::int32_t* m3, double scale, int n,
                                                  float* out) {
  const __m256d c0 = _mm256_set1_pd(h.b[0] * double(code_sum));
  const __m256d b1 = _mm256_set1_pd(h.b[1]), b2 = _mm256_set1_pd(h.b[2]),
                b3 = _mm256_set1_pd(h.b[3]), s = _mm256_set1_pd(scale);

  int c = 0;
  for (; c + 4 <= n; c += 4) {
    __m256d t = _mm256_add_pd(c0, _mm256_mul_pd(b1, four_columns(m1, c)));
    t = _mm256_add_pd(t, _mm256_mul_pd(b2, four_columns(m2, c)));
    t = _mm256_add_pd(t, _mm256_mul_pd(b3, four_columns(m3, c)));
    _mm_storeu_ps(out + c, _mm256_cvtpd_ps(_mm256_mul_pd(s, t)));
  }
  combine_portable(h, code_sum, m1 + c, m2 + c, m3 + c, scale, n - c, out + c);
}
#endif

}  // namespace

bool level_moments_fit(int levels, int max_code) {
  if (levels < 1 || levels > kMaxLevels || max_code < 0 || max_code > 127) return false;
  const int factor = largest_factor(levels);
  // Bytes for the shuffle tables; a pair of products within a signed 16-bit lane.
  return factor <= 255 && 2 * factor * max_code <= 32767;
}

void level_moments(const std::uint8_t* code, int rows, const std::uint8_t* index,
                   std::size_t stride, int levels, int n, std::int32_t* m1, std::int32_t* m2,
                   std::int32_t* m3) {
  static const auto kernel =
      GCA_PICK_KERNEL(moments_avx2<ByteLevels>, moments_portable<ByteLevels>);
  kernel(code, rows, index, stride, levels, n, m1, m2, m3);
}

void combine_level_moments(const BinomialCubic& h, std::int64_t code_sum, const std::int32_t* m1,
                           const std::int32_t* m2, const std::int32_t* m3, double scale, int n,
                           float* out) {
  static const auto kernel = GCA_PICK_KERNEL(combine_avx2, combine_portable);
  kernel(h, code_sum, m1, m2, m3, scale, n, out);
}

void level_moments_reference(const std::uint8_t* code, int rows, const std::uint8_t* index,
                             std::size_t stride, int levels, int n, std::int32_t* m1,
                             std::int32_t* m2, std::int32_t* m3) {
  moments_portable<ByteLevels>(code, rows, index, stride, levels, n, m1, m2, m3);
}

void level_moments_packed(const std::uint8_t* code, int rows, const std::uint8_t* nibbles,
                          std::size_t stride, int levels, int n, std::int32_t* m1, std::int32_t* m2,
                          std::int32_t* m3) {
  static const auto kernel =
      GCA_PICK_KERNEL(moments_avx2<NibbleLevels>, moments_portable<NibbleLevels>);
  kernel(code, rows, nibbles, stride, levels, n, m1, m2, m3);
}

void level_moments_packed_reference(const std::uint8_t* code, int rows, const std::uint8_t* nibbles,
                                    std::size_t stride, int levels, int n, std::int32_t* m1,
                                    std::int32_t* m2, std::int32_t* m3) {
  moments_portable<NibbleLevels>(code, rows, nibbles, stride, levels, n, m1, m2, m3);
}

}  // namespace gca::spec
