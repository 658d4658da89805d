// Roofline of the decode step: how fast could a token go on this machine, and what bounds it.
// Prints, for a model configuration (GPT-2 by default, --config=gpt2_xl), three rates:
//  - memory: the bytes of K/V level codes one token reads (four bits per stored value, K and V
//    of every head) over the machine's read bandwidth, measured here with a streaming sum,
//    once over a buffer that fits the last-level cache and once over one that does not;
//  - kernel: the model's read kernels (the K pass as integer moments of the Q codes,
//    level_moments_packed, and the V pass as gemv_levels_packed, over every sub-tile of every
//    head, on level codes packed two to a byte as the arrays keep them) timed
//    alone over the same state, on 1 thread and on all threads;
//  - the simulator's steady-state rate is what `gca-sim run` prints ("with the window full"),
//    to be read beside these two.
// Figures are measured, never asserted; on a shared machine they are noisy.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gca/spec/gain_cell_array.hpp"
#include "gca/spec/level_moments.hpp"
#include "gca/spec/parallel.hpp"
#include "gca/spec/params.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Read bandwidth in bytes/s: `threads` threads each sum their share of `bytes`, `reps` times.
double read_bandwidth(std::size_t bytes, int threads, int reps) {
  std::vector<std::uint64_t> buf(bytes / 8, 1);
  std::atomic<std::uint64_t> sink{0};
  auto sum_part = [&](int t) {
    const std::size_t n = buf.size() / threads, lo = n * t;
    std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int r = 0; r < reps; ++r) {
      for (std::size_t i = lo; i + 4 <= lo + n; i += 4)
        s0 += buf[i], s1 += buf[i + 1], s2 += buf[i + 2], s3 += buf[i + 3];
    }
    sink += s0 + s1 + s2 + s3;
  };
  sum_part(0);  // warm the pages (and the cache, when it fits)
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(sum_part, t);
  sum_part(0);
  for (auto& th : pool) th.join();
  const double s = seconds_since(t0);
  return double(buf.size() / threads * threads) * 8.0 * reps / s;
}

// Seconds per token of the read kernel over `heads` heads of `subtiles` 64 x 64 sub-tiles
// (K pass: rows = features; V pass: rows = lines), heads spread over `threads` threads.
double kernel_seconds(int heads, int subtiles, int rows, int cols, int threads, int tokens) {
  const std::size_t per_subtile = std::size_t(rows) * cols / 2;  // bytes: two levels each
  std::vector<std::uint8_t> codes(2 * per_subtile * subtiles * std::size_t(heads));
  std::mt19937 rng(1);
  for (auto& c : codes) c = static_cast<std::uint8_t>(rng() % 8 | (rng() % 8) << 4);
  std::vector<float> table(8);
  for (int l = 0; l < 8; ++l) table[l] = 0.1f * float(l) - 0.35f;
  const gca::spec::BinomialCubic g = gca::spec::BinomialCubic::from_powers(-0.35, 0.1, 0.0, 0.0);
  const std::vector<std::uint8_t> q_code(std::size_t(rows), 7);  // 4-bit Q codes
  const std::int64_t code_sum = 7 * std::int64_t(rows);
  auto head_token = [&](int h, std::vector<float>& w, std::vector<float>& s) {
    const std::uint8_t* base = codes.data() + 2 * per_subtile * subtiles * std::size_t(h);
    thread_local std::vector<std::int32_t> m;
    m.resize(3 * std::size_t(cols));
    for (int st = 0; st < subtiles; ++st) {
      const std::uint8_t* k = base + 2 * per_subtile * st;
      gca::spec::level_moments_packed(q_code.data(), rows, k, cols / 2, 8, cols, m.data(),
                                      m.data() + cols, m.data() + 2 * cols);
      gca::spec::combine_level_moments(g, code_sum, m.data(), m.data() + cols, m.data() + 2 * cols,
                                       1.0 / 15, cols, s.data());
      for (int c = 0; c < cols; ++c) s[c] = std::clamp(s[c], 0.0f, 1.0f);
      gca::spec::gemv_levels_packed(s.data(), cols, k + per_subtile, rows / 2, table.data(), 8,
                                    w.data() + rows, rows);
    }
  };
  auto run_heads = [&](int t) {
    std::vector<float> w(2 * std::size_t(rows), 0.5f), s(cols);
    for (int h = t; h < heads; h += threads) head_token(h, w, s);
  };
  run_heads(0);
  const auto t0 = Clock::now();
  for (int tok = 0; tok < tokens; ++tok) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(run_heads, t);
    run_heads(0);
    for (auto& th : pool) th.join();
  }
  return seconds_since(t0) / tokens;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config = "gpt2";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--config=", 9) == 0) config = argv[i] + 9;
  }
  if (config != "gpt2" && config != "gpt2_xl") {
    std::fprintf(stderr, "roofline: --config: '%s' (allowed: gpt2, gpt2_xl)\n", config.c_str());
    return 2;
  }
  const auto spec =
      gca::spec::load_spec(gca::spec::default_params_dir() + "/" + config + ".json", {});
  const int heads = spec.model.n_layers * spec.model.n_heads;
  const int subtiles = spec.subtiles_per_head(), rows = spec.array.rows, cols = spec.array.cols;
  const int threads = gca::spec::TaskPool::default_threads();
  const double bytes_per_token = 2.0 * heads * subtiles * double(rows) * cols / 2.0;

  const double bw_cache_1 = read_bandwidth(std::size_t(4) << 20, 1, 200);
  const double bw_cache_n = read_bandwidth(std::size_t(4) << 20, threads, 200);
  const double bw_dram_1 = read_bandwidth(std::size_t(512) << 20, 1, 3);
  const double bw_dram_n = read_bandwidth(std::size_t(512) << 20, threads, 3);
  const double k1 = kernel_seconds(heads, subtiles, rows, cols, 1, 20);
  const double kn = kernel_seconds(heads, subtiles, rows, cols, threads, 20);

  std::printf("roofline of one decode token, %s: %d heads x %d sub-tiles of %d x %d cells\n",
              config.c_str(), heads, subtiles, rows, cols);
  std::printf("state read per token: %.1f MB of level codes (4 bits per stored value)\n",
              bytes_per_token / 1e6);
  std::printf("%-44s %12s %14s\n", "bound", "GB/s or ms", "tokens/s");
  auto row_bw = [&](const char* what, double bw) {
    std::printf("%-44s %9.1f GB/s %14.0f\n", what, bw / 1e9, bw / bytes_per_token);
  };
  row_bw("memory, state in cache, 1 thread", bw_cache_1);
  row_bw(("memory, state in cache, " + std::to_string(threads) + " threads").c_str(), bw_cache_n);
  row_bw("memory, state in DRAM, 1 thread", bw_dram_1);
  row_bw(("memory, state in DRAM, " + std::to_string(threads) + " threads").c_str(), bw_dram_n);
  std::printf("%-44s %9.3f ms %16.0f\n", "read kernel alone, 1 thread", k1 * 1e3, 1.0 / k1);
  std::printf("%-44s %9.3f ms %16.0f\n",
              ("read kernel alone, " + std::to_string(threads) + " threads").c_str(), kn * 1e3,
              1.0 / kn);
  std::printf("compare: `gca-sim run` prints the simulator's rate \"with the window full\"\n");
  return 0;
}
