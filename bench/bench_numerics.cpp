// Numerics of the executable spec, per token of one head, against a floor: a plain
// multiply-add loop doing the same number of MACs (two d x M passes).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "floor_loop.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/spec/level_moments.hpp"

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

// A head's inputs, one token after another: q in [0, 1), k and v in [0, 0.9), seeded.
struct RandomTokens {
  explicit RandomTokens(int d) : q(std::size_t(d)), k(q), v(q) {}
  void next() {
    for (std::size_t i = 0; i < q.size(); ++i)
      q[i] = u(rng), k[i] = 0.9 * u(rng), v[i] = 0.9 * u(rng);
  }
  std::mt19937_64 rng{1};
  std::uniform_real_distribution<double> u{0.0, 1.0};
  std::vector<double> q, k, v;
};

// Runs one head over a full window first, so that every sub-tile is active.
void BM_HeadStep(benchmark::State& state) {
  const int window = static_cast<int>(state.range(0));
  const bool decay = state.range(1) != 0;
  HardwareSpec spec = spec_for(window, decay, state.range(2) != 0);
  HeadModel head(spec);
  const int d = spec.model.d_head;
  RandomTokens tokens(d);
  std::vector<double>& q = tokens.q;
  std::vector<double>& k = tokens.k;
  std::vector<double>& v = tokens.v;
  std::vector<double> out(d);
  for (int t = 0; t < window; ++t) {
    tokens.next();
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

// Many heads in turn, as a whole-model token steps them: each head's state has left the
// cache by the time its turn comes again (144 heads at window 1024 hold about 25 MB). The
// figure is per head-step; against BM_HeadStep (one head, state in cache) it shows what the
// memory costs.
void BM_HeadStepManyHeads(benchmark::State& state) {
  const int heads = static_cast<int>(state.range(0)), window = 1024;
  HardwareSpec spec = spec_for(window, false, false);
  std::vector<std::unique_ptr<HeadModel>> model;
  for (int h = 0; h < heads; ++h) {
    model.push_back(std::make_unique<HeadModel>(spec, h));
    model.back()->keep_views(false);  // as in gca-sim, where nothing reads them
  }
  RandomTokens tokens(spec.model.d_head);
  std::vector<double> out(std::size_t(spec.model.d_head));
  for (int t = 0; t < window; ++t)
    for (auto& m : model) {
      tokens.next();
      m->step(tokens.q.data(), tokens.k.data(), tokens.v.data(), out.data());
    }
  int h = 0;
  for (auto _ : state) {
    model[std::size_t(h)]->step(tokens.q.data(), tokens.k.data(), tokens.v.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    h = h + 1 == heads ? 0 : h + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeadStepManyHeads)->Arg(1)->Arg(144)->ArgName("heads");

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

// The K read of one 64 x 64 sub-tile alone (4-bit Q codes, 3-bit levels, data in L1):
// kernel 0 = the float table kernel (gemv_levels), 1 = the integer moments and their
// combination per column, as KeyArray::integrate does with Q codes.
void BM_KeyReadSubtile(benchmark::State& state) {
  const int rows = 64, cols = 64, levels = 8;
  std::mt19937 rng(3);
  std::vector<std::uint8_t> index(std::size_t(rows) * cols), code(rows);
  for (auto& l : index) l = static_cast<std::uint8_t>(rng() % levels);
  for (auto& a : code) a = static_cast<std::uint8_t>(rng() % 16);
  std::vector<float> q(rows), table(levels), out(cols);
  for (int f = 0; f < rows; ++f) q[f] = static_cast<float>(code[f] / 15.0);
  const double p[4] = {0.5, 9.0, -2.0, 4.0};
  const BinomialCubic g = BinomialCubic::on_grid(p, -0.45, 0.9 / 7);
  for (int l = 0; l < levels; ++l) table[l] = static_cast<float>(g.combine(1, l, 0, 0, 1.0));
  std::vector<std::int32_t> m(3 * std::size_t(cols));
  std::int64_t code_sum = 0;
  for (auto a : code) code_sum += a;
  const bool integer = state.range(0) != 0;
  for (auto _ : state) {
    if (integer) {
      level_moments(code.data(), rows, index.data(), cols, levels, cols, m.data(), m.data() + cols,
                    m.data() + 2 * cols);
      combine_level_moments(g, code_sum, m.data(), m.data() + cols, m.data() + 2 * cols, 1.0 / 15,
                            cols, out.data());
    } else {
      gemv_levels(q.data(), rows, index.data(), cols, table.data(), levels, out.data(), cols);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyReadSubtile)->Arg(0)->Arg(1)->ArgName("integer");

}  // namespace

BENCHMARK_MAIN();
