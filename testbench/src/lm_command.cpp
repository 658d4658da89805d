// The command line of `gca-sim lm`.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gca/spec/error.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/lm_run.hpp"

namespace gca::tb {
namespace {

const char* kLmUsage =
    "usage: gca-sim lm MANIFEST --text FILE [--chars N] [--out DIR] [--set key=value ...]\n"
    "                  [--seed S] [--spec FILE] [--quiet]\n"
    "       gca-sim lm MANIFEST --prompt TEXT --generate N [--seed S] [--temperature T]\n"
    "                  [--set key=value ...] [--quiet]\n"
    "  Runs the character language model of MANIFEST (testbench/lm/models/*/manifest.json)\n"
    "  with every attention head of every layer on the simulated accelerator; the host computes\n"
    "  the rest from the weights, token by token (decode), in chunks of the model's context with\n"
    "  every head reset between chunks.\n"
    "  --text FILE     score the UTF-8 text: bits per character and top-1 accuracy of the\n"
    "                  accelerator, of the float surrogate of its attention (ideal) and of the\n"
    "                  softmax network; energy per head per token on the text and on uniform\n"
    "                  data of the same shape. Writes DIR/report.json (\"lm\" section),\n"
    "                  modules.csv, energy_table.txt (default DIR out/lm)\n"
    "  --chars N       score only the first N characters (N >= 2)\n"
    "  --prompt TEXT   generate N characters after TEXT (printed on stdout)\n"
    "  --temperature T sampling temperature (default 1; 0 = most likely character)\n"
    "  --set key=value override a hardware parameter after the model's (see `gca-sim spec`)\n"
    "  --seed S        chip mismatch and noise (variation.chip_seed, noise.seed), the uniform\n"
    "                  data and the sampling; same seed, same output\n";

long parse_long(const std::string& flag, const std::string& text, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  const long x = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || x < lo || x > hi)
    throw Error("", flag,
                "'" + text + "' is not an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
  return x;
}

double parse_double(const std::string& flag, const std::string& text, double lo, double hi) {
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(x) || x < lo || x > hi)
    throw Error("", flag, "'" + text + "' is not a number in [0, 100]");
  return x;
}

}  // namespace

int run_lm_command(const std::vector<std::string>& args) {
  LmOptions o;
  o.spec_path = spec::default_spec_path();
  o.out_dir = "out/lm";
  bool prompt_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& f = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw Error("", f, "needs a value");
      return args[++i];
    };
    if (f == "--help" || f == "-h") {
      std::printf("%s", kLmUsage);
      return 0;
    } else if (f == "--text") {
      o.text_path = value();
    } else if (f == "--chars") {
      o.chars = parse_long(f, value(), 2, 1000000000L);
    } else if (f == "--out") {
      o.out_dir = value();
      if (o.out_dir.empty()) throw Error("", "--out", "empty (allowed: a folder path)");
    } else if (f == "--set") {
      o.overrides.push_back(value());
    } else if (f == "--seed") {
      o.seed = parse_long(f, value(), 0, 2147483647L);
    } else if (f == "--spec") {
      o.spec_path = value();
    } else if (f == "--quiet") {
      o.quiet = true;
    } else if (f == "--prompt") {
      o.prompt = value();
      prompt_given = true;
    } else if (f == "--generate") {
      o.generate = parse_long(f, value(), 1, 100000000L);
    } else if (f == "--temperature") {
      o.temperature = parse_double(f, value(), 0.0, 100.0);
    } else if (!f.empty() && f[0] == '-') {
      throw Error("", f, "unknown option of `gca-sim lm` (see --help)");
    } else if (o.manifest.empty()) {
      o.manifest = f;
    } else {
      throw Error("", f, "only one manifest per run");
    }
  }
  if (o.manifest.empty()) throw Error("", "MANIFEST", "missing (see gca-sim lm --help)");
  const bool generating = prompt_given || o.generate > 0;
  if (generating && !o.text_path.empty())
    throw Error("", "--text", "not with --prompt/--generate (score or generate, not both)");
  if (generating && (!prompt_given || o.generate <= 0))
    throw Error("", generating && !prompt_given ? "--prompt" : "--generate",
                "missing (generation needs --prompt TEXT and --generate N)");
  if (!generating && o.text_path.empty())
    throw Error("", "--text", "missing (or --prompt TEXT --generate N; see gca-sim lm --help)");
  return run_lm(o);
}

}  // namespace gca::tb
