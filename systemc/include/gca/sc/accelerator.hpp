// The accelerator as one block a virtual platform instantiates: one TLM-2.0 target socket with
// its internal address decoder (rtl_spec/REGISTER_MAP.md), the layers of heads behind it, the
// accelerator-wide interrupt registers and the interrupt output.
//
// Protocols: b_transport (loosely timed: the call synchronizes to its annotated time and blocks
// while the access must wait: a START while the head's input latch is full, a read of OUT_BUF
// before a result exists) and nb_transport_fw with the four phases (approximately timed:
// requests enter a payload event queue at their annotated time; END_REQ is withheld while a START
// waits for the input latch (back-pressure); an OUT_BUF read is accepted at once and answered
// with BEGIN_RESP when its result exists; responses go out one at a time). transport_dbg reads and
// writes nothing that changes the model.
#pragma once

#include <tlm_utils/peq_with_get.h>
#include <tlm_utils/simple_target_socket.h>
#include <deque>
#include <memory>
#include <systemc>
#include <tlm>
#include <vector>

#include "gca/sc/attention_head.hpp"
#include "gca/sc/head_registers.hpp"
#include "gca/spec/parallel.hpp"

namespace gca::sc {

// The heads of one model layer; they work in parallel on the same token.
class AttentionLayer : public sc_core::sc_module {
 public:
  AttentionLayer(sc_core::sc_module_name name, const spec::HardwareSpec& spec, PowerFactory& power,
                 spec::TaskPool* pool, int layer_index);
  AttentionHead& head(int h) { return *heads_[static_cast<std::size_t>(h)]; }
  int n_heads() const { return static_cast<int>(heads_.size()); }
  // Every head holds a result (the layer's bit of LAYER_READY).
  bool ready() const { return heads_with_result_ == n_heads(); }
  // A head's output FIFO became empty or non-empty.
  void output_changed();

 private:
  std::vector<std::unique_ptr<AttentionHead>> heads_;
  int heads_with_result_ = 0;
};

class Accelerator : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Accelerator);
  // n_layers and n_heads come from spec.model. threads: for the heads' numerics (0: GCA_THREADS
  // or the machine's cores; 1: on the simulation thread).
  Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
              power::PowerTracker* tracker = nullptr, int threads = 0);

  tlm_utils::simple_target_socket<Accelerator> socket;
  sc_core::sc_out<bool> irq;  // high while an enabled layer has a result in every head

  AttentionLayer& layer(int l) { return *layers_[static_cast<std::size_t>(l)]; }
  AttentionHead& head(int l, int h) { return layer(l).head(h); }
  int n_layers() const { return static_cast<int>(layers_.size()); }
  int n_heads() const { return spec_.model.n_heads; }
  const spec::HardwareSpec& spec() const { return spec_; }

 private:
  struct Route {
    AttentionHead* head = nullptr;  // null: the accelerator-wide registers, or unmapped
    std::uint64_t offset = 0;
    bool global = false;
  };
  Route decode(std::uint64_t address);
  AccessResult execute(const Route& route, ::tlm::tlm_generic_payload& trans, bool debug);
  void global_access(::tlm::tlm_generic_payload& trans, std::uint64_t offset, bool debug);
  std::uint64_t layer_ready_mask() const;

  void b_transport(::tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  ::tlm::tlm_sync_enum nb_transport_fw(::tlm::tlm_generic_payload& trans, ::tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay);
  unsigned int transport_dbg(::tlm::tlm_generic_payload& trans);

  // Approximately timed side.
  void request_process();
  void response_process();
  void serve_waiting_reads();
  void queue_response(::tlm::tlm_generic_payload& trans);
  void end_request(::tlm::tlm_generic_payload& trans);
  void update_irq();
  void before_end_of_elaboration() override;

  spec::HardwareSpec spec_;
  PowerFactory power_;
  std::unique_ptr<spec::TaskPool> pool_;
  std::vector<std::unique_ptr<AttentionLayer>> layers_;
  std::uint64_t irq_enable_ = 0;
  sc_core::sc_signal<bool> irq_unbound_{"irq_unbound"};  // when no one binds irq
  sc_core::sc_event irq_changed_, response_queued_, end_response_;

  tlm_utils::peq_with_get<::tlm::tlm_generic_payload> requests_{"requests"};
  struct WaitingRead {
    ::tlm::tlm_generic_payload* trans;
    Route route;
  };
  std::deque<WaitingRead> waiting_reads_;
  std::deque<::tlm::tlm_generic_payload*> responses_;
  bool end_response_seen_ = false;
};

}  // namespace gca::sc
