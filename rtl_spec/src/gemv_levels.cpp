// The read kernel of the `levels` form: a weighted sum of table look-ups.
//
// Rounding: every term is weight x table[level] rounded to float, then added to the running sum
// in row order, rounded again (a multiply and an add, never a fused multiply-add). This file is
// compiled with -ffp-contract=off so that the compiler does not fuse them either, whatever the
// target: the portable loop and the AVX2 kernel give the same bits on every machine.
// Both multiply the table by each row's weight (levels products per row instead of one per
// cell: the portable loop into a table per row, the AVX2 kernel in a register as it reaches the
// row); the products are the same floats as weight x table[level] cell by cell, so this changes
// no result. Rows of zero weight add +-0 to a sum that starts at +0, which changes
// nothing either: they are dropped before the column loop.
#include <algorithm>
#include <vector>

#include "cpu_dispatch.hpp"
#include "gca/spec/gain_cell_array.hpp"

namespace gca::spec {

namespace {

// Rows of non-zero weight and their weighted tables (live x levels floats), per thread.
struct WeightedTables {
  std::vector<int> rows;
  std::vector<float> table;
  int compact(const float* weight, int n_rows) {
    rows.resize(std::size_t(n_rows));
    int live = 0;
    for (int r = 0; r < n_rows; ++r) {
      rows[std::size_t(live)] = r;
      live += weight[r] != 0.0f ? 1 : 0;  // branch-free compaction
    }
    return live;
  }
  int build(const float* weight, int n_rows, const float* levels_table, int levels, int width) {
    const int live = compact(weight, n_rows);
    table.resize(std::size_t(live) * width);  // lanes past `levels` are never read
    for (int i = 0; i < live; ++i) {
      const float w = weight[rows[std::size_t(i)]];
      float* t = table.data() + std::size_t(i) * width;
      for (int l = 0; l < levels; ++l) t[l] = w * levels_table[l];
    }
    return live;
  }
};

WeightedTables& scratch() {
  thread_local WeightedTables w;
  return w;
}

void gemv_levels_portable(const float* weight, int rows, const std::uint8_t* index,
                          std::size_t stride, const float* table, int levels, float* out, int n) {
  WeightedTables& wt = scratch();
  const int live = wt.build(weight, rows, table, levels, levels);
  std::fill(out, out + n, 0.0f);
  for (int i = 0; i < live; ++i) {
    const float* t = wt.table.data() + std::size_t(i) * levels;
    const std::uint8_t* p = index + std::size_t(wt.rows[std::size_t(i)]) * stride;
    for (int c = 0; c < n; ++c) out[c] += t[p[c]];
  }
}

// The same over the packed layout: column 2i in the low nibble of byte i of a row, 2i + 1 in
// the high one (levels up to 16).
void gemv_levels_packed_portable(const float* weight, int rows, const std::uint8_t* nibbles,
                                 std::size_t stride, const float* table, int levels, float* out,
                                 int n) {
  WeightedTables& wt = scratch();
  const int live = wt.build(weight, rows, table, levels, levels);
  std::fill(out, out + n, 0.0f);
  for (int i = 0; i < live; ++i) {
    const float* t = wt.table.data() + std::size_t(i) * levels;
    const std::uint8_t* p = nibbles + std::size_t(wt.rows[std::size_t(i)]) * stride;
    int c = 0;
    for (; c + 2 <= n; c += 2) {
      out[c] += t[p[c >> 1] & 0x0F];
      out[c + 1] += t[p[c >> 1] >> 4];
    }
    if (c < n) out[c] += t[p[c >> 1] & 0x0F];
  }
}

#if defined(GCA_HAVE_X86_DISPATCH)
// Eight levels fit one register: a lane-wise permute of the weighted table is the look-up and
// the product at once. A permute reads the low three bits of each 32-bit lane, so one load of
// 32 level bytes serves four permutes: lane j holds the bytes of columns 4j .. 4j+3, and shifts
// by 8, 16 and 24 bits bring each of them to the low byte (shifts run beside the permutes,
// which all compete for one execution port). Accumulator k then holds columns 4j + k; they are
// put back in column order once, after all rows. Blocks of B x 32 columns stay in registers.
template <int B>
__attribute__((target("avx2"))) inline void avx2_block32(const int* live_rows, int live,
                                                         const float* weight, __m256 table,
                                                         const std::uint8_t* index,
                                                         std::size_t stride, float* out) {
  __m256 acc[B][4];
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < 4; ++k) acc[b][k] = _mm256_setzero_ps();
  for (int i = 0; i < live; ++i) {
    const int r = live_rows[i];
    const __m256 lut = _mm256_mul_ps(_mm256_broadcast_ss(weight + r), table);
    const std::uint8_t* p = index + std::size_t(r) * stride;
    for (int b = 0; b < B; ++b) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * b));
      acc[b][0] = _mm256_add_ps(acc[b][0], _mm256_permutevar8x32_ps(lut, v));
      acc[b][1] = _mm256_add_ps(acc[b][1], _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 8)));
      acc[b][2] = _mm256_add_ps(acc[b][2], _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 16)));
      acc[b][3] = _mm256_add_ps(acc[b][3], _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 24)));
    }
  }
  for (int b = 0; b < B; ++b) {
    alignas(32) float lanes[4][8];
    for (int k = 0; k < 4; ++k) _mm256_store_ps(lanes[k], acc[b][k]);
    for (int j = 0; j < 8; ++j)
      for (int k = 0; k < 4; ++k) out[32 * b + 4 * j + k] = lanes[k][j];
  }
}

