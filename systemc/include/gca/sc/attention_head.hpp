// One attention head: ceil(M / cols) sub-tiles, a write port, the Q pulse generators, the digital
// adder tree and the peripheral control, around the head's circuit model (rtl_spec HeadModel),
// which holds the cells and computes what a token does. This module adds what the circuit model
// does not know: when each phase happens (the control's processes), the energy of each phase
// booked by the module that spends it, the command queue and the output FIFO.
// tlm's register adapter (HeadRegisters) maps the register map onto it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "gca/sc/adder_tree.hpp"
#include "gca/sc/dac.hpp"
#include "gca/sc/peripheral_control.hpp"
#include "gca/sc/sub_tile.hpp"
#include "gca/sc/write_port.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/spec/parallel.hpp"
#include "gca/spec/register_map.hpp"

namespace gca::sc {

class NumericsAhead;

enum class InputBuffer { k, v, q };

// Output of one token, as the head's output FIFO holds it.
struct HeadResult {
  long token = -1;
  TokenTimes times;
  std::vector<double> out;         // d_head values
  std::vector<float> scores, phi;  // by slot (size M), only when capture is on
};

// A deliberate error in one output, for tests of the run's check (never set in normal runs).
struct InjectedFault {
  long token = -1;  // -1: none
  int feature = 0;
  double delta = 0.0;
};

// Traced values: the head's outputs (out_<feature>), when they enter the output FIFO.
class AttentionHead : public sc_core::sc_module, public TraceSource, private HeadDatapath {
 public:
  // pool: where the numerics of a token run between fork (write phase) and join (end of the Q
  // phase); null runs them at the fork.
  // head_index: layer * n_heads + head, the head's place in the chip's mismatch draws.
  AttentionHead(sc_core::sc_module_name name, const spec::HardwareSpec& spec, PowerFactory& power,
                spec::TaskPool* pool, int head_index = 0);

  // Input registers (d_head values each): the host fills them before START.
  double* input(InputBuffer which);
  const double* input(InputBuffer which) const;
  int d_head() const { return d_; }
  int window() const { return spec_->window; }

  // START: the input registers become the next token at the tail of the command queue. Returns
  // false, changing nothing, while the queue holds registers.command_queue tokens the analog
  // stage has not taken (the register interface refuses the START and sets the overflow flag).
  bool start();
  bool input_full() const { return queue_.size() >= queue_depth_; }
  std::size_t commands_pending() const { return queue_.size(); }
  std::size_t command_depth() const { return queue_depth_; }
  const sc_core::sc_event& input_space_event() const { return input_space_; }
  // Sticky: a START was refused since the last clear (STATUS.OVERFLOW).
  bool overflow() const { return overflow_; }
  void set_overflow(bool on) { overflow_ = on; }

  // Output FIFO: results in token order.
  bool has_result() const { return !results_.empty(); }
  const HeadResult& front() const { return results_.front(); }
  void pop();
  std::size_t pending() const { return results_.size(); }
  const sc_core::sc_event& result_event() const { return result_ready_; }
  static constexpr std::size_t kOutputFifoDepth = spec::regs::kOutFifoDepth;

  // A token in the command queue or in either stage.
  bool busy() const { return !queue_.empty() || control.analog_busy() || control.digital_busy(); }
  // The digital stage delivers a result at the current time and has not yet done so (an access
  // at this instant waits for it: results come before same-instant reads).
  bool delivery_due_now() const;
  long tokens_started() const { return started_; }
  int write_pointer() const { return static_cast<int>(started_ % spec_->window); }
  // Times of the last token delivered into the output FIFO.
  const TokenTimes& last_times() const { return last_times_; }

  // Keep S and phi of every token with its result (for score dumps).
  void capture_scores(bool on) {
    capture_ = on;
    model_->keep_views(views_needed());
  }
  void inject_fault(const InjectedFault& fault) { fault_ = fault; }
  // Called with each result as the host reads it out of the FIFO (testbench backdoor).
  std::function<void(const HeadResult&)> result_observer;
  // Called when the output FIFO becomes empty or non-empty (the accelerator's interrupt).
  std::function<void()> on_output_change;
  // Abandons the tokens in flight and empties the command queue, the window and the output FIFO
  // (results dropped unread); clears the token counter and the overflow flag.
  void reset();
  // Notified by reset() (an access waiting for a result gives up).
  const sc_core::sc_event& reset_event() const { return reset_done_; }
  long resets() const { return resets_; }

