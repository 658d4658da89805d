#include "fuzz_targets.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "gca/power/baselines.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/npy.hpp"
#include "gca/tb/scenario.hpp"
#include "gca/tb/sweep_merge.hpp"
#include "gca/tb/sweep_slurm.hpp"
#include "shell_words.hpp"

namespace gca::fuzz {
namespace {

namespace fs = std::filesystem;

fs::path& work_dir() {
  static fs::path dir;
  return dir;
}

// Writes the input to a file in the work folder and returns its path.
std::string as_file(const char* name, const std::uint8_t* data, std::size_t size) {
  const fs::path p = work_dir() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return p.string();
}

// Runs `read`; the project's own errors are the expected outcome of bad input.
template <typename F>
int expect_only_project_errors(F read) {
  try {
    read();
  } catch (const gca::Error&) {
  } catch (const gca::tb::NpyError&) {
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}

// The input cut at NUL bytes into `n` fields (missing fields empty, the rest in the last one).
std::vector<std::string> fields(const std::uint8_t* data, std::size_t size, std::size_t n) {
  std::vector<std::string> f(n);
  std::size_t i = 0;
  for (std::size_t at = 0; at < size; ++at) {
    if (data[at] == 0 && i + 1 < n)
      ++i;
    else
      f[i] += static_cast<char>(data[at]);
  }
  return f;
}

void expect(bool ok, const std::string& what) {
  if (!ok) throw std::logic_error(what);
}

}  // namespace

void setup(const std::string& params_dir) {
  work_dir() = fs::temp_directory_path() / ("gca_fuzz_" + std::to_string(::getpid()));
  fs::create_directories(work_dir());
  fs::copy_file(fs::path(params_dir) / "gpt2.json", work_dir() / "gpt2.json",
                fs::copy_options::overwrite_existing);
  ::setenv("GCA_PARAMS_DIR", work_dir().c_str(), 1);  // bare names in scenarios resolve here
}

void teardown() {
  std::error_code ec;
  fs::remove_all(work_dir(), ec);
}

int npy_reader(const std::uint8_t* data, std::size_t size) {
  const std::string path = as_file("input.npy", data, size);
  return expect_only_project_errors([&] {
    gca::tb::NpyArray a = gca::tb::read_npy(path);
    std::size_t n = 1;
    for (std::size_t d : a.shape) n *= d;
    if (n != a.data.size()) throw std::logic_error("shape and data disagree");
  });
}

int parameter_loader(const std::uint8_t* data, std::size_t size) {
  const std::string path = as_file("params.json", data, size);
  return expect_only_project_errors([&] { gca::spec::load_spec(path, {}); });
}

int scenario_parser(const std::uint8_t* data, std::size_t size) {
  const std::string path = as_file("scenario.json", data, size);
  return expect_only_project_errors([&] { gca::tb::load_scenario(path); });
}

int baseline_reader(const std::uint8_t* data, std::size_t size) {
  const std::string path = as_file("baselines.json", data, size);
  expect_only_project_errors([&] { gca::power::load_baselines(path); });
  return expect_only_project_errors([&] {
    for (const auto& g : gca::power::load_device_baselines(path)) {
      if (!(g.latency_ns > 0.0) || g.shape.heads < 1 || g.shape.d_head < 1 || g.shape.window < 1)
        throw std::logic_error("a device figure out of range was accepted");
    }
  });
}

// The batch script of a Slurm sweep built from fuzzed paths and names: either refused with the
// project's error, or a script whose commands, split the way a POSIX shell splits them, are
// exactly the expected ones, each path one word, unchanged.
int slurm_script(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> f = fields(data, size, 5);
  gca::tb::SweepFile sweep;
  sweep.name = f[4].empty() ? "fuzz" : f[4];
  sweep.points.resize(3);
  gca::tb::SlurmJob job{f[0], f[1], f[2], f[3], 0};
  std::string script;
  try {
    script = gca::tb::sbatch_script(sweep, job);
  } catch (const gca::Error&) {
    return 0;
  }
  std::vector<ShellCommand> commands;
  try {
    commands = split_shell_script(script);
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("the script does not split: ") + e.what());
  }
  const std::vector<std::vector<std::string>> want = {
      {"set", "-eu"},
      {"exec", ">",
       (std::filesystem::path(f[2]) / "slurm").string() + "/task_${SLURM_ARRAY_TASK_ID}.log",
       "2>&1"},
      {"cd", "--", f[3]},
      {"export", "GCA_THREADS=${SLURM_CPUS_PER_TASK:-1}"},
      {"exec", f[0], "sweep", f[1], "--out", f[2], "--shard", "${SLURM_ARRAY_TASK_ID}/3", "--jobs",
       "1"}};
  expect(commands.size() == want.size(),
         "the script holds " + std::to_string(commands.size()) + " commands, not 5");
  for (std::size_t i = 0; i < want.size(); ++i)
    expect(commands[i].words == want[i], "command " + std::to_string(i + 1) + " changed");
  // #SBATCH lines: sbatch reads them itself, one option word each, no quoting.
  for (const auto& c : sbatch_directives(script))
    expect(c.find_first_of(" \t'\"\\$`") == std::string::npos, "unsafe #SBATCH line: " + c);
  return 0;
}

// The gnuplot command line of a sweep's plots from fuzzed key names: refused with the project's
// error, or one -e argument that parses into exactly the two assignments, the names unchanged.
int gnuplot_command(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> keys = fields(data, size, 4);
  std::vector<std::string> argv;
  try {
    argv = gca::tb::sweep_gnuplot_argv(keys, "/plots/plot_sweep.gp");
  } catch (const gca::Error&) {
    return 0;
  }
  expect(argv.size() == 4 && argv[0] == "gnuplot" && argv[1] == "-e" &&
             argv[3] == "/plots/plot_sweep.gp",
         "argument vector changed");
  std::string names;
  for (const auto& k : keys) names += (names.empty() ? "" : " ") + k;
  const std::vector<std::pair<std::string, std::string>> want = {{"nkeys", "4"},
                                                                 {"keynames", names}};
  std::vector<std::pair<std::string, std::string>> got;
  try {
    got = split_gnuplot_assignments(argv[2]);
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("the -e text does not parse: ") + e.what());
  }
  expect(got == want, "the -e text is not exactly nkeys and keynames");
  return 0;
}

Target find_target(const std::string& name) {
  if (name == "slurm") return slurm_script;
  if (name == "gnuplot") return gnuplot_command;
  if (name == "npy") return npy_reader;
  if (name == "baselines") return baseline_reader;
  if (name == "params") return parameter_loader;
  if (name == "scenario") return scenario_parser;
  return nullptr;
}

}  // namespace gca::fuzz
