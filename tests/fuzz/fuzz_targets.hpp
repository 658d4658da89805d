// Fuzz targets of the input readers: each takes arbitrary bytes, hands them to one reader and
// accepts only the project's own errors (gca::Error, gca::tb::NpyError). Anything else (another
// exception, a crash, a sanitizer report, a hang) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gca::fuzz {

// Prepares the folder the targets write their inputs into (a copy of the shipped parameter
// file sits there, so that "extends": "gpt2.json" resolves). Call once.
void setup(const std::string& params_dir);
// Removes that folder.
void teardown();

// Return 0; throw std::logic_error (or crash) on a finding.
int npy_reader(const std::uint8_t* data, std::size_t size);
int parameter_loader(const std::uint8_t* data, std::size_t size);
int scenario_parser(const std::uint8_t* data, std::size_t size);
int baseline_reader(const std::uint8_t* data, std::size_t size);  // device figure files
// Builders of text another program parses: the Slurm batch script, the gnuplot -e text.
int slurm_script(const std::uint8_t* data, std::size_t size);
int gnuplot_command(const std::uint8_t* data, std::size_t size);

using Target = int (*)(const std::uint8_t*, std::size_t);
// nullptr for an unknown name; names: npy, params, scenario, baselines, slurm, gnuplot.
Target find_target(const std::string& name);

}  // namespace gca::fuzz
