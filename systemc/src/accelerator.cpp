#include "gca/sc/accelerator.hpp"

#include <cstring>
#include <string>

namespace gca::sc {

namespace regs = gca::spec::regs;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

AttentionLayer::AttentionLayer(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                               PowerFactory& power, spec::TaskPool* pool, int layer_index)
    : sc_module(name) {
  for (int h = 0; h < spec.model.n_heads; ++h) {
    const std::string n = "head" + std::to_string(h);
    heads_.push_back(std::make_unique<AttentionHead>(n.c_str(), spec, power, pool,
                                                     layer_index * spec.model.n_heads + h));
  }
}

void AttentionLayer::output_changed() {
  int n = 0;
  for (const auto& h : heads_) n += h->has_result() ? 1 : 0;
  heads_with_result_ = n;
}

Accelerator::Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                         power::PowerTracker* tracker, int threads)
    : sc_module(name),
      socket("socket"),
      irq("irq"),
      spec_(spec),
      power_(tracker),
      pool_(std::make_unique<spec::TaskPool>(threads)) {
  spec::TaskPool* pool = pool_->threads() > 1 ? pool_.get() : nullptr;
  for (int l = 0; l < spec_.model.n_layers; ++l) {
    const std::string n = "layer" + std::to_string(l);
    layers_.push_back(std::make_unique<AttentionLayer>(n.c_str(), spec_, power_, pool, l));
    AttentionLayer* layer = layers_.back().get();
    for (int h = 0; h < layer->n_heads(); ++h) {
      layer->head(h).on_output_change = [this, layer] {
        layer->output_changed();
        irq_changed_.notify(SC_ZERO_TIME);
      };
    }
  }
  socket.register_b_transport(this, &Accelerator::b_transport);
  socket.register_nb_transport_fw(this, &Accelerator::nb_transport_fw);
  socket.register_transport_dbg(this, &Accelerator::transport_dbg);
  SC_THREAD(request_process);
  SC_THREAD(response_process);
  SC_METHOD(serve_waiting_reads);
  // Every head's new result may answer a waiting read.
  for (auto& layer : layers_) {
    for (int h = 0; h < layer->n_heads(); ++h) sensitive << layer->head(h).result_event();
  }
  dont_initialize();
  SC_METHOD(update_irq);
  sensitive << irq_changed_;
}

void Accelerator::before_end_of_elaboration() {
  if (irq.size() == 0) irq.bind(irq_unbound_);
}

Accelerator::Route Accelerator::decode(std::uint64_t address) {
  Route r;
  if (address >= regs::kGlobalBase) {
    r.global = true;
    r.offset = address - regs::kGlobalBase;
    return r;
  }
  const std::uint64_t layer = address / regs::kLayerStride;
  const std::uint64_t head = (address % regs::kLayerStride) / regs::kHeadStride;
  if (layer >= layers_.size() || head >= std::uint64_t(n_heads())) return r;
  r.head = &this->head(static_cast<int>(layer), static_cast<int>(head));
  r.offset = address % regs::kHeadStride;
  return r;
}

std::uint64_t Accelerator::layer_ready_mask() const {
  std::uint64_t mask = 0;
  const int n = std::min<int>(static_cast<int>(layers_.size()), regs::kMaxIrqLayers);
  for (int l = 0; l < n; ++l) {
    if (layers_[static_cast<std::size_t>(l)]->ready()) mask |= 1ULL << l;
  }
  return mask;
}

