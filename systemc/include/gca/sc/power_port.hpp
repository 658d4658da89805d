// How a module reports its actions: a handle on its entry in the PowerTracker. Modules built
// without a tracker (unit tests of structure or numerics) get a handle that records nothing.
// Actions are booked by the simulation thread at the simulated time they happen.
#pragma once

#include <string>
#include <systemc>

#include "gca/power/power_tracker.hpp"

namespace gca::sc {

class PowerPort {
 public:
  PowerPort() = default;
  PowerPort(power::PowerTracker* tracker, int id)
      : tracker_(tracker),
        id_(id),
        ns_per_tick_(sc_core::sc_get_time_resolution().to_seconds() * 1e9) {}
  // Books `amount` of `action` now (the current simulated time).
  void record(power::Action action, double amount) const {
    if (!tracker_) return;
    tracker_->record(id_, action, amount,
                     static_cast<double>(sc_core::sc_time_stamp().value()) * ns_per_tick_);
  }
  int id() const { return id_; }

 private:
  power::PowerTracker* tracker_ = nullptr;
  int id_ = -1;
  double ns_per_tick_ = 0.0;  // sc_time ticks (the kernel's resolution) to ns
};

// Registers modules under their hierarchical names and energy groups.
class PowerFactory {
 public:
  explicit PowerFactory(power::PowerTracker* tracker) : tracker_(tracker) {}
  // static_mw: static power the module draws for the whole simulated time.
  PowerPort port(const std::string& path, power::Group group, double static_mw = 0.0) {
    if (!tracker_) return PowerPort();
    const int id = tracker_->register_module(path, group);
    if (static_mw > 0.0) tracker_->set_static_power(id, static_mw);
    return PowerPort(tracker_, id);
  }
  // The child `name` of the module being constructed (`parent` is its sc_module::name()).
  PowerPort child(const char* parent, const char* name, power::Group group,
                  double static_mw = 0.0) {
    return port(std::string(parent) + "." + name, group, static_mw);
  }
  // Leakage of each kind of module (area x density, power::static_power); 0 without a tracker.
  power::StaticPower static_power() const {
    return tracker_ ? tracker_->table().static_power() : power::StaticPower{};
  }
  power::PowerTracker* tracker() const { return tracker_; }

 private:
  power::PowerTracker* tracker_;
};

}  // namespace gca::sc
