#include "gca/tb/engine/metrics.hpp"

namespace gca::tb {

void Metrics::set(const std::string& name, double value, const std::string& unit,
                  const std::string& meaning) {
  for (Metric& m : list_) {
    if (m.name == name) {
      m = {name, value, unit, meaning};
      return;
    }
  }
  list_.push_back({name, value, unit, meaning});
}

const Metric* Metrics::find(const std::string& name) const {
  for (const Metric& m : list_)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace gca::tb
