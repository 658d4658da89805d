// The host model: stands in for everything outside the attention core (projections, MLP,
// LayerNorm) and streams tokens through the accelerator over TLM-2.0. One process per model layer
// writes K, V and Q of every head of its layer, starts them, waits for the layer's results (on
// the interrupt, or by polling) and reads them; the next layer's process takes them from there.
//   decode:  token t enters layer 0 when token t-1 has left the last layer (+ host time);
//   prefill: prompt tokens stream; each layer's process starts token t+1 before it reads the
//            results of token t, so the next token's write overlaps the current one's work.
// Loosely timed: b_transport with the host's local time (a quantum keeper of the host's own
// quantum, HostConfig::quantum_ns; the global quantum is left to the platform) as the annotated
// delay. Approximately timed: nb_transport_fw/bw with the four phases, pooled payloads (memory
// manager), writes not waited for, reads issued for every head before any answer comes.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "gca/tlm/request_pool.hpp"

namespace gca::tlm {

enum class Workload {
  decode,   // token t+1 enters layer 0 when token t has left the last layer (+ host time)
  prefill,  // prompt tokens stream through the pipeline of every head
};
enum class Protocol {
  loosely_timed,        // b_transport with annotated delays and temporal decoupling
  approximately_timed,  // nb_transport_fw/bw with the four phases
};
enum class Completion {
  interrupt,  // wait for the accelerator's interrupt, read IRQ_STATUS, then the results
  poll,       // read each head's STATUS every poll_ns until OUT_VALID
};

struct HostConfig {
  long tokens = 1;
  int n_layers = 1;
  int n_heads = 1;
  int d_head = 64;
  Workload workload = Workload::decode;
  Protocol protocol = Protocol::loosely_timed;
  Completion completion = Completion::interrupt;
  double host_ns_per_layer = 0.0;      // projections/MLP between two layers of one token
  double quantum_ns = 1000.0;          // loosely timed: local time ahead of the kernel at most this
  double poll_ns = 5.0;                // polling interval
  std::uint64_t accelerator_base = 0;  // the accelerator's base address on the host's bus
  int command_queue = 1;               // CMD_DEPTH: STARTs in flight per head before checking FULL
};

// Token data per (token, layer, head): fills q, k, v with d_head values each.
using TokenSource =
    std::function<void(long token, int layer, int head, double* q, double* k, double* v)>;
// Receives each output (d_head values) as the host has read it.
using OutputSink = std::function<void(long token, int layer, int head, const double* out)>;

// A quantum keeper with the host's own quantum instead of the global one.
class HostQuantumKeeper : public tlm_utils::tlm_quantumkeeper {
 public:
  void set_quantum(const sc_core::sc_time& q) { quantum_ = q; }

 protected:
  sc_core::sc_time compute_local_quantum() override;

 private:
  sc_core::sc_time quantum_ = sc_core::SC_ZERO_TIME;
};

class Host : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Host);
  // Throws gca::Error when the configuration cannot work (interrupts with more layers than
  // the interrupt registers hold).
  Host(sc_core::sc_module_name name, const HostConfig& config, TokenSource source, OutputSink sink);
  ~Host() override;
  tlm_utils::simple_initiator_socket<Host> socket;
  sc_core::sc_in<bool> irq;

  // After the run: tokens that left the last layer, and when the last one did.
  long tokens_done() const { return tokens_done_; }
  sc_core::sc_time finished() const { return finished_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  long transactions() const { return transactions_; }
  // Called after each token has left every layer (progress reports).
  std::function<void(long tokens_done, const sc_core::sc_time& now)> on_token;
  // Closed-loop workloads (a language model scored in chunks): asked by each layer's process
  // before it writes token `token`; true = write RESET to every head of the layer first (empty
  // the window). Decode only: the heads are idle then.
  std::function<bool(long token, int layer)> reset_heads_before;

 private:
  struct Thread;  // one layer's process state
  void layer_process(int layer);
  void irq_dispatcher();
  void wait_for_input(Thread& th, long token);
  void start_heads(Thread& th, long token);
  void reset_heads(Thread& th);
  void collect(Thread& th, long token);
  void wait_for_results(Thread& th);
  void publish(int layer, long token, const sc_core::sc_time& at);

  // Transactions. `issue` returns once the request was accepted (AT) or done (LT); `await`
  // returns once the response is there.
  Request* issue(Thread& th, ::tlm::tlm_command cmd, std::uint64_t address, void* data,
                 unsigned length, bool detached);
  void await(Thread& th, Request* r);
  void write(Thread& th, std::uint64_t address, const void* data, unsigned length);
  std::uint64_t read_register(Thread& th, std::uint64_t address, unsigned length = 4);
  void wait_for_queue_room(Thread& th, int head);
  void fail(const ::tlm::tlm_generic_payload& trans);
  sc_core::sc_time local_now(const Thread& th) const;
  std::uint64_t head_address(int layer, int head) const;
  std::uint64_t global_address(std::uint64_t offset) const;
  ::tlm::tlm_sync_enum nb_transport_bw(::tlm::tlm_generic_payload& trans, ::tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay);

  HostConfig config_;
  TokenSource source_;
  OutputSink sink_;
  RequestPool pool_;
  sc_core::sc_mutex request_channel_;             // AT: one request in its request phase at a time
  std::vector<std::unique_ptr<Thread>> threads_;  // per layer, then the interrupt dispatcher
  // Per layer: times at which its outputs of each unconsumed token were read.
  std::vector<std::deque<sc_core::sc_time>> published_;
  std::vector<std::unique_ptr<sc_core::sc_event>> published_event_;
  std::vector<bool> layer_irq_;
  std::vector<std::unique_ptr<sc_core::sc_event>> layer_irq_event_;
  long tokens_done_ = 0, transactions_ = 0;
  sc_core::sc_time finished_;
  std::string error_;
};

}  // namespace gca::tlm