// The same for 8 columns: one byte per lane, widened.
__attribute__((target("avx2"))) inline void avx2_block8(const int* live_rows, int live,
                                                        const float* weight, __m256 table,
                                                        const std::uint8_t* index,
                                                        std::size_t stride, float* out) {
  __m256 acc = _mm256_setzero_ps();
  for (int i = 0; i < live; ++i) {
    const int r = live_rows[i];
    const __m256 lut = _mm256_mul_ps(_mm256_broadcast_ss(weight + r), table);
    const std::uint8_t* p = index + std::size_t(r) * stride;
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    acc = _mm256_add_ps(acc, _mm256_permutevar8x32_ps(lut, _mm256_cvtepu8_epi32(bytes)));
  }
  _mm256_storeu_ps(out, acc);
}

// What every AVX2 look-up starts from: the rows of non-zero weight (by pointer: a reference to
// the thread-local scratch would be looked up again in every iteration of the row loops) and
// the table of up to eight levels, padded to a register.
struct LiveRows {
  const int* rows;
  int live;
  alignas(32) float padded[8] = {};
  LiveRows(const float* weight, int n_rows, const float* table, int levels) {
    WeightedTables& wt = scratch();
    live = wt.compact(weight, n_rows);
    rows = wt.rows.data();
    std::copy_n(table, levels, padded);
  }
  __attribute__((target("avx2"))) __m256 lut() const { return _mm256_load_ps(padded); }
};

__attribute__((target("avx2"))) void gemv_levels_avx2(const float* weight, int rows,
                                                      const std::uint8_t* index, std::size_t stride,
                                                      const float* table, int levels, float* out,
                                                      int n) {
  if (levels > 8) {
    gemv_levels_portable(weight, rows, index, stride, table, levels, out, n);
    return;
  }
  const LiveRows lr(weight, rows, table, levels);
  const int* live_rows = lr.rows;
  const int live = lr.live;
  const float* padded = lr.padded;
  const __m256 lut = lr.lut();
  int c = 0;
  for (; c + 64 <= n; c += 64)
    avx2_block32<2>(live_rows, live, weight, lut, index + c, stride, out + c);
  for (; c + 32 <= n; c += 32)
    avx2_block32<1>(live_rows, live, weight, lut, index + c, stride, out + c);
  for (; c + 8 <= n; c += 8) avx2_block8(live_rows, live, weight, lut, index + c, stride, out + c);
  for (; c < n; ++c) {
    float acc = 0.0f;
    for (int i = 0; i < live; ++i) {
      const int r = live_rows[i];
      acc += weight[r] * padded[index[std::size_t(r) * stride + c]];
    }
    out[c] = acc;
  }
}
// The packed layout: one load of 32 bytes holds 64 columns, lane j the 8 nibbles of columns
// 8j .. 8j+7. Shifts by 4k bring column 8j + k to the low bits, and a permute reads only the
// low three: with at most 8 levels a nibble's top bit is 0, so no mask is needed. Accumulator
// k holds columns 8j + k (eight accumulators: one block of 64 columns fills the registers).
__attribute__((target("avx2"))) inline void avx2_packed_block64(const int* live_rows, int live,
                                                                const float* weight, __m256 table,
                                                                const std::uint8_t* nibbles,
                                                                std::size_t stride, float* out) {
  // Eight named sums rather than an array: GCC otherwise keeps the array in memory and stores
  // it on every row.
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (int i = 0; i < live; ++i) {
    const int r = live_rows[i];
    const __m256 lut = _mm256_mul_ps(_mm256_broadcast_ss(weight + r), table);
    const __m256i v =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(nibbles + std::size_t(r) * stride));
    a0 = _mm256_add_ps(a0, _mm256_permutevar8x32_ps(lut, v));
    a1 = _mm256_add_ps(a1, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 4)));
    a2 = _mm256_add_ps(a2, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 8)));
    a3 = _mm256_add_ps(a3, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 12)));
    a4 = _mm256_add_ps(a4, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 16)));
    a5 = _mm256_add_ps(a5, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 20)));
    a6 = _mm256_add_ps(a6, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 24)));
    a7 = _mm256_add_ps(a7, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 28)));
  }
  alignas(32) float lanes[8][8];
  const __m256 acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
  for (int k = 0; k < 8; ++k) _mm256_store_ps(lanes[k], acc[k]);
  for (int j = 0; j < 8; ++j)
    for (int k = 0; k < 8; ++k) out[8 * j + k] = lanes[k][j];
}

