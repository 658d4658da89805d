// Numerics of the executable spec, per token of one head, against a floor: a plain
// multiply-add loop doing the same number of MACs (two d x M passes).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "floor_loop.hpp"
#include "gca/spec/head_model.hpp"

using namespace gca::spec;

namespace {

// variation: 0 = ideal circuits; 1 = cell mismatch (gain and threshold), write noise, read
// noise and comparator offsets all on (the per-cell kernels and a draw per read).
HardwareSpec spec_for(int window, bool decay, bool variation) {
  std::vector<std::string> o{"window=" + std::to_string(window)};
  if (decay) o.push_back("retention.tau_ms=5");
  if (variation) {
    for (const char* s :
         {"variation.cell_gain_sigma=0.05", "variation.cell_offset_sigma_v=0.01",
          "variation.ctp_offset_sigma=0.01", "noise.read_sigma=0.01", "noise.write_sigma_v=0.02"})
      o.push_back(s);
  }
  return load_spec(default_spec_path(), o);
}

// Runs one head over a full window first, so that every sub-tile is active.
void BM_HeadStep(benchmark::State& state) {
  const int window = static_cast<int>(state.range(0));
  const bool decay = state.range(1) != 0;
  HardwareSpec spec = spec_for(window, decay, state.range(2) != 0);
  HeadModel head(spec);
  const int d = spec.model.d_head;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> q(d), k(d), v(d), out(d);
  auto fill = [&] {
    for (int i = 0; i < d; ++i) q[i] = u(rng), k[i] = 0.9 * u(rng), v[i] = 0.9 * u(rng);
  };
  for (int t = 0; t < window; ++t) {
    fill();
    head.step(q.data(), k.data(), v.data(), out.data());
  }
  const double floor_s = gca::bench::floor_seconds_per_token(1, window, d);
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    head.step(q.data(), k.data(), v.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  const double per_token_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
      double(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["x_floor"] = per_token_s / floor_s;
  state.counters["MAC_per_s"] =
      benchmark::Counter(2.0 * window * d * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HeadStep)
    ->ArgsProduct({{64, 256, 1024, 4096}, {0, 1}, {0, 1}})
    ->ArgNames({"window", "decay", "variation"});

// The floor: two d x M float multiply-add passes with nothing else.
void BM_FloorMacLoop(benchmark::State& state) {
  const int window = static_cast<int>(state.range(0)), d = 64;
  std::vector<float> a(std::size_t(window) * d, 0.5f), b(std::size_t(window) * d, 0.25f);
  std::vector<float> q(d, 0.3f), s(window), out(d);
  for (auto _ : state) {
    std::fill(s.begin(), s.end(), 0.0f);
    for (int f = 0; f < d; ++f)
      for (int c = 0; c < window; ++c) s[c] += q[f] * a[std::size_t(f) * window + c];
    std::fill(out.begin(), out.end(), 0.0f);
    for (int c = 0; c < window; ++c)
      for (int f = 0; f < d; ++f) out[f] += s[c] * b[std::size_t(c) * d + f];
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["MAC_per_s"] =
      benchmark::Counter(2.0 * window * d * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FloorMacLoop)->Arg(64)->Arg(256)->Arg(1024)->Arg(4096)->ArgName("window");

}  // namespace

BENCHMARK_MAIN();
