#include "gca/sc/peripheral_control.hpp"

#include "gca/power/energy_table.hpp"

#include <algorithm>

namespace gca::sc {

using sc_core::SC_NS;
using sc_core::sc_time;

PeripheralControl::PeripheralControl(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                                     PowerPort power)
    : sc_module(name),
      timing_(spec.timing),
      tiling_(spec.window, spec.array.cols),
      // The write of the token's column runs alongside the precharge; whichever is longer
      // holds back the Q pulses.
      precharge_write_(std::max(spec.timing.phase_precharge_ns, spec.timing.write_ns), SC_NS),
      q_(spec.timing.phase_q_ns, SC_NS),
      phi_(spec.timing.phase_phi_ns, SC_NS),
      count_(spec.timing.phase_count_ns, SC_NS),
      digital_(spec.timing.phase_digital_ns, SC_NS),
      power_(power) {
  SC_METHOD(apply_changes);
  sensitive << wake_;
  dont_initialize();
}

TokenSchedule PeripheralControl::schedule(long token_index, const sc_time& arrival) {
  TokenSchedule s;
  s.token = token_index;
  s.arrival = arrival;
  s.write_start = std::max(arrival, analog_free_);
  s.write_end = s.write_start + sc_time(timing_.write_ns, SC_NS);
  s.q_start = s.write_start + precharge_write_;
  s.phi_start = s.q_start + q_;
  s.count_start = s.phi_start + phi_;
  s.count_end = s.count_start + count_;
  s.digital_start = std::max(s.count_end, digital_free_);
  s.done = s.digital_start + digital_;
  analog_free_ = s.count_end;
  digital_free_ = s.done;

  // Digital control and routing draw their power while the counters run, during the
  // precharge and during the digital sum (the phases with digital activity).
  const double active_ns = power::digital_active_ns_per_token(timing_);
  power_.record(power::Action::digital_active, active_ns, s.digital_start);

  if (tracing_) {
    push(s.write_start, Phase::precharge_write, token_index);
    push(s.q_start, Phase::q_pulses, token_index);
    push(s.phi_start, Phase::phi_pulses, token_index);
    push(s.count_start, Phase::count, token_index);
    push(s.digital_start, Phase::digital, token_index);
    push(s.done, Phase::idle, token_index, true);
  }
  return s;
}

void PeripheralControl::push(const sc_time& at, Phase p, long token_index, bool done_pulse) {
  pending_.emplace(at, Change{at, p, token_index, done_pulse});
  const sc_time now = sc_core::sc_time_stamp();
  const sc_time first = pending_.begin()->first;
  wake_.notify(first > now ? first - now : sc_core::SC_ZERO_TIME);
}

void PeripheralControl::apply_changes() {
  const sc_time now = sc_core::sc_time_stamp();
  while (!pending_.empty() && pending_.begin()->first <= now) {
    const Change c = pending_.begin()->second;
    pending_.erase(pending_.begin());
    // A token's analog phases may begin while the previous one is in its digital phase: the
    // traced phase is that of the newest token in flight.
    if (c.token >= newest_started_) {
      phase.write(static_cast<int>(c.phase));
      token.write(static_cast<int>(c.token));
    }
    if (c.phase == Phase::precharge_write) {
      newest_started_ = c.token;
      write_pointer.write(tiling_.slot_of_token(c.token));
      active_subtile.write(tiling_.subtile_of_slot(tiling_.slot_of_token(c.token)));
      busy.write(true);
    }
    // done shows the output of the newest finished token: it falls when the next digital sum
    // begins (not at the next precharge, which in decode coincides with the done).
    if (c.phase == Phase::digital) done.write(false);
    if (c.done_pulse) {
      done.write(true);
      // Idle unless a later token has entered its precharge (a later one scheduled for this
      // very time follows in pending_ and sets busy again, without a visible gap).
      if (c.token >= newest_started_) busy.write(false);
    }
  }
  if (!pending_.empty()) wake_.notify(pending_.begin()->first - now);
}

}  // namespace gca::sc
