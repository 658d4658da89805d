// The command line of `gca-sim lm` (CLI11, with the options shared by every command).
#include <CLI/CLI.hpp>

#include "gca/spec/error.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/cli.hpp"
#include "gca/tb/lm_run.hpp"

namespace gca::tb {

void LmCommand::declare(CLI::App& app) {
  CLI::App* c = app.add_subcommand(
      "lm",
      "a character language model (testbench/lm/models/*/manifest.json) with every attention "
      "head of every layer on the simulated accelerator, the host computing the rest from the "
      "weights token by token (decode), in chunks of the model's context with every head reset "
      "between chunks. --text: bits per character and top-1 accuracy of the accelerator, of the "
      "float surrogate of its attention (ideal) and of the softmax network, energy per head per "
      "token on the text and on uniform data of the same shape; writes DIR/report.json (\"lm\" "
      "section), modules.csv, energy_table.txt (default DIR out/lm). --prompt/--generate: "
      "generated text on stdout (same seed, same text).");
  c->add_option("MANIFEST", manifest_, "the model's manifest.json")->required();
  c->add_option("--text", text_, "score this UTF-8 text")->type_name("FILE");
  c->add_option("--chars", chars_, "score only the first N characters")
      ->check(CLI::Range(2L, 1000000000L));
  c->add_option("--prompt", prompt_, "generate after this text")->type_name("TEXT");
  c->add_option("--generate", generate_, "characters to generate")
      ->check(CLI::Range(1L, 100000000L));
  c->add_option("--temperature", temperature_,
                "sampling temperature (default 1; 0 = the most likely character)")
      ->check(CLI::Range(0.0, 100.0));
  c->add_option("--spec", spec_, "hardware parameter file (default rtl_spec/params/gpt2.json)")
      ->type_name("FILE");
  add_common_options(*c, common_, kOptSet | kOptSeed | kOptOut | kOptQuiet,
                     "seed of the chip's mismatch and the noise (variation.chip_seed, "
                     "noise.seed), of the uniform data and of the sampling");
  c->final_callback([this, c] { code = execute(*c); });
}

int LmCommand::execute(const CLI::App& c) {
  LmOptions o;
  o.manifest = manifest_;
  o.spec_path = spec_.empty() ? spec::default_spec_path() : spec_;
  o.overrides = common_.sets;
  o.seed = common_.seed;
  o.quiet = common_.quiet;
  o.text_path = text_;
  o.chars = chars_;
  o.out_dir = common_.out.empty() ? "out/lm" : common_.out;
  o.prompt = prompt_;
  o.generate = generate_;
  o.temperature = temperature_;
  const bool prompt_given = c.count("--prompt") > 0;
  const bool generating = prompt_given || generate_ > 0;
  if (generating && !text_.empty())
    throw Error("", "--text", "not with --prompt/--generate (score or generate, not both)");
  if (generating && (!prompt_given || generate_ <= 0))
    throw Error("", !prompt_given ? "--prompt" : "--generate",
                "missing (generation needs --prompt TEXT and --generate N)");
  if (!generating && text_.empty())
    throw Error("", "--text", "missing (or --prompt TEXT --generate N; see gca-sim lm --help)");
  return run_lm(o);
}

}  // namespace gca::tb
