// How a module reports its actions: a handle on its entry in the PowerTracker. Modules built
// without a tracker (unit tests of structure or numerics) get a handle that records nothing.
// Actions are booked by the simulation thread at the simulated time they happen.
#pragma once

#include <array>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <systemc>

#include "gca/power/power_tracker.hpp"

namespace gca::sc {

class PowerPort {
 public:
  static constexpr std::size_t kMaxBooks = 2;  // actions one module books (a DAC: 2)
  PowerPort() = default;
  // `books`: the actions the module books (at most kMaxBooks).
  PowerPort(power::PowerTracker* tracker, int id, std::initializer_list<power::Action> books)
      : tracker_(tracker), id_(id), ns_per_tick_(ns_per_tick()) {
    if (books.size() > kMaxBooks) throw std::logic_error("a power port books at most 2 actions");
    for (power::Action a : books) accounts_[booked_++] = tracker->account(id, a);
  }
  // Books `amount` of `action` now (the current simulated time).
  void record(power::Action action, double amount) const {
    if (!tracker_) return;
    const double now_ns = static_cast<double>(sc_core::sc_time_stamp().value()) * ns_per_tick_;
    if (const power::PowerTracker::Account* acc = account(action)) {
      tracker_->book(*acc, amount, now_ns);
    } else {
      tracker_->record(id_, action, amount, now_ns);  // throws: the module does not book it
    }
  }
  // Where `action` is booked (null without a tracker, or when the module does not book it).
  const power::PowerTracker::Account* account(power::Action action) const {
    for (std::size_t i = 0; i < booked_; ++i) {
      if (accounts_[i].action == power::index(action)) return &accounts_[i];
    }
    return nullptr;
  }
  int id() const { return id_; }
  // sc_time ticks (the kernel's resolution) to ns.
  static double ns_per_tick() { return sc_core::sc_get_time_resolution().to_seconds() * 1e9; }

 private:
  power::PowerTracker* tracker_ = nullptr;
  int id_ = -1;
  double ns_per_tick_ = 0.0;  // sc_time ticks (the kernel's resolution) to ns
  std::array<power::PowerTracker::Account, kMaxBooks> accounts_{};
  std::size_t booked_ = 0;
};

// Registers modules under their hierarchical names and energy groups.
class PowerFactory {
 public:
  explicit PowerFactory(power::PowerTracker* tracker) : tracker_(tracker) {}
  // books: the actions the module books; static_mw: static power it draws for the whole
  // simulated time.
  PowerPort port(const std::string& path, power::Group group,
                 std::initializer_list<power::Action> books, double static_mw = 0.0) {
    if (!tracker_) return PowerPort();
    const int id = tracker_->register_module(path, group, books);
    if (static_mw > 0.0) tracker_->set_static_power(id, static_mw);
    return PowerPort(tracker_, id, books);
  }
  // The child `name` of the module being constructed (`parent` is its sc_module::name()).
  PowerPort child(const char* parent, const char* name, power::Group group,
                  std::initializer_list<power::Action> books, double static_mw = 0.0) {
    return port(std::string(parent) + "." + name, group, books, static_mw);
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
