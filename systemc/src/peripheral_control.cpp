#include "gca/sc/peripheral_control.hpp"

#include <stdexcept>

namespace gca::sc {

using sc_core::SC_NS;
using sc_core::sc_time;

PeripheralControl::PeripheralControl(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                                     PowerPort power)
    : sc_module(name),
      window_(spec.window),
      cols_(spec.array.cols),
      precharge_write_(spec.timing.precharge_write_ns(), SC_NS),
      q_(spec.timing.phase_q_ns, SC_NS),
      phi_(spec.timing.phase_phi_ns, SC_NS),
      count_(spec.timing.phase_count_ns, SC_NS),
      digital_(spec.timing.phase_digital_ns, SC_NS),
      power_(power),
      active_ns_per_token_(power::head_actions(spec)[power::index(power::Action::digital_active)]) {
  SC_THREAD(analog_stage);
  analog_process_ = sc_core::sc_get_current_process_handle();
  SC_THREAD(digital_stage);
  digital_process_ = sc_core::sc_get_current_process_handle();
  SC_METHOD(update_signals);
  sensitive << state_changed_;
  dont_initialize();
}

void PeripheralControl::show(Phase analog_phase) {
  analog_phase_ = analog_phase;
  if (tracing_) state_changed_.notify(sc_core::SC_ZERO_TIME);
}

// The only writer of the traced signals (both stages change what they show).
void PeripheralControl::update_signals() {
  // The phase of the newest token in flight: the analog stage's while it holds one.
  if (analog_token_ >= 0) {
    phase.write(static_cast<int>(analog_phase_));
    token.write(static_cast<int>(analog_token_));
    const int slot = static_cast<int>(analog_token_ % window_);
    write_pointer.write(slot);
    active_subtile.write(slot / cols_);
  } else if (digital_token_ >= 0) {
    phase.write(static_cast<int>(Phase::digital));
    token.write(static_cast<int>(digital_token_));
  } else {
    phase.write(static_cast<int>(Phase::idle));
  }
  busy.write(analog_token_ >= 0 || digital_token_ >= 0);
  done.write(done_);
}

void PeripheralControl::abort() {
  const bool analog = analog_token_ >= 0, digital = digital_token_ >= 0;
  analog_token_ = digital_token_ = -1;
  done_ = false;
  if (analog) analog_process_.reset();
  if (digital) digital_process_.reset();
  show(Phase::idle);
}

void PeripheralControl::analog_stage() {
  if (!datapath_) throw std::logic_error(std::string(name()) + ": no datapath attached");
  HeadDatapath& dp = *datapath_;
  for (;;) {
    while (!dp.input_latched()) wait(dp.input_event());
    const long t = dp.take_input();
    analog_token_ = t;
    show(Phase::precharge_write);
    wait(precharge_write_);

    dp.q_phase_begins(t);
    show(Phase::q_pulses);
    wait(q_);
    dp.q_phase_ends(t);

    dp.phi_phase_begins(t);
    show(Phase::phi_pulses);
    wait(phi_);
    dp.phi_phase_ends(t);

    dp.count_phase_begins(t);
    show(Phase::count);
    wait(count_);
    dp.count_phase_ends(t);
    // Columns whose stored values decayed past the threshold are rewritten from the shadow
    // copy before the next token's write: the analog stage stays busy for those writes.
    if (const double refresh = dp.refresh_ns(); refresh > 0.0) {
      show(Phase::precharge_write);
      wait(sc_time(refresh, SC_NS));
      dp.refresh_done(t);
    }

    // Hand-off: the digital stage holds one token at a time.
    while (digital_token_ >= 0) wait(digital_free_);
    dp.hand_to_digital(t);
    digital_token_ = t;
    analog_token_ = -1;
    handed_over_.notify(sc_core::SC_ZERO_TIME);
    show(Phase::idle);
  }
}

void PeripheralControl::digital_stage() {
  HeadDatapath& dp = *datapath_;
  for (;;) {
    while (digital_token_ < 0) wait(handed_over_);
    const long t = digital_token_;
    dp.digital_phase_begins(t);
    done_ = false;
    show(analog_phase_);
    wait(digital_);
    power_.record(power::Action::digital_active, active_ns_per_token_);
    dp.digital_phase_ends(t);
    while (dp.output_full()) wait(dp.output_space_event());
    dp.deliver(t);
    digital_token_ = -1;
    digital_free_.notify(sc_core::SC_ZERO_TIME);
    done_ = true;
    show(analog_phase_);
  }
}

}  // namespace gca::sc
