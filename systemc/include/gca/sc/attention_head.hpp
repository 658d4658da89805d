// One attention head: ceil(M / cols) sub-tiles, a write port, the Q pulse generators, the
// digital adder tree over sub-tiles and the peripheral control. This class is the behaviour;
// tlm/HeadTarget is the protocol adapter that maps registers onto it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "gca/sc/dac.hpp"
#include "gca/sc/peripheral_control.hpp"
#include "gca/sc/sub_tile.hpp"
#include "gca/sc/write_port.hpp"
#include "gca/spec/register_map.hpp"

namespace gca::sc {

// Digital sum of the sub-tile outputs.
class AdderTree : public sc_core::sc_module {
 public:
  AdderTree(sc_core::sc_module_name name, PowerPort power) : sc_module(name), power_(power) {}
  // Each active sub-tile's output is added into the head's sum.
  void account(int active_subtiles, int features, const sc_core::sc_time& at) const {
    power_.record(power::Action::digital_add, double(active_subtiles) * features, at);
  }

 private:
  PowerPort power_;
};

enum class InputBuffer { k, v, q };

// Output of one token, as the head's output FIFO holds it.
struct HeadResult {
  long token = -1;
  TokenSchedule schedule;
  std::vector<double> out;         // d_head values
  std::vector<float> scores, phi;  // by slot (size M), only when capture is on
};

// Traced values: the head's outputs (out_<feature>), handed to the trace sink as the host reads
// them out of the FIFO and shown from the time they were ready (schedule.done).
class AttentionHead : public sc_core::sc_module, public TraceSource {
 public:
  AttentionHead(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                std::shared_ptr<const spec::CircuitModel> circuits, PowerFactory& power,
                int head_index = 0);

  // Input registers (d_head values each): the host fills them before START.
  double* input(InputBuffer which);
  int d_head() const { return d_; }
  int window() const { return tiling_.window; }

  // START: consume the input registers as the next token, at absolute time `arrival`.
  // Returns false when the output FIFO is full (the host must read outputs first).
  // The write, the schedule and the Q pulses happen here; the array reads either here too or,
  // when the head belongs to a layer that batches its heads (set_batch), when the layer
  // computes all its started heads together, before any result is looked at.
  bool start(const sc_core::sc_time& arrival);
  // Array reads of the last started token, if not done yet (safe on a worker thread: it
  // touches only this head; power records go to t_record_buffer when one is set).
  void complete();
  bool computing_pending() const { return pending_; }
  // `flush` computes every started head of the batch (AttentionLayer::flush).
  void set_batch(std::function<void()> flush) { batch_flush_ = std::move(flush); }
  RecordBuffer& record_buffer() { return record_buffer_; }

  // Output FIFO: results in token order, each with the time it is ready.
  bool has_result() {
    settle();
    return !results_.empty();
  }
  const HeadResult& front() {
    settle();
    return results_.front();
  }
  void pop();
  std::size_t pending() const { return results_.size(); }
  static constexpr std::size_t kOutputFifoDepth = spec::regs::kOutFifoDepth;

  // Busy at absolute time `at`: a token has started and is not done.
  bool busy_at(const sc_core::sc_time& at) const { return at < last_done_; }
  long tokens() const { return tokens_; }
  int write_pointer() const { return tiling_.slot_of_token(tokens_); }
  const TokenSchedule& last_schedule() const { return last_schedule_; }

  // Keep S and phi of every token with its result (for score dumps).
  void capture_scores(bool on) { capture_ = on; }
  // Called with each result as the host reads it out of the FIFO (testbench backdoor).
  std::function<void(const HeadResult&)> result_observer;
  // Clears the window (all slots invalid again) and the token counter.
  void reset();

  sc_core::sc_event_queue done_events{"done_events"};  // fires at each token's completion

  PeripheralControl control;
  WritePort write_port;
  QPulseGenerator q_pulses;
  AdderTree adder;
  std::vector<std::unique_ptr<SubTile>> subtiles;
  int head_index() const { return head_index_; }  // layer * n_heads + head: its mismatch draws
  // What the refresh policy rewrote for the last started token.
  const spec::RefreshActivity& last_refresh() const { return last_refresh_; }

 private:
  void build_subtiles();
  void settle() {
    if (pending_) batch_flush_ ? batch_flush_() : complete();
  }
  const spec::HardwareSpec* spec_;
  std::shared_ptr<const spec::CircuitModel> circuits_;
  spec::WindowTiling tiling_;
  int d_;
  PowerFactory* power_;
  std::vector<double> k_in_, v_in_, q_in_;
  std::vector<float> q_pulse_, scores_, phi_;
  std::vector<double> o_;
  std::deque<HeadResult> results_;
  std::vector<HeadResult> spare_;  // recycled results: no allocation per token
  TokenSchedule last_schedule_;
  sc_core::sc_time last_done_ = sc_core::SC_ZERO_TIME;
  long tokens_ = 0;
  int head_index_ = 0;
  spec::RefreshActivity last_refresh_;
  bool capture_ = false;
  // The token whose array reads are still to be done (batched mode).
  bool pending_ = false;
  float pending_q_sum_ = 0.0f;
  std::function<void()> batch_flush_;
  RecordBuffer record_buffer_;
};

}  // namespace gca::sc
