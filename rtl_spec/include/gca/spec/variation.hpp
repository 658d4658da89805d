// Random draws of the analog non-idealities (docs/variation.md). Every draw is a pure function
// of a seed, a stream tag and integer indices: no generator state, so the fast model and the
// oracle read the same numbers in any order, chips run in parallel, and the same seed gives the
// same bytes. The two seeds (variation.chip_seed, noise.seed) feed separate streams: changing
// the noise seed leaves the chip's mismatch as it was.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace gca::spec {

// What a draw is for; part of its key, so no two uses share a number.
enum class Draw : std::uint64_t {
  cell_gain = 1,      // chip: relative spread of a cell's read current
  cell_offset = 2,    // chip: threshold offset of a cell's read transistor
  ctp_offset = 3,     // chip: comparator offset of a charge-to-pulse circuit
  read = 4,           // noise: one column integration of one token
  write = 5,          // noise: one write DAC conversion of a token's K or V value
  refresh_write = 6,  // noise: one write DAC conversion of a refresh from the shadow copy
};

// Which array of a sub-tile a draw belongs to.
enum class ArrayKind : std::uint64_t { key = 0, value = 1 };

// Where an array sits: its head (layer * n_heads + head) and sub-tile, and the first window
// slot it holds (sub-tile * array.cols). Draws of cells are keyed by window slot and feature,
// so that the oracle, which knows no sub-tiles, finds them.
struct ArrayPlace {
  int head = 0;
  int subtile = 0;
  int first_slot = 0;
};

// Standard normal number keyed by (seed, what, indices): a 64-bit hash of the key turned
// into a uniform in (0, 1), then through the inverse normal CDF.
double normal_draw(std::uint64_t seed, Draw what, std::initializer_list<std::uint64_t> indices);
// The same draw in two steps, for keys that differ only in their last index (a read-noise
// stream per output, keyed by token): draw_prefix(seed, what, {a, b}) once, then
// normal_draw_last(prefix, c) == normal_draw(seed, what, {a, b, c}).
std::uint64_t draw_prefix(std::uint64_t seed, Draw what,
                          std::initializer_list<std::uint64_t> indices);
double normal_draw_last(std::uint64_t prefix, std::uint64_t last);

// Inverse of the standard normal CDF for p in (0, 1); relative error below 1.2e-9 (a rational
// approximation, with a logarithm only in the 5% tails: fast enough to draw every token).
double inverse_normal_cdf(double p);

// The index of a draw that belongs to one array kind: kind in the high half.
inline std::uint64_t kind_index(ArrayKind kind, std::uint64_t index) {
  return (static_cast<std::uint64_t>(kind) << 32) | index;
}

}  // namespace gca::spec
