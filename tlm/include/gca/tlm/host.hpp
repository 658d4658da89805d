// The host model: stands in for everything outside the attention core (projections, MLP,
// LayerNorm) and streams tokens through the accelerator over TLM-2.0. For each token and
// layer it writes K, V and Q of every head, starts them, and reads the outputs.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <functional>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

namespace gca::tlm {

enum class Workload {
  decode,   // token t+1 enters layer 0 when token t has left the last layer (+ host time)
  prefill,  // prompt tokens stream through the pipeline of every head
};
enum class Protocol {
  loosely_timed,        // b_transport with annotated delays and temporal decoupling
  approximately_timed,  // nb_transport_fw/bw with the four phases
};

struct HostConfig {
  long tokens = 1;
  int n_layers = 1;
  int n_heads = 1;
  int d_head = 64;
  Workload workload = Workload::decode;
  Protocol protocol = Protocol::loosely_timed;
  double host_ns_per_layer = 0.0;  // projections/MLP between two layers of one token
  double quantum_ns = 1000.0;      // temporal decoupling: sync with the kernel this often
};

// Token data per (token, layer, head): fills q, k, v with d_head values each.
using TokenSource =
    std::function<void(long token, int layer, int head, double* q, double* k, double* v)>;
// Receives each output: d_head values, and the times of the token in that layer.
struct OutputTiming {
  sc_core::sc_time start;  // START accepted by the head (its write phase begins)
  sc_core::sc_time done;   // output ready
};
using OutputSink = std::function<void(long token, int layer, int head, const double* out,
                                      const OutputTiming& timing)>;

class Host : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Host);
  Host(sc_core::sc_module_name name, const HostConfig& config, TokenSource source, OutputSink sink);
  tlm_utils::simple_initiator_socket<Host> socket;

  // After the run: tokens that left the last layer, and when the run ended.
  long tokens_done() const { return tokens_done_; }
  sc_core::sc_time finished() const { return finished_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Called after each token has left every layer (progress reports).
  std::function<void(long tokens_done, const sc_core::sc_time& now)> on_token;

 private:
  void run();
  // One transaction at absolute time `at`; returns the time it completes.
  sc_core::sc_time transport(::tlm::tlm_command cmd, std::uint64_t address, void* data,
                             unsigned length, const sc_core::sc_time& at);
  ::tlm::tlm_sync_enum nb_transport_bw(::tlm::tlm_generic_payload& trans, ::tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay);
  void sync_to(const sc_core::sc_time& t);

  HostConfig config_;
  TokenSource source_;
  OutputSink sink_;
  ::tlm::tlm_generic_payload trans_;
  sc_core::sc_event response_;
  long tokens_done_ = 0;
  sc_core::sc_time finished_;
  std::string error_;
};

}  // namespace gca::tlm
