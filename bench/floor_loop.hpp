// The floor of the benchmarks: a plain float multiply-add loop doing the MACs of one token
// (two d x M passes per head) and nothing else.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace gca::bench {

// Seconds per token of the plain multiply-add loop over `heads` heads of window M, d features.
inline double floor_seconds_per_token(int heads, int window, int d) {
  // Separate arrays per head, as the model has: the loop streams the same bytes it would.
  const std::size_t per_head = std::size_t(window) * d;
  std::vector<float> a(per_head * heads, 0.5f), b(per_head * heads, 0.25f);
  std::vector<float> q(d, 0.3f), s(window), out(d);
  const int reps = 20;
  const auto t0 = std::chrono::steady_clock::now();
  float sink = 0.0f;
  for (int r = 0; r < reps * heads; ++r) {
    const float* ah = a.data() + per_head * (r % heads);
    const float* bh = b.data() + per_head * (r % heads);
    std::fill(s.begin(), s.end(), 0.0f);
    for (int f = 0; f < d; ++f)
      for (int c = 0; c < window; ++c) s[c] += q[f] * ah[std::size_t(f) * window + c];
    std::fill(out.begin(), out.end(), 0.0f);
    for (int c = 0; c < window; ++c)
      for (int f = 0; f < d; ++f) out[f] += s[c] * bh[std::size_t(c) * d + f];
    sink += out[r % d];
  }
  benchmark::DoNotOptimize(sink);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

}  // namespace gca::bench
