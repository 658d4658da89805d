// One progress line on stderr for every command: on a terminal by default, forced with
// --progress (one line per update, for logs), off with --quiet. The ETA weighs each unit by its
// cost: a decode token costs about as much as the window slots it reads, so tokens before the
// window is full are cheaper than those after, and a rate measured while it fills would
// promise too early an end.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace gca::tb {

enum class ProgressMode { automatic, forced, off };

class Progress {
 public:
  // `cost(i)`: relative cost of unit i (0-based); empty: every unit costs the same.
  Progress(std::string label, long total, const std::string& unit_name, ProgressMode mode,
           std::function<double(long)> cost = {});
  // `done` units finished; `detail` is appended (e.g. "sim 12.3 us").
  void update(long done, const std::string& detail = "");
  void note(const std::string& text);  // a line of its own
  bool on() const { return on_; }

 private:
  double cost_upto(long n) const;  // cost of units 0..n-1
  std::string label_, unit_;
  long total_;
  bool on_, tty_;
  std::function<double(long)> cost_;
  double total_cost_;
  long last_done_ = -1;
  std::chrono::steady_clock::time_point start_, last_;
};

// Relative cost of decode token t with window M: the slots it reads plus a fixed share.
double token_cost(long token, int window);

}  // namespace gca::tb
