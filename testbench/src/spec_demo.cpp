// Runs the executable spec (rtl_spec, no SystemC) for one layer of heads over a seeded
// uniform random token stream and prints statistics of the outputs and the wall time.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gca/spec/head_model.hpp"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> overrides;
    long tokens = 1200;
    std::string spec_path = gca::spec::default_spec_path();
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--tokens" && i + 1 < argc) {
        tokens = std::strtol(argv[++i], nullptr, 10);
        if (tokens <= 0) throw gca::Error("", "--tokens", "must be a positive integer");
      } else if (a == "--spec" && i + 1 < argc) {
        spec_path = argv[++i];
      } else if (a == "--set" && i + 1 < argc) {
        overrides.push_back(argv[++i]);
      } else {
        throw gca::Error("", a,
                         "unknown argument (usage: gca-spec-demo [--tokens N] [--spec FILE] [--set "
                         "key=value ...])");
      }
    }
    auto spec = gca::spec::load_spec(spec_path, overrides);
    const int heads = spec.model.n_heads, d = spec.model.d_head;
    std::vector<gca::spec::HeadModel> layer;
    for (int h = 0; h < heads; ++h) layer.emplace_back(spec);
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> uq(0.0, 1.0), ukv(0.0, 0.9);
    std::vector<double> q(d), k(d), v(d), out(d);
    double sum = 0, sum2 = 0, lo = 1e300, hi = -1e300;
    long n = 0;
    auto start = std::chrono::steady_clock::now();
    for (long t = 0; t < tokens; ++t) {
      for (auto& head : layer) {
        for (int i = 0; i < d; ++i) q[i] = uq(rng), k[i] = ukv(rng), v[i] = ukv(rng);
        head.step(q.data(), k.data(), v.data(), out.data());
        for (double x : out)
          sum += x, sum2 += x * x, lo = std::min(lo, x), hi = std::max(hi, x), ++n;
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double mean = sum / n;
    std::printf("executable spec: %d heads, window %d, d %d, %ld tokens\n", heads, spec.window, d,
                tokens);
    std::printf("outputs: mean %.4f  std %.4f  min %.4f  max %.4f\n", mean,
                std::sqrt(std::max(0.0, sum2 / n - mean * mean)), lo, hi);
    std::printf("wall time %.3f s: %.2f us per head per token\n", secs,
                1e6 * secs / (tokens * heads));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gca-spec-demo: %s\n", e.what());
    return 2;
  }
}
