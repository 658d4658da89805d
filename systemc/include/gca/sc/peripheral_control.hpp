// Digital peripheral control of a head: the write pointer of the circular buffer, the phase
// sequencing of each token, the pipeline between the analog phases and the digital sum, and
// the digital power it draws. No ADC anywhere: outputs come from counters.
#pragma once

#include <map>
#include <systemc>

#include "gca/sc/phase.hpp"
#include "gca/sc/power_port.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/spec/params.hpp"

namespace gca::sc {

class PeripheralControl : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(PeripheralControl);
  PeripheralControl(sc_core::sc_module_name name, const spec::HardwareSpec& spec, PowerPort power);

  // Where token `token` goes: slot, sub-tile and column of the circular buffer.
  int slot_of(long token) const { return tiling_.slot_of_token(token); }
  int subtile_of(long token) const { return tiling_.subtile_of_slot(slot_of(token)); }
  int column_of(long token) const { return tiling_.column_of_slot(slot_of(token)); }

  // Schedules the phases of the next token for a START seen at `arrival` (absolute time):
  // it enters the analog phases when the previous token has left them, and the digital
  // phase when the previous token's digital sum is done. Accounts the digital energy.
  TokenSchedule schedule(long token, const sc_core::sc_time& arrival);

  // Traced heads replay their schedule on these signals at the scheduled times (call before
  // the first token). phase and token follow the newest token in flight.
  void enable_trace() { tracing_ = true; }
  bool tracing() const { return tracing_; }
  sc_core::sc_signal<int> phase{"phase"};                    // int(Phase)
  sc_core::sc_signal<int> write_pointer{"write_pointer"};    // slot being written
  sc_core::sc_signal<int> active_subtile{"active_subtile"};  // sub-tile being written
  sc_core::sc_signal<bool> busy{"busy"};  // from a token's precharge to its done, none newer
  sc_core::sc_signal<bool> done{"done"};  // from a token's done to the next digital phase
  sc_core::sc_signal<int> token{"token"};

 private:
  struct Change {
    sc_core::sc_time at;
    Phase phase;
    long token;
    bool done_pulse;
  };
  void apply_changes();
  void push(const sc_core::sc_time& at, Phase p, long token, bool done_pulse = false);

  spec::TimingParams timing_;
  spec::WindowTiling tiling_;
  sc_core::sc_time precharge_write_, q_, phi_, count_, digital_;
  sc_core::sc_time analog_free_ = sc_core::SC_ZERO_TIME, digital_free_ = sc_core::SC_ZERO_TIME;
  PowerPort power_;
  bool tracing_ = false;
  long newest_started_ = -1;
  std::multimap<sc_core::sc_time, Change> pending_;  // equal times keep insertion order
  sc_core::sc_event wake_;
};

}  // namespace gca::sc
