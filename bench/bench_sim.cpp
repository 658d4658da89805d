// Whole-simulation throughput of the SystemC/TLM model: generated tokens per second of wall
// time for one head, one GPT-2 layer, the whole GPT-2 and GPT-2 XL, with the power tracker on
// (as gca-sim runs). SystemC allows one elaboration per process, so the configuration is
// chosen on the command line:  gca_bench_sim --config=head|layer|gpt2|gpt2_xl
// Each iteration is one generated token (decode), after the window has been filled once.
// "x_floor" is the ratio of the time per token to a plain float multiply-add loop doing the
// same MACs (two d x M passes per head), measured in the same process.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "floor_loop.hpp"
#include "gca/power/power_tracker.hpp"
#include "gca/tb/scenario.hpp"
#include "gca/tb/stimulus.hpp"
#include "gca/tlm/system.hpp"

int sc_main(int argc, char** argv) {
  std::string config = "layer";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--config=", 9) == 0) {
      config = argv[i] + 9;
    } else {
      args.push_back(argv[i]);
    }
  }
  std::string file =
      gca::spec::default_params_dir() + (config == "gpt2_xl" ? "/gpt2_xl.json" : "/gpt2.json");
  std::vector<std::string> overrides;
  if (config == "head") overrides = {"model.n_layers=1", "model.n_heads=1"};
  if (config == "layer") overrides = {"model.n_layers=1"};
  if (config != "head" && config != "layer" && config != "gpt2" && config != "gpt2_xl") {
    std::fprintf(stderr,
                 "gca_bench_sim: --config: '%s' is not a configuration (allowed: head, layer, "
                 "gpt2, gpt2_xl)\n",
                 config.c_str());
    return 2;
  }
  const gca::spec::HardwareSpec spec = gca::spec::load_spec(file, overrides);
  const int L = spec.model.n_layers, H = spec.model.n_heads, d = spec.model.d_head;
  const double token_ns = L * spec.timing.token_latency_ns();

  gca::tlm::HostConfig hc;
  hc.tokens = 1L << 40;      // the benchmark decides when to stop
  hc.quantum_ns = token_ns;  // sync once per token, so that sc_start(token) is one token
  gca::tb::StimulusConfig stim;
  gca::power::EnergyTable table(spec);
  gca::power::PowerTracker tracker(table, 1e6);
  gca::tlm::System sys(
      "system", spec, hc, gca::tb::make_stimulus(stim, spec.model, 0),
      [](long, int, int, const double*) {}, &tracker);
  const sc_core::sc_time step(token_ns, sc_core::SC_NS);
  // Fill the window once: from then on every token reads all sub-tiles.
  for (int t = 0; t < spec.window; ++t) sc_core::sc_start(step);
  const double floor_s = gca::bench::floor_seconds_per_token(L * H, spec.window, d);

  benchmark::RegisterBenchmark(
      ("BM_SystemC_" + config + "_token").c_str(),
      [&](benchmark::State& state) {
        const auto t0 = std::chrono::steady_clock::now();
        for (auto _ : state) sc_core::sc_start(step);
        const double per_token_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
            double(state.iterations());
        state.SetItemsProcessed(state.iterations());
        state.counters["x_floor"] = per_token_s / floor_s;
        state.counters["heads"] = L * H;
        state.counters["MAC_per_s"] = benchmark::Counter(
            2.0 * L * H * spec.window * d * state.iterations(), benchmark::Counter::kIsRate);
        state.counters["floor_us_per_token"] = floor_s * 1e6;
      })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();

  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
