// The accelerator as one block a virtual platform instantiates: one TLM-2.0 target socket with
// its internal address decoder (rtl_spec/REGISTER_MAP.md), the layers of heads behind it, the
// accelerator-wide registers, the interrupt output and an optional reset input.
//
// Protocols (details in REGISTER_MAP.md, "Timing and protocols"):
//  - b_transport, loosely timed with temporal decoupling: an access executes at once and returns
//    its annotated delay unchanged, unless its outcome depends on what happens before the
//    initiator's local time (START and other control writes, reads of changing state while a
//    token is in flight, a read of OUT_BUF with no result): then it first waits until then.
//  - nb_transport_fw, approximately timed, four phases: requests enter a payload event queue at
//    their annotated time and get END_REQ at once (nothing holds the target: a START into a full
//    command queue is refused with an error); an OUT_BUF read with no result is answered when the
//    head delivers one; responses go out one at a time.
//  - transport_dbg: reads without side effects; writes refused.
// At equal times, a result a head delivers comes before the accesses executed at that time.
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
#include "gca/sc/numerics_ahead.hpp"
#include "gca/spec/buffer_codes.hpp"
#include "gca/spec/parallel.hpp"

namespace gca::sc {

// The heads of one model layer; they work in parallel on the same token.
class AttentionLayer : public sc_core::sc_module {
 public:
  AttentionLayer(sc_core::sc_module_name name, const spec::HardwareSpec& spec, PowerFactory& power,
                 spec::TaskPool* pool, int layer_index);
  AttentionHead& head(int h) { return *heads_[static_cast<std::size_t>(h)]; }
  const AttentionHead& head(int h) const { return *heads_[static_cast<std::size_t>(h)]; }
  int n_heads() const { return static_cast<int>(heads_.size()); }
  // Every head holds a result (the layer's bit of LAYER_READY).
  bool ready() const { return heads_with_result_ == n_heads(); }
  // A head's STATUS.OVERFLOW is set (the layer's bit of OVERFLOW_LO/HI).
  bool overflow() const;
  // A head's output FIFO became empty or non-empty.
  void output_changed();

 private:
  std::vector<std::unique_ptr<AttentionHead>> heads_;
  int heads_with_result_ = 0;
};

// How a platform builds the accelerator.
struct AcceleratorOptions {
  std::uint64_t base_address = 0;  // where the accelerator's GCA_SPAN bytes start
  // Threads for the heads' numerics: 1 runs them on the simulation thread (the default inside
  // someone else's platform); 0 takes GCA_THREADS or every core of the machine.
  int threads = 1;
  spec::regs::BufferFormat buffer_format = spec::regs::BufferFormat::binary64;  // BUF_FORMAT reset
};

class Accelerator : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Accelerator);
  // n_layers and n_heads come from spec.model. Throws gca::Error when the model does not fit
  // the register map (layers, heads per layer, d_head of a buffer).
  Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
              power::PowerTracker* tracker = nullptr, int threads = 1);
  Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
              const AcceleratorOptions& options, power::PowerTracker* tracker = nullptr);

  tlm_utils::simple_target_socket<Accelerator> socket;
  sc_core::sc_out<bool> irq;   // high while an enabled cause holds (IRQ_CAUSE)
  sc_core::sc_in<bool> reset;  // active high; optional (unbound: never asserted)

  AttentionLayer& layer(int l) { return *layers_[static_cast<std::size_t>(l)]; }
  AttentionHead& head(int l, int h) { return layer(l).head(h); }
  int n_layers() const { return static_cast<int>(layers_.size()); }
  int n_heads() const { return spec_.model.n_heads; }
  const spec::HardwareSpec& spec() const { return spec_; }
  std::uint64_t base_address() const { return options_.base_address; }
  spec::regs::BufferFormat buffer_format() const { return format_; }
  // Global soft reset (GLB_CTRL.SOFT_RESET and a rising reset input).
  void soft_reset();
  // Lets the heads' numerics run one token ahead of the simulation (numerics_ahead.hpp) with
  // the inputs the host will write: the platform promises open-loop inputs, one token in the
  // layers at a time (decode) and no resets. Taken up at the start of the simulation where it
  // is possible (a pool with workers, cells that do not leak, no capture or traced sub-tiles,
  // GCA_NUMERICS_AHEAD not 0); numerics_ahead() says whether it was.
  // tokens: how many the host will send (no token at or past it is computed ahead: the inputs
  // may not exist there).
  void run_numerics_ahead(NumericsAhead::Inputs inputs, long tokens) {
    ahead_inputs_ = std::move(inputs);
    ahead_tokens_ = tokens;
  }
  bool numerics_ahead() const { return ahead_ != nullptr; }
  int threads() const { return pool_->threads(); }  // of the heads' numerics

 private:
  struct Route {
    HeadPort* port = nullptr;  // null: the accelerator-wide registers, or unmapped
    std::uint64_t offset = 0;
    bool global = false;
  };
  void check_fits() const;
  Route decode(std::uint64_t address);
  AccessResult execute(const Route& route, ::tlm::tlm_generic_payload& trans, bool debug);
  void global_access(::tlm::tlm_generic_payload& trans, std::uint64_t offset, bool debug);
  bool global_depends_on_time(const ::tlm::tlm_generic_payload& trans, std::uint64_t offset) const;
  std::uint32_t read_global(std::uint64_t offset) const;
  bool write_global(std::uint64_t offset, std::uint32_t value);
  std::uint64_t layer_ready_mask() const;
  std::uint64_t overflow_mask() const;
  std::uint32_t irq_cause() const;
  // Lets a result due at the current time be delivered before the access executes.
  void settle(const Route& route);

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
  void on_reset_input();
  void before_end_of_elaboration() override;
  void start_of_simulation() override;

  spec::HardwareSpec spec_;
  AcceleratorOptions options_;
  PowerFactory power_;
  std::unique_ptr<spec::TaskPool> pool_;
  NumericsAhead::Inputs ahead_inputs_;
  long ahead_tokens_ = 0;
  spec::BufferCodes codes_;
  std::vector<std::unique_ptr<AttentionLayer>> layers_;
  std::vector<HeadPort> ports_;           // layer * n_heads + head
  std::unique_ptr<NumericsAhead> ahead_;  // destroyed before the heads and the pool it uses
  spec::regs::BufferFormat format_;
  std::uint64_t irq_enable_ = 0;
  bool overflow_irq_enable_ = false;
  sc_core::sc_signal<bool> irq_unbound_{"irq_unbound"};      // when no one binds irq
  sc_core::sc_signal<bool> reset_unbound_{"reset_unbound"};  // when no one binds reset
  sc_core::sc_event irq_changed_, response_queued_, end_response_;

  tlm_utils::peq_with_get<::tlm::tlm_generic_payload> requests_{"requests"};
  struct WaitingRead {
    ::tlm::tlm_generic_payload* trans;
    Route route;
    long resets;  // the head's reset count when the read began: a reset answers it with an error
  };
  std::deque<WaitingRead> waiting_reads_;
  std::deque<::tlm::tlm_generic_payload*> responses_;
  bool end_response_seen_ = false;
};

}  // namespace gca::sc
