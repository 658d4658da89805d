#include "fuzz_targets.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "gca/power/baselines.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/npy.hpp"
#include "gca/tb/scenario.hpp"

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

Target find_target(const std::string& name) {
  if (name == "npy") return npy_reader;
  if (name == "baselines") return baseline_reader;
  if (name == "params") return parameter_loader;
  if (name == "scenario") return scenario_parser;
  return nullptr;
}

}  // namespace gca::fuzz
