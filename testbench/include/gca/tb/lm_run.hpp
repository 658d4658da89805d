// gca-sim lm: the shipped character language model end to end through the SystemC/TLM
// accelerator (every attention head of every layer simulated, the rest computed by the host from
// the weights), compared with the float surrogate of the hardware's attention and with the
// softmax network; or generation of text through the accelerator.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/lm/network.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/cli.hpp"

namespace gca::tb {

struct LmOptions {
  std::string manifest;
  std::string spec_path;               // default rtl_spec/params/gpt2.json
  std::vector<std::string> overrides;  // --set, applied after the model's shape and hardware
  long seed = -1;                      // chip mismatch, noise, sampling (-1: defaults, 1)
  bool quiet = false;
  // Scoring.
  std::string text_path;
  long chars = -1;  // characters of the text fed (-1: all)
  std::string out_dir;
  // Generation (generate > 0).
  std::string prompt;
  long generate = 0;
  double temperature = 1.0;
};

// Scores the text (report.json with an "lm" section, modules.csv, energy_table.txt in out_dir)
// or generates text (printed). Returns an ExitCode; throws gca::Error on bad input.
int run_lm(const LmOptions& options);

// "key=value" overrides that give the spec the model's shape (layers, heads, d_head) and the
// hardware parameters it was trained for (window, array.cols, quantizers, saturations).
std::vector<std::string> lm_overrides(const lm::Model& model);
// The hardware spec of a run of the model: the spec file with the model's shape and the
// hardware parameters the model was trained for, then `overrides`.
spec::HardwareSpec lm_spec(const lm::Model& model, const std::string& spec_path,
                           const std::vector<std::string>& overrides);
// The float surrogate's parameters for a spec (what its ideal circuits compute).
lm::HardwareAttentionParams attention_of(const spec::HardwareSpec& spec);

// The three columns of a text (accelerator from a finished run, ideal and softmax computed
// here): the lm section of report.json without the energy.
struct LmScores {
  lm::ScoreTally accelerator, ideal, softmax;
  long chars_fed = 0, unknown_chars = 0;
};
// Float columns (ideal surrogate, softmax) of the first `chars` characters of ids.
void score_float(const lm::Model& model, const lm::HardwareAttentionParams& hw,
                 const lm::Encoded& text, LmScores& scores);
// The text through the simulated accelerator with the oracle check, no reports (benchmarks).
// One per process (SystemC).
struct AcceleratorScore {
  lm::ScoreTally tally;
  bool ok = true;
  std::string error;
  double wall_s = 0.0;
  long compared = 0, mismatches = 0;
};
AcceleratorScore score_on_accelerator(const lm::Model& model, const spec::HardwareSpec& spec,
                                      const lm::Encoded& text);
nlohmann::json lm_section(const LmScores& s, double energy_text_pj, double energy_uniform_pj);

}  // namespace gca::tb

namespace CLI {
class App;
}
namespace gca::tb {
// `gca-sim lm`: declares the subcommand and its options; runs it when parsed (code).
class LmCommand {
 public:
  void declare(CLI::App& app);
  int code = 0;

 private:
  int execute(const CLI::App& command);
  std::string manifest_, text_, prompt_, spec_;
  long chars_ = -1, generate_ = 0;
  double temperature_ = 1.0;
  CommonOptions common_;
};
}  // namespace gca::tb
