// Digital peripheral control of a head: the phase sequencing of each token as two SystemC
// processes, and the digital power it draws. No ADC anywhere: outputs come from counters.
//
//   analog_stage (SC_THREAD): waits for a START (a token in the input latch), then waits through
//     precharge + write, Q pulses, HardSigmoid pulses and count, calling the datapath at each
//     phase boundary, and hands the token to the digital stage;
//   digital_stage (SC_THREAD): waits for a token from the analog stage, waits through the digital
//     sum, then delivers the result into the output FIFO (waiting while the FIFO is full).
// The two stages use different resources, so while token t is in its digital sum, token t+1 is
// already written and read: the pipeline of the paper's Fig. 2c comes from these two processes.
// Back-pressure runs backwards: a full output FIFO holds the digital stage, which holds the
// analog stage at its hand-off, which leaves the input latch full, which withholds START.
#pragma once

#include <systemc>

#include "gca/power/energy_table.hpp"
#include "gca/sc/phase.hpp"
#include "gca/sc/power_port.hpp"
#include "gca/spec/params.hpp"

namespace gca::sc {

// What the control drives: the head's datapath (AttentionHead). Each call happens at the
// simulated time of the phase boundary it names.
class HeadDatapath {
 public:
  virtual ~HeadDatapath() = default;
  virtual bool input_latched() const = 0;
  virtual const sc_core::sc_event& input_event() const = 0;
  virtual long take_input() = 0;  // the analog stage takes the latched token: write begins
  virtual void q_phase_begins(long token) = 0;
  virtual void q_phase_ends(long token) = 0;
  virtual void phi_phase_begins(long token) = 0;
  virtual void phi_phase_ends(long token) = 0;
  virtual void count_phase_begins(long token) = 0;
  virtual void count_phase_ends(long token) = 0;
  virtual void hand_to_digital(long token) = 0;  // the token's outputs enter the digital stage
  virtual void digital_phase_begins(long token) = 0;
  virtual void digital_phase_ends(long token) = 0;
  virtual bool output_full() const = 0;
  virtual const sc_core::sc_event& output_space_event() const = 0;
  virtual void deliver(long token) = 0;  // the result enters the output FIFO
  // Refresh writes the token's numerics decided on (0: none), after its count phase.
  virtual double refresh_ns() const = 0;
  virtual void refresh_done(long token) = 0;
};

class PeripheralControl : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(PeripheralControl);
  PeripheralControl(sc_core::sc_module_name name, const spec::HardwareSpec& spec, PowerPort power);
  void attach(HeadDatapath& datapath) { datapath_ = &datapath; }

  // Tokens in the analog or digital stage.
  bool analog_busy() const { return analog_token_ >= 0; }
  bool digital_busy() const { return digital_token_ >= 0; }
  // Reset: abandons the tokens in either stage (their processes restart and wait for the next
  // token). The datapath must hold no token to take when this is called.
  void abort();

  // Traced heads show their control state on these signals (call before the first token).
  void enable_trace() { tracing_ = true; }
  bool tracing() const { return tracing_; }
  sc_core::sc_signal<int> phase{"phase"};                    // int(Phase) of the newest token
  sc_core::sc_signal<int> write_pointer{"write_pointer"};    // slot being written
  sc_core::sc_signal<int> active_subtile{"active_subtile"};  // sub-tile being written
  sc_core::sc_signal<bool> busy{"busy"};                     // a token in either stage
  sc_core::sc_signal<bool> done{"done"};  // from a token's delivery to the next digital phase
  sc_core::sc_signal<int> token{"token"};

 private:
  void analog_stage();
  void digital_stage();
  void show(Phase analog_phase);
  void update_signals();

  HeadDatapath* datapath_ = nullptr;
  int window_, cols_;
  sc_core::sc_time precharge_write_, q_, phi_, count_, digital_;
  PowerPort power_;
  double active_ns_per_token_;  // the control is clocked for this long per token (booked once)
  bool tracing_ = false;
  long analog_token_ = -1, digital_token_ = -1;
  Phase analog_phase_ = Phase::idle;
  bool done_ = false;
  sc_core::sc_event handed_over_, digital_free_, state_changed_;
  sc_core::sc_process_handle analog_process_, digital_process_;
};

}  // namespace gca::sc
