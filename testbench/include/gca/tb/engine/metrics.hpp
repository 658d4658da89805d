// Named scalar figures of a run (accuracy, loss, error statistics). Observers and workloads add
// them; report.json carries them under "metrics", and `gca-sim sweep` turns every name into a
// column of sweep.csv, so a new figure needs no change to the sweep or Monte Carlo code.
#pragma once

#include <string>
#include <vector>

namespace gca::tb {

struct Metric {
  std::string name;  // snake_case, unique in a run: lm_bits_per_char, mc_output_rel_l2_mean
  double value = 0.0;
  std::string unit;     // "bit/char", "1" (a ratio), "ns", ...
  std::string meaning;  // one line: what it measures and over what
};

class Metrics {
 public:
  // Adds or replaces the figure called `name`.
  void set(const std::string& name, double value, const std::string& unit,
           const std::string& meaning);
  const std::vector<Metric>& all() const { return list_; }
  const Metric* find(const std::string& name) const;

 private:
  std::vector<Metric> list_;  // in the order they were first set
};

}  // namespace gca::tb
