// gca-sim head: one head over Q, K, V from .npy files, as an experiment of the engine (a
// one-layer, one-head scenario with the files as its stimulus) with an observer that keeps the
// outputs (out.npy) and, on request, the scores (scores.npy, phi.npy).
#pragma once

#include <string>
#include <vector>

#include "gca/tb/engine/experiment.hpp"

namespace gca::tb {

struct HeadRunOptions {
  std::string q_path, k_path, v_path, out_dir, spec_path;
  std::vector<std::string> overrides;
  bool dump_scores = false;
  ProgressMode progress = ProgressMode::automatic;
  bool plots = true;
};

// Runs the head; prints one line; returns the result (exit_code as every command's).
RunResult run_head_command(const HeadRunOptions& options);

}  // namespace gca::tb
