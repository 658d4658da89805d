// PowerTracker: every module registers under its hierarchical name and an energy group, then
// reports its actions as they happen (record). Energy = amount x energy per unit from the
// EnergyTable; static power is integrated over simulated time. Per module it keeps action
// counts, dynamic and static energy; per group running totals (for VCD traces) and windowed
// average power (as DRAMSys does for DRAM). Pure C++, no SystemC.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <vector>

#include "gca/power/energy_table.hpp"

namespace gca::power {

using GroupEnergies = std::array<double, kGroupCount>;  // pJ, indexed by index(Group)

// Running group totals at one instant (cheap: O(1) per group); differences of two snapshots
// give the energy of what happened in between, e.g. one token.
struct EnergySnapshot {
  double time_ns = 0.0;
  GroupEnergies group_pj{};
  double total_pj() const;
};
GroupEnergies operator-(const EnergySnapshot& a, const EnergySnapshot& b);

// Totals computed from the modules (sum in registration order): the numbers of the reports.
struct EnergyTotals {
  GroupEnergies dynamic_pj{};
  GroupEnergies static_pj{};
  GroupEnergies group_pj{};  // dynamic + static
  double dynamic_total_pj = 0.0;
  double static_total_pj = 0.0;
  double total_pj = 0.0;  // sum over modules of module_energy_pj, in registration order
};

// Average power of one window of simulated time.
struct PowerWindow {
  double start_ns = 0.0;
  double length_ns = 0.0;
  GroupEnergies energy_pj{};
  GroupEnergies avg_mw{};  // energy_pj / length_ns (1 pJ/ns = 1 mW)
  double total_energy_pj = 0.0;
  double total_avg_mw = 0.0;
};

class PowerTracker {
 public:
  // window_ns: length of the power-averaging windows; reserve_ns: simulated time for which
  // window bins are allocated up front (record() allocates only beyond it, amortized).
  explicit PowerTracker(const EnergyTable& table, double window_ns = 1000.0,
                        double reserve_ns = 0.0);

  // Registers a module ("top.layer0.head3.subtile5.k_array"); returns its id (0, 1, ...).
  // Throws gca::Error for an empty or duplicate path. The module may book any action.
  int register_module(std::string path, Group group);
  // The same for a module that books only `books` (record() of another action throws): its
  // figures take a few words of the tracker's dense storage instead of one per action, so
  // that the many small modules of a head (sub-tile arrays and converters) stay in cache.
  int register_module(std::string path, Group group, std::initializer_list<Action> books);

  // Where one action of one module is booked: positions in the tracker's dense storage,
  // taken once (account()) and used for every booking (book()), so that a booking touches
  // the few words it changes and not the module's record.
  struct Account {
    std::uint32_t amount = 0;  // the action's total amount
    std::uint32_t energy = 0;  // the module's dynamic energy (static energy for static_time)
    std::uint32_t events = 0;  // the module's number of bookings
    std::uint8_t action = 0;
    std::uint8_t group = 0;
    bool is_static = false;
  };
  // Throws gca::Error for an unregistered module or an action it does not book.
  Account account(int module, Action a) const;

  // Hot path: O(1), no string work, no allocation (beyond window bins past reserve_ns).
  // Books amount x energy_pj(a) to the module; time_ns (simulated time of the action) selects
  // the power window and advances now_ns(). Action::static_time books static energy.
  void book(const Account& acc, double amount, double time_ns) {
    const double e = amount * per_unit_pj_[acc.action];
    double* d = dense_.data();
    d[acc.amount] += amount;
    d[acc.events] += 1.0;
    d[acc.energy] += e;
    if (acc.is_static) {
      group_static_recorded_pj_[acc.group] += e;
    } else {
      group_dynamic_pj_[acc.group] += e;
    }
    bin_at(time_ns)[acc.group] += e;
    if (time_ns > now_ns_) now_ns_ = time_ns;
  }
  void record(int module, Action a, double amount, double time_ns) {
    book(account(module, a), amount, time_ns);
  }

