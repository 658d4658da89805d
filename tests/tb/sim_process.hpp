// gca-sim (or another program) started by the tests as a process of its own, with an argument
// vector (gca::run_program): no shell reads a path or an argument.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gca/spec/child_process.hpp"

namespace gca::test {

struct ProcessResult {
  int code = -1;  // exit status; 128 + signal when killed; -1 when it did not start
  std::string out, err;
  std::uint64_t max_rss_bytes = 0;  // its peak resident memory
};

inline std::string slurp_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `text` cut at spaces: the tests write their command lines as one string of words (their
// paths hold no spaces); nothing is quoted or expanded.
inline std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Runs argv; its stdout and stderr go to the files out_path and err_path, then are read back.
inline ProcessResult run_process(const std::vector<std::string>& argv, const std::string& out_path,
                                 const std::string& err_path) {
  const gca::ChildRun run = gca::run_program(argv, "", out_path, err_path);
  ProcessResult r;
  r.code = run.started ? run.exit_code : -1;
  r.out = slurp_file(out_path);
  r.err = slurp_file(err_path);
  r.max_rss_bytes = run.max_rss_bytes;
  return r;
}

}  // namespace gca::test