  // The numerics of each token come from `ahead` (computed ahead of the simulation) instead of a
  // fork at the write phase; null goes back to forking. Set before the simulation starts.
  void use_numerics_ahead(NumericsAhead* ahead) { ahead_ = ahead; }
  // Ahead is possible when time does not enter the numerics (cells that do not leak) and nothing
  // reads the model's views of a token (score capture, traced sub-tiles).
  bool numerics_ahead_possible() const;
  // For NumericsAhead, on any thread: this head's step for `token` with `q, k, v` into the
  // token's record (the head is at (layer, head) for the inputs' numbering).
  void compute_ahead(long token, const double* q, const double* k, const double* v);
  // The record's input buffers, which compute_ahead's caller fills first.
  void ahead_inputs(long token, double** q, double** k, double** v);
  int head_index() const { return head_index_; }

  PeripheralControl control;
  WritePort write_port;
  QPulseGenerator q_pulses;
  AdderTree adder;
  std::vector<std::unique_ptr<SubTile>> subtiles;

 private:
  struct Stage {
    long token = -1;
    TokenTimes times;
    std::vector<double> q, k, v, out;
    std::vector<float> scores, phi;
    double adds = 0.0;  // sub-tile outputs the adder tree sums (power::Action::digital_add)
  };
  // HeadDatapath: called by the control's processes at the phase boundaries.
  bool input_latched() const override { return !queue_.empty(); }
  const sc_core::sc_event& input_event() const override { return input_latched_; }
  long take_input() override;
  void q_phase_begins(long token) override;
  void q_phase_ends(long token) override;
  void phi_phase_begins(long token) override;
  void phi_phase_ends(long token) override;
  void count_phase_begins(long token) override;
  void count_phase_ends(long token) override;
  void hand_to_digital(long token) override;
  void digital_phase_begins(long token) override;
  void digital_phase_ends(long token) override;
  bool output_full() const override { return results_.size() >= kOutputFifoDepth; }
  const sc_core::sc_event& output_space_event() const override { return output_space_; }
  void deliver(long token) override;
  double refresh_ns() const override;
  void refresh_done(long token) override;

  // A token's numerics computed ahead (NumericsAhead): two per head, token t in [t % 2].
  struct AheadRecord {
    long token = -1;
    std::vector<double> q, k, v, out;
    std::vector<spec::SubTileActivity> activity;  // per sub-tile
    spec::RefreshActivity refresh;
  };
  // The numerics of the token in the analog stage, once joined: from the model or a record.
  void numerics_joined();
  bool subtile_active(std::size_t s) const { return activity_[s].columns_converted > 0; }
  // Something reads the model's per-token views (score capture, traced sub-tiles).
  bool views_needed() const { return capture_ || subtiles_traced_; }

  void build_subtiles();
  void start_of_simulation() override;
  static void sized(Stage& s, int d);

  const spec::HardwareSpec* spec_;
  int d_;
  int head_index_;
  spec::TaskPool* pool_;
  std::unique_ptr<spec::HeadModel> model_;
  spec::TaskPool::Ticket numerics_;
  NumericsAhead* ahead_ = nullptr;
  AheadRecord ahead_records_[2];
  const spec::SubTileActivity* activity_ = nullptr;  // of the analog stage's token, per sub-tile
  const spec::RefreshActivity* refresh_ = nullptr;
  PowerFactory* power_;
  std::vector<double> k_in_, v_in_, q_in_;            // input registers
  power::ActionCounts head_actions_;                  // per token, the same for every token
  std::vector<power::ActionCounts> subtile_actions_;  // of the token in the analog stage
  SubTileBookings bookings_;                          // where the sub-tiles' modules book
  bool subtiles_traced_ = false;     // a sub-tile shows values (tracers attach before the start)
  std::deque<Stage> queue_;          // the command queue (STARTs not yet taken)
  std::vector<Stage> spare_stages_;  // recycled queue entries: no allocation per token
  std::size_t queue_depth_ = 1;
  bool overflow_ = false;
  long resets_ = 0;
  Stage analog_, digital_;
  long started_ = 0;
  std::deque<HeadResult> results_;
  std::vector<HeadResult> spare_;  // recycled results: no allocation per token
  TokenTimes last_times_;
  bool capture_ = false;
  InjectedFault fault_;
  sc_core::sc_event input_latched_, input_space_, result_ready_, output_space_, reset_done_;
};

}  // namespace gca::sc
