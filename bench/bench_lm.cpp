// Characters per second of the shipped character language model through the full TLM path:
// every attention head of every layer on the SystemC accelerator (registers, host link,
// timing, power tracker), the oracle check on, the host computing the rest of the network in
// the closed loop. SystemC allows one elaboration per process: one iteration scores the text.
//   gca_bench_lm [--chars=N] [--text=FILE]   (default: 2000 characters of the GPL-3 text from
//   Debian's base-files, or the model's reference text when that is absent)
#include <benchmark/benchmark.h>

#include <systemc>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gca/spec/params.hpp"
#include "gca/tb/lm_run.hpp"

int sc_main(int argc, char** argv) {
  long chars = 2000;
  std::string text_path = "/usr/share/common-licenses/GPL-3";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--chars=", 8) == 0) {
      chars = std::atol(argv[i] + 8);
    } else if (std::strncmp(argv[i], "--text=", 7) == 0) {
      text_path = argv[i] + 7;
    } else {
      args.push_back(argv[i]);
    }
  }
  const gca::lm::Model model = gca::lm::load_model(GCA_LM_MANIFEST);
  if (!std::filesystem::exists(text_path)) text_path = model.reference_text_path;
  std::ifstream in(text_path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  gca::lm::Encoded text = gca::lm::encode(model.vocab, buf.str());
  if (static_cast<long>(text.ids.size()) > chars) {
    text.ids.resize(static_cast<std::size_t>(chars));
    text.unknown.resize(static_cast<std::size_t>(chars));
  }
  const gca::spec::HardwareSpec spec = gca::tb::lm_spec(model, gca::spec::default_spec_path(), {});
  benchmark::RegisterBenchmark(
      "lm_chars_through_tlm",
      [&](benchmark::State& state) {
        for (auto _ : state) {
          const gca::tb::AcceleratorScore r = gca::tb::score_on_accelerator(model, spec, text);
          if (!r.ok || r.mismatches > 0) state.SkipWithError("simulation error or oracle mismatch");
          state.SetIterationTime(r.wall_s);
          state.counters["chars_per_second"] = double(text.ids.size()) / r.wall_s;
          state.counters["chars"] = double(text.ids.size());
          state.counters["bits_per_char"] = r.tally.bits_per_char();
          state.counters["outputs_checked"] = double(r.compared);
        }
      })
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
