// One point of a sweep on disk: DIR/points/<id>/ holds the run's outputs (report.json, ...),
// its stdout.txt and stderr.txt, and point.json, written by the sweep driver when the run has
// ended: the command, the exit code, the status and the error line. A point is complete when
// point.json says so for the same command and report.json is there.
#pragma once

#include <string>
#include <vector>

#include "gca/tb/sweep_file.hpp"

namespace gca::tb {

struct PointStatus {
  bool present = false;           // point.json exists and parses
  std::string status;             // "ok", "check_failed" (report written, check failed), "failed"
  int exit_code = -1;             // of gca-sim run; 128 + signal when it was killed
  std::string error;              // last line of its stderr when it did not exit 0
  std::vector<std::string> args;  // the run's arguments
};

std::string point_dir(const std::string& out_dir, const SweepPoint& point);
PointStatus read_point_status(const std::string& dir);
// Classifies the exit code and writes point.json atomically; returns what it wrote.
PointStatus write_point_status(const std::string& dir, const SweepPoint& point,
                               const std::vector<std::string>& args, int exit_code);
// The point has a report from a run with exactly these arguments (it need not run again).
bool point_complete(const std::string& dir, const std::vector<std::string>& args);

}  // namespace gca::tb