// The same for 16 columns: 8 bytes, one per lane (columns 2j and 2j + 1), two permutes.
__attribute__((target("avx2"))) inline void avx2_packed_block16(const int* live_rows, int live,
                                                                const float* weight, __m256 table,
                                                                const std::uint8_t* nibbles,
                                                                std::size_t stride, float* out) {
  __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
  for (int i = 0; i < live; ++i) {
    const int r = live_rows[i];
    const __m256 lut = _mm256_mul_ps(_mm256_broadcast_ss(weight + r), table);
    const __m256i v = _mm256_cvtepu8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(nibbles + std::size_t(r) * stride)));
    even = _mm256_add_ps(even, _mm256_permutevar8x32_ps(lut, v));
    odd = _mm256_add_ps(odd, _mm256_permutevar8x32_ps(lut, _mm256_srli_epi32(v, 4)));
  }
  alignas(32) float lanes[2][8];
  _mm256_store_ps(lanes[0], even);
  _mm256_store_ps(lanes[1], odd);
  for (int j = 0; j < 8; ++j) out[2 * j] = lanes[0][j], out[2 * j + 1] = lanes[1][j];
}

__attribute__((target("avx2"))) void gemv_levels_packed_avx2(const float* weight, int rows,
                                                             const std::uint8_t* nibbles,
                                                             std::size_t stride, const float* table,
                                                             int levels, float* out, int n) {
  if (levels > 8) {
    gemv_levels_packed_portable(weight, rows, nibbles, stride, table, levels, out, n);
    return;
  }
  const LiveRows lr(weight, rows, table, levels);
  const int* live_rows = lr.rows;
  const int live = lr.live;
  const float* padded = lr.padded;
  const __m256 lut = lr.lut();
  int c = 0;
  for (; c + 64 <= n; c += 64)
    avx2_packed_block64(live_rows, live, weight, lut, nibbles + c / 2, stride, out + c);
  for (; c + 16 <= n; c += 16)
    avx2_packed_block16(live_rows, live, weight, lut, nibbles + c / 2, stride, out + c);
  for (; c < n; ++c) {  // c even at the start: the nibble of column c is (c & 1)
    float acc = 0.0f;
    for (int i = 0; i < live; ++i) {
      const int r = live_rows[i];
      const std::uint8_t byte = nibbles[std::size_t(r) * stride + std::size_t(c >> 1)];
      acc += weight[r] * padded[(c & 1) ? byte >> 4 : byte & 0x0F];
    }
    out[c] = acc;
  }
}
#endif

}  // namespace

void gemv_levels(const float* weight, int rows, const std::uint8_t* index, std::size_t stride,
                 const float* table, int levels, float* out, int n) {
  static const auto kernel = GCA_PICK_KERNEL(gemv_levels_avx2, gemv_levels_portable);
  kernel(weight, rows, index, stride, table, levels, out, n);
}

void gemv_levels_reference(const float* weight, int rows, const std::uint8_t* index,
                           std::size_t stride, const float* table, int levels, float* out, int n) {
  gemv_levels_portable(weight, rows, index, stride, table, levels, out, n);
}

void gemv_levels_packed(const float* weight, int rows, const std::uint8_t* nibbles,
                        std::size_t stride, const float* table, int levels, float* out, int n) {
  static const auto kernel = GCA_PICK_KERNEL(gemv_levels_packed_avx2, gemv_levels_packed_portable);
  kernel(weight, rows, nibbles, stride, table, levels, out, n);
}

void gemv_levels_packed_reference(const float* weight, int rows, const std::uint8_t* nibbles,
                                  std::size_t stride, const float* table, int levels, float* out,
                                  int n) {
  gemv_levels_packed_portable(weight, rows, nibbles, stride, table, levels, out, n);
}

}  // namespace gca::spec