  // Static power of a module in mW, from now_ns() on (replaces the previous value, whose
  // energy up to now_ns() is kept). Integrated over simulated time up to now_ns().
  void set_static_power(int module, double mw);
  // Advances simulated time (e.g. to the end of the run) without an action.
  void advance_to(double time_ns);
  double now_ns() const { return now_ns_; }
  double window_ns() const { return window_ns_; }
  const EnergyTable& table() const { return table_; }

  // Per module.
  std::size_t module_count() const { return modules_.size(); }
  const std::string& module_path(int module) const;
  Group module_group(int module) const;
  long module_events(int module) const;
  double module_count(int module, Action a) const;  // total amount recorded
  double module_dynamic_pj(int module) const;
  double module_static_pj(int module) const;  // integrated to now_ns() + recorded static_time
  double module_energy_pj(int module) const {
    return module_dynamic_pj(module) + module_static_pj(module);
  }
  double module_static_power_mw(int module) const;
  // Id of a registered path, or -1.
  int find_module(const std::string& path) const;

  // Running total of a group up to now_ns(), O(1): for VCD real-valued traces. Agrees with
  // totals().group_pj up to rounding (different order of additions).
  double group_energy_pj(Group g) const;
  EnergySnapshot snapshot() const;

  // Report totals, summed over the modules in registration order.
  EnergyTotals totals() const;
  // Action amounts summed over all modules.
  ActionCounts action_counts() const;

  // Windows [i w, (i+1) w) from 0 to the one holding now_ns(); each with the dynamic energy of
  // the actions recorded in it and the static energy integrated over it; average power =
  // energy / w, so that sum(avg x w) = total energy.
  std::vector<PowerWindow> windows() const;

 private:
  // A module's record: what reports read (the figures it books are in dense_, from `book`
  // on: dynamic energy, recorded static energy, bookings, then one amount per booked action).
  struct Module {
    std::string path;
    Group group = Group::qk;
    std::uint32_t book = 0;                      // first word in dense_
    std::array<std::int8_t, kActionCount> slot;  // amount word after the first 3; -1: not booked
    double static_mw = 0.0;                      // current static power
    double static_since_ns = 0.0;                // since when static_mw applies
    double static_closed_pj = 0.0;               // static energy of earlier static-power segments
  };
  static constexpr std::uint32_t kDynamicWord = 0, kStaticWord = 1, kEventsWord = 2,
                                 kFirstAmountWord = 3;
  int add_module(std::string path, Group group, const std::array<std::int8_t, kActionCount>& slot,
                 int booked);

  void check_module(int module) const {
    if (static_cast<std::size_t>(module) >= modules_.size()) bad_module(module);
  }
  [[noreturn]] void bad_module(int module) const;
  GroupEnergies& bin_at(double time_ns) {
    std::size_t i = time_ns > 0.0 ? static_cast<std::size_t>(time_ns * inv_window_) : 0;
    if (i >= bins_.size()) i = grow_bins(i);
    return bins_[i];
  }
  // Makes room for bin i; returns its index afterwards (the windows may have been widened).
  std::size_t grow_bins(std::size_t i);
  // Adds energy mw x [from, to) to a copy of the bins.
  void spread_static(std::vector<GroupEnergies>& bins, Group g, double mw, double from_ns,
                     double to_ns) const;
  const Module& module(int id) const;

  EnergyTable table_;
  std::array<double, kActionCount> per_unit_pj_{};
  double window_ns_;
  double inv_window_;
  double now_ns_ = 0.0;
  std::vector<Module> modules_;
  std::vector<double> dense_;                 // the modules' booked figures (Module::book)
  std::unordered_map<std::string, int> ids_;  // path -> id: registration in O(1), not O(modules)
  std::vector<GroupEnergies> bins_;           // dynamic + explicit static energy per window
  std::vector<GroupEnergies> static_bins_;    // closed static-power segments per window
  GroupEnergies group_dynamic_pj_{};
  GroupEnergies group_static_recorded_pj_{};
  GroupEnergies group_static_closed_pj_{};
  GroupEnergies group_static_mw_{};        // sum of current static powers
  GroupEnergies group_static_mw_since_{};  // sum of static_mw x static_since_ns
};

}  // namespace gca::power
