// One point of a sweep on disk: DIR/points/<id>/ holds the run's outputs (report.json, ...),
// its stdout.txt and stderr.txt, and point.json, written by the sweep driver when the run has
// ended: the command, its key, the exit code, the status and the error line. A point is complete
// when point.json says so for the same key and report.json is there.
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
  std::string key;                // point_key() of the run
};

std::string point_dir(const std::string& out_dir, const SweepPoint& point);
PointStatus read_point_status(const std::string& dir);
// What a point's result depends on, as a fingerprint: the gca-sim binary, the content of the base
// scenario and of the parameter files, and the run's arguments with the folder-dependent paths
// left out (a moved sweep folder resumes; an edited scenario or a rebuilt binary runs again).
std::string point_key(const SweepFile& sweep, const std::vector<std::string>& args,
                      const std::string& point_dir);
// Classifies the exit code and writes point.json atomically; returns what it wrote.
PointStatus write_point_status(const std::string& dir, const SweepPoint& point,
                               const std::vector<std::string>& args, const std::string& key,
                               int exit_code);
// The point has a report from a run with this key (it need not run again).
bool point_complete(const std::string& dir, const std::string& key);

}  // namespace gca::tb
