// A sub-tile: K array + one HardSigmoid charge-to-pulse per column, V array + one signed
// charge-to-pulse and counter per output (docs/hardware.md, "structure"). Its cells and circuits
// compute in the head's circuit model (rtl_spec SubTileModel); this module is the sub-tile's place
// in the hierarchy, where its energy is booked phase by phase and its values are traced.
#pragma once

#include <systemc>
#include <vector>

#include "gca/sc/charge_to_pulse.hpp"
#include "gca/sc/gain_cell_array.hpp"

namespace gca::sc {

// Where the modules of one sub-tile book a token's actions: their accounts in the power
// tracker, as power::subtile_actions() names them.
struct SubTileAccounts {
  power::PowerTracker::Account k_read;          // k_array: qk_cell_read
  power::PowerTracker::Account hs_convert;      // hard_sigmoid: qk_ctp
  power::PowerTracker::Account hs_pulse;        // hard_sigmoid: qk_ctp_pulse
  power::PowerTracker::Account v_read;          // v_array: av_cell_read
  power::PowerTracker::Account signed_convert;  // signed_ctp: av_ctp
  power::PowerTracker::Account signed_pulse;    // signed_ctp: av_ctp_pulse
  power::PowerTracker::Account counter_count;   // signed_ctp.counter: counter_count
  power::PowerTracker::Account counter_clock;   // signed_ctp.counter: counter_clock
};

class SubTile : public sc_core::sc_module {
 public:
  SubTile(sc_core::sc_module_name name, int features, int columns, PowerFactory& power);

  // Start of the phi phase: the HardSigmoid pulses (`widths`, one per column) appear.
  void phi_phase_starts(const float* widths) const { hard_sigmoid.emit(widths, columns_); }
  // End of the count phase: the counters show the signed results (one per feature).
  void counted(const double* outputs) const { signed_ctp.counter.show(outputs, features_); }
  bool traced() const { return hard_sigmoid.traced() || signed_ctp.counter.traced(); }
  // The accounts of its modules; false without a power tracker.
  bool accounts(SubTileAccounts& out) const;

  int columns() const { return columns_; }
  int features() const { return features_; }

  KeyGainCellArray k_array;
  ValueGainCellArray v_array;
  ChargeToPulse hard_sigmoid;
  SignedChargeToPulse signed_ctp;

 private:
  int features_, columns_;
};

// The bookings of a head's sub-tiles, phase by phase: what each sub-tile's modules spend on one
// token is power::subtile_actions() of what its circuits did, booked to those modules at the end
// of the phase that spends it. The accounts of all sub-tiles of a head sit side by side, so that
// booking a token reads one small array, not each of the sub-tiles' modules (which are large
// SystemC objects spread over memory: a cache miss each, for a dozen bytes of booking).
class SubTileBookings {
 public:
  // Takes the accounts of `subtiles` (in order); books nothing when they have no tracker.
  SubTileBookings() = default;
  SubTileBookings(const std::vector<const SubTile*>& subtiles, power::PowerTracker* tracker);
  // The current simulated time in ns, as PowerPort books it.
  double now_ns() const {
    return static_cast<double>(sc_core::sc_time_stamp().value()) * ns_per_tick_;
  }

  // End of the Q phase: sub-tile s's K array was read by the Q pulses.
  void q_phase_done(std::size_t s, const power::ActionCounts& a, double now_ns) const {
    if (tracker_) book(accounts_[s].k_read, a, power::Action::qk_cell_read, now_ns);
  }
  // End of the phi phase: its HardSigmoid pulses drove the V array.
  void phi_phase_done(std::size_t s, const power::ActionCounts& a, double now_ns) const {
    if (!tracker_) return;
    book(accounts_[s].hs_convert, a, power::Action::qk_ctp, now_ns);
    book(accounts_[s].hs_pulse, a, power::Action::qk_ctp_pulse, now_ns);
    book(accounts_[s].v_read, a, power::Action::av_cell_read, now_ns);
  }
  // End of the count phase: its signed conversions were counted.
  void count_phase_done(std::size_t s, const power::ActionCounts& a, double now_ns) const {
    if (!tracker_) return;
    const SubTileAccounts& acc = accounts_[s];
    book(acc.signed_convert, a, power::Action::av_ctp, now_ns);
    book(acc.signed_pulse, a, power::Action::av_ctp_pulse, now_ns);
    book(acc.counter_count, a, power::Action::counter_count, now_ns);
    book(acc.counter_clock, a, power::Action::counter_clock, now_ns);
  }

 private:
  void book(const power::PowerTracker::Account& acc, const power::ActionCounts& a,
            power::Action action, double now_ns) const {
    tracker_->book(acc, a[power::index(action)], now_ns);
  }
  power::PowerTracker* tracker_ = nullptr;
  double ns_per_tick_ = 0.0;
  std::vector<SubTileAccounts> accounts_;
};

}  // namespace gca::sc