void Accelerator::global_access(::tlm::tlm_generic_payload& trans, std::uint64_t off, bool debug) {
  if (trans.get_byte_enable_ptr() != nullptr) {
    trans.set_response_status(::tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (off % 8 != 0 || off >= regs::kGlobalEnd) {
    trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (trans.get_data_length() != 8 || trans.get_streaming_width() < 8) {
    trans.set_response_status(::tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  std::uint64_t value = 0;
  const bool writable = off == regs::kIrqEnableSet || off == regs::kIrqEnableClear;
  if (trans.is_write() != writable || (debug && writable)) {
    trans.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  if (writable) {
    std::memcpy(&value, trans.get_data_ptr(), 8);
    irq_enable_ = off == regs::kIrqEnableSet ? (irq_enable_ | value) : (irq_enable_ & ~value);
    irq_changed_.notify(SC_ZERO_TIME);
  } else {
    switch (off) {
      case regs::kGlobalId:
        value = regs::kIdValue;
        break;
      case regs::kLayerReady:
        value = layer_ready_mask();
        break;
      case regs::kIrqStatus:
        value = layer_ready_mask() & irq_enable_;
        break;
      case regs::kIrqEnable:
        value = irq_enable_;
        break;
    }
    std::memcpy(trans.get_data_ptr(), &value, 8);
  }
  trans.set_response_status(::tlm::TLM_OK_RESPONSE);
}

AccessResult Accelerator::execute(const Route& route, ::tlm::tlm_generic_payload& trans,
                                  bool debug) {
  if (route.global) {
    global_access(trans, route.offset, debug);
    return AccessResult::done;
  }
  if (!route.head) {
    trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return AccessResult::done;
  }
  return access_head(*route.head, trans, route.offset, debug);
}

void Accelerator::update_irq() {
  irq.write((layer_ready_mask() & irq_enable_) != 0);
}

// Loosely timed: synchronize, then execute, waiting where the hardware makes the access wait.
void Accelerator::b_transport(::tlm::tlm_generic_payload& trans, sc_time& delay) {
  if (delay > SC_ZERO_TIME) wait(delay);
  delay = SC_ZERO_TIME;
  const Route route = decode(trans.get_address());
  for (;;) {
    const AccessResult r = execute(route, trans, false);
    if (r == AccessResult::done) return;
    wait(r == AccessResult::needs_input_space ? route.head->input_space_event()
                                              : route.head->result_event());
  }
}

unsigned int Accelerator::transport_dbg(::tlm::tlm_generic_payload& trans) {
  const Route route = decode(trans.get_address());
  execute(route, trans, true);
  return trans.is_response_ok() ? trans.get_data_length() : 0;
}

::tlm::tlm_sync_enum Accelerator::nb_transport_fw(::tlm::tlm_generic_payload& trans,
                                                  ::tlm::tlm_phase& phase, sc_time& delay) {
  if (phase == ::tlm::BEGIN_REQ) {
    if (trans.has_mm()) trans.acquire();
    requests_.notify(trans, delay);
    return ::tlm::TLM_ACCEPTED;
  }
  if (phase == ::tlm::END_RESP) {
    end_response_seen_ = true;
    end_response_.notify(delay);
    return ::tlm::TLM_COMPLETED;
  }
  trans.set_response_status(::tlm::TLM_GENERIC_ERROR_RESPONSE);  // not a phase an initiator sends
  return ::tlm::TLM_COMPLETED;
}

void Accelerator::end_request(::tlm::tlm_generic_payload& trans) {
  ::tlm::tlm_phase phase = ::tlm::END_REQ;
  sc_time delay = SC_ZERO_TIME;
  socket->nb_transport_bw(trans, phase, delay);
}

void Accelerator::queue_response(::tlm::tlm_generic_payload& trans) {
  responses_.push_back(&trans);
  response_queued_.notify(SC_ZERO_TIME);
}

void Accelerator::request_process() {
  for (;;) {
    wait(requests_.get_event());
    while (::tlm::tlm_generic_payload* trans = requests_.get_next_transaction()) {
      const Route route = decode(trans->get_address());
      // END_REQ is withheld while a START waits for the input latch: the initiator may send
      // no other request meanwhile (back-pressure).
      AccessResult r;
      while ((r = execute(route, *trans, false)) == AccessResult::needs_input_space)
        wait(route.head->input_space_event());
      end_request(*trans);
      if (r == AccessResult::needs_result) {
        waiting_reads_.push_back(WaitingRead{trans, route});
      } else {
        queue_response(*trans);
      }
    }
  }
}

void Accelerator::serve_waiting_reads() {
  // A read is answered as soon as its head has a result, whatever other heads' reads still
  // wait for; the reads of one head keep their order (a later one cannot pass an earlier one
  // that still waits, since both see the same empty FIFO).
  for (auto it = waiting_reads_.begin(); it != waiting_reads_.end();) {
    if (execute(it->route, *it->trans, false) == AccessResult::needs_result) {
      ++it;
      continue;
    }
    queue_response(*it->trans);
    it = waiting_reads_.erase(it);
  }
}

void Accelerator::response_process() {
  for (;;) {
    while (responses_.empty()) wait(response_queued_);
    ::tlm::tlm_generic_payload* trans = responses_.front();
    responses_.pop_front();
    ::tlm::tlm_phase phase = ::tlm::BEGIN_RESP;
    sc_time delay = SC_ZERO_TIME;
    end_response_seen_ = false;
    const ::tlm::tlm_sync_enum s = socket->nb_transport_bw(*trans, phase, delay);
    // One response at a time: the next waits for this one's END_RESP, or for the time its
    // completion was annotated with.
    if (s == ::tlm::TLM_ACCEPTED) {
      while (!end_response_seen_) wait(end_response_);
    } else if (delay > SC_ZERO_TIME) {
      wait(delay);
    }
    if (trans->has_mm()) trans->release();
  }
}

}  // namespace gca::sc
