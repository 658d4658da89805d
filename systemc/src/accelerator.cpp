#include "gca/sc/accelerator.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include "gca/spec/error.hpp"

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

bool AttentionLayer::overflow() const {
  for (const auto& h : heads_)
    if (h->overflow()) return true;
  return false;
}

Accelerator::Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                         power::PowerTracker* tracker, int threads)
    : Accelerator(name, spec, AcceleratorOptions{0, threads, regs::BufferFormat::binary64},
                  tracker) {}

Accelerator::Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                         const AcceleratorOptions& options, power::PowerTracker* tracker)
    : sc_module(name),
      socket("socket"),
      irq("irq"),
      reset("reset"),
      spec_(spec),
      options_(options),
      power_(tracker),
      pool_(std::make_unique<spec::TaskPool>(options.threads)),
      codes_(spec_),
      format_(options.buffer_format) {
  check_fits();
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
  const auto d = static_cast<std::uint64_t>(spec_.model.d_head);
  for (auto& layer : layers_) {
    for (int h = 0; h < layer->n_heads(); ++h) {
      HeadPort p;
      p.head = &layer->head(h);
      p.k_codes.assign(codes_.bytes(spec::BufferKind::k, d), 0);
      p.v_codes.assign(codes_.bytes(spec::BufferKind::v, d), 0);
      p.q_codes.assign(codes_.bytes(spec::BufferKind::q, d), 0);
      ports_.push_back(std::move(p));
    }
  }
  socket.register_b_transport(this, &Accelerator::b_transport);
  socket.register_nb_transport_fw(this, &Accelerator::nb_transport_fw);
  socket.register_transport_dbg(this, &Accelerator::transport_dbg);
  SC_THREAD(request_process);
  SC_THREAD(response_process);
  SC_METHOD(serve_waiting_reads);
  // Every head's new result may answer a waiting read; a reset answers it with an error.
  for (auto& layer : layers_) {
    for (int h = 0; h < layer->n_heads(); ++h)
      sensitive << layer->head(h).result_event() << layer->head(h).reset_event();
  }
  dont_initialize();
  SC_METHOD(update_irq);
  sensitive << irq_changed_;
  SC_METHOD(on_reset_input);
  sensitive << reset.pos();
  dont_initialize();
}

void Accelerator::check_fits() const {
  const spec::ModelParams& m = spec_.model;
  if (m.n_layers > regs::kMaxLayers)
    throw Error("", "model.n_layers",
                std::to_string(m.n_layers) + " layers do not fit the register map (allowed: 1 .. " +
                    std::to_string(regs::kMaxLayers) + ")");
  if (m.n_heads > regs::kMaxHeadsPerLayer)
    throw Error("", "model.n_heads",
                std::to_string(m.n_heads) + " heads do not fit a layer's window (allowed: 1 .. " +
                    std::to_string(regs::kMaxHeadsPerLayer) + ")");
  const auto d = static_cast<std::uint64_t>(m.d_head);
  std::uint64_t bytes = options_.buffer_format == regs::BufferFormat::binary64 ? 8 * d : 0;
  for (spec::BufferKind k :
       {spec::BufferKind::k, spec::BufferKind::v, spec::BufferKind::q, spec::BufferKind::out})
    bytes = std::max(bytes, codes_.bytes(k, d));
  if (bytes > regs::kBufferSpan)
    throw Error("", "model.d_head",
                std::to_string(m.d_head) + " features do not fit a data buffer of " +
                    std::to_string(regs::kBufferSpan) + " bytes (allowed: at most " +
                    std::to_string(regs::kBufferSpan / 8) + " in the binary64 format)");
  if (options_.buffer_format == regs::BufferFormat::codes && !codes_.available())
    throw Error("", "quant", "the codes buffer format needs quantizing converters");
}

void Accelerator::before_end_of_elaboration() {
  if (irq.size() == 0) irq.bind(irq_unbound_);
  if (reset.size() == 0) reset.bind(reset_unbound_);
}

void Accelerator::start_of_simulation() {
  if (!ahead_inputs_ || pool_->threads() < 2) return;
  if (const char* env = std::getenv("GCA_NUMERICS_AHEAD"); env && std::string(env) == "0") return;
  std::vector<AttentionHead*> heads;
  for (auto& layer : layers_)
    for (int h = 0; h < layer->n_heads(); ++h) heads.push_back(&layer->head(h));
  for (const AttentionHead* h : heads)
    if (!h->numerics_ahead_possible()) return;
  ahead_ = std::make_unique<NumericsAhead>(heads, spec_.model.n_heads, ahead_inputs_, ahead_tokens_,
                                           *pool_);
  for (AttentionHead* h : heads) h->use_numerics_ahead(ahead_.get());
}

Accelerator::Route Accelerator::decode(std::uint64_t address) {
  Route r;
  if (address < options_.base_address || address - options_.base_address >= regs::kSpan) return r;
  const std::uint64_t off = address - options_.base_address;
  if (off >= regs::kGlobalBase) {
    r.global = true;
    r.offset = off - regs::kGlobalBase;
    return r;
  }
  const std::uint64_t layer = off / regs::kLayerStride;
  const std::uint64_t head = (off % regs::kLayerStride) / regs::kHeadStride;
  if (layer >= layers_.size() || head >= std::uint64_t(n_heads())) return r;
  r.port = &ports_[layer * std::uint64_t(n_heads()) + head];
  r.offset = off % regs::kHeadStride;
  return r;
}

// ---- the accelerator-wide block ------------------------------------------------------------

std::uint64_t Accelerator::layer_ready_mask() const {
  std::uint64_t mask = 0;
  const int n = std::min<int>(static_cast<int>(layers_.size()), regs::kMaxIrqLayers);
  for (int l = 0; l < n; ++l) {
    if (layers_[static_cast<std::size_t>(l)]->ready()) mask |= 1ULL << l;
  }
  return mask;
}

std::uint64_t Accelerator::overflow_mask() const {
  std::uint64_t mask = 0;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    // Layers beyond 63 show in bit 63.
    if (layers_[l]->overflow()) mask |= 1ULL << std::min<std::size_t>(l, 63);
  }
  return mask;
}

std::uint32_t Accelerator::irq_cause() const {
  std::uint32_t cause = 0;
  if ((layer_ready_mask() & irq_enable_) != 0) cause |= regs::kIrqCauseReady;
  if (overflow_irq_enable_ && overflow_mask() != 0) cause |= regs::kIrqCauseOverflow;
  return cause;
}

std::uint32_t Accelerator::read_global(std::uint64_t off) const {
  auto lo = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
  auto hi = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); };
  switch (off) {
    case GCA_GLB_ID:
      return regs::kIdValue;
    case GCA_GLB_N_LAYERS:
      return static_cast<std::uint32_t>(layers_.size());
    case GCA_GLB_N_HEADS:
      return static_cast<std::uint32_t>(n_heads());
    case GCA_GLB_BUF_FORMAT:
      return static_cast<std::uint32_t>(format_);
    case GCA_GLB_IRQ_CAUSE:
      return irq_cause();
    case GCA_GLB_OVERFLOW_IRQ_ENABLE:
      return overflow_irq_enable_ ? 1u : 0u;
    case GCA_GLB_LAYER_READY_LO:
      return lo(layer_ready_mask());
    case GCA_GLB_LAYER_READY_HI:
      return hi(layer_ready_mask());
    case GCA_GLB_IRQ_STATUS_LO:
      return lo(layer_ready_mask() & irq_enable_);
    case GCA_GLB_IRQ_STATUS_HI:
      return hi(layer_ready_mask() & irq_enable_);
    case GCA_GLB_IRQ_ENABLE_LO:
      return lo(irq_enable_);
    case GCA_GLB_IRQ_ENABLE_HI:
      return hi(irq_enable_);
    case GCA_GLB_OVERFLOW_LO:
      return lo(overflow_mask());
    case GCA_GLB_OVERFLOW_HI:
      return hi(overflow_mask());
    default:
      return 0;
  }
}

// Returns false when the value is refused (a BUF_FORMAT the converters cannot serve).
bool Accelerator::write_global(std::uint64_t off, std::uint32_t value) {
  const int shift =
      (off == GCA_GLB_IRQ_ENABLE_SET_HI || off == GCA_GLB_IRQ_ENABLE_CLEAR_HI) ? 32 : 0;
  const std::uint64_t bits = std::uint64_t(value) << shift;
  switch (off) {
    case GCA_GLB_CTRL:
      if (value & regs::kGlobalCtrlSoftReset) soft_reset();
      break;
    case GCA_GLB_BUF_FORMAT:
      if (value == GCA_FORMAT_BINARY64 &&
          8ULL * static_cast<std::uint64_t>(spec_.model.d_head) <= regs::kBufferSpan) {
        format_ = regs::BufferFormat::binary64;
      } else if (value == GCA_FORMAT_CODES && codes_.available()) {
        format_ = regs::BufferFormat::codes;
      } else {
        return false;
      }
      break;
    case GCA_GLB_OVERFLOW_IRQ_ENABLE:
      overflow_irq_enable_ = (value & 1u) != 0;
      break;
    case GCA_GLB_IRQ_ENABLE_SET_LO:
    case GCA_GLB_IRQ_ENABLE_SET_HI:
      irq_enable_ |= bits;
      break;
    case GCA_GLB_IRQ_ENABLE_CLEAR_LO:
    case GCA_GLB_IRQ_ENABLE_CLEAR_HI:
      irq_enable_ &= ~bits;
      break;
  }
  irq_changed_.notify(SC_ZERO_TIME);
  return true;
}

namespace {

bool global_writable(std::uint64_t off) {
  switch (off) {
    case GCA_GLB_CTRL:
    case GCA_GLB_BUF_FORMAT:
    case GCA_GLB_OVERFLOW_IRQ_ENABLE:
    case GCA_GLB_IRQ_ENABLE_SET_LO:
    case GCA_GLB_IRQ_ENABLE_SET_HI:
    case GCA_GLB_IRQ_ENABLE_CLEAR_LO:
    case GCA_GLB_IRQ_ENABLE_CLEAR_HI:
      return true;
    default:
      return false;
  }
}

bool global_readable(std::uint64_t off) {
  switch (off) {
    case GCA_GLB_CTRL:
    case GCA_GLB_IRQ_ENABLE_SET_LO:
    case GCA_GLB_IRQ_ENABLE_SET_HI:
    case GCA_GLB_IRQ_ENABLE_CLEAR_LO:
    case GCA_GLB_IRQ_ENABLE_CLEAR_HI:
      return false;
    default:
      return off < regs::kGlobalEnd && off != 0x1C;  // 0x1C is a gap
  }
}

}  // namespace

void Accelerator::global_access(::tlm::tlm_generic_payload& trans, std::uint64_t off, bool debug) {
  if (!check_payload(trans, debug)) return;
  if (off >= regs::kLayerStride) {
    trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (off >= regs::kGlobalEnd) {
    trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const int words = check_register_access(trans, off);
  if (words == 0) return;
  for (int w = 0; w < words; ++w) {
    const std::uint64_t o = off + 4u * static_cast<unsigned>(w);
    if (!global_readable(o) && !global_writable(o)) {
      trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    const bool ok = trans.is_write()  ? global_writable(o) && !debug
                    : trans.is_read() ? global_readable(o)
                                      : true;
    if (!ok) {
      trans.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
  }
  if (trans.get_command() == ::tlm::TLM_IGNORE_COMMAND) {
    trans.set_response_status(::tlm::TLM_OK_RESPONSE);
    return;
  }
  for (int w = 0; w < words; ++w) {
    const std::uint64_t o = off + 4u * static_cast<unsigned>(w);
    unsigned char* data = trans.get_data_ptr() + 4 * w;
    if (trans.is_write()) {
      std::uint32_t v = 0;
      std::memcpy(&v, data, 4);
      if (!write_global(o, v)) {
        trans.set_response_status(::tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
      }
    } else {
      const std::uint32_t v = read_global(o);
      std::memcpy(data, &v, 4);
    }
  }
  trans.set_response_status(::tlm::TLM_OK_RESPONSE);
}

bool Accelerator::global_depends_on_time(const ::tlm::tlm_generic_payload& trans,
                                         std::uint64_t off) const {
  if (trans.get_command() == ::tlm::TLM_IGNORE_COMMAND) return false;
  if (trans.is_write()) return true;
  return !(off == GCA_GLB_ID || off == GCA_GLB_N_LAYERS || off == GCA_GLB_N_HEADS);
}

void Accelerator::soft_reset() {
  for (HeadPort& p : ports_) {
    p.head->reset();
    for (auto* b : {&p.k_codes, &p.v_codes, &p.q_codes}) std::fill(b->begin(), b->end(), 0);
    for (InputBuffer w : {InputBuffer::k, InputBuffer::v, InputBuffer::q})
      std::fill(p.head->input(w), p.head->input(w) + p.head->d_head(), 0.0);
  }
  for (auto& layer : layers_) layer->output_changed();
  format_ = options_.buffer_format;
  irq_enable_ = 0;
  overflow_irq_enable_ = false;
  irq_changed_.notify(SC_ZERO_TIME);
}

void Accelerator::on_reset_input() {
  soft_reset();
}

AccessResult Accelerator::execute(const Route& route, ::tlm::tlm_generic_payload& trans,
                                  bool debug) {
  if (route.global) {
    global_access(trans, route.offset, debug);
    return AccessResult::done;
  }
  if (!route.port) {
    if (check_payload(trans, debug)) trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return AccessResult::done;
  }
  AccessContext ctx;
  ctx.debug = debug;
  ctx.format = format_;
  ctx.codes = &codes_;
  const AccessResult r = access_head(*route.port, trans, route.offset, ctx);
  if (ctx.control_written) irq_changed_.notify(SC_ZERO_TIME);  // overflow or reset
  return r;
}

void Accelerator::update_irq() {
  irq.write(irq_cause() != 0);
}

void Accelerator::settle(const Route& route) {
  if (route.port) {
    const AttentionHead& h = *route.port->head;
    while (h.delivery_due_now()) wait(h.result_event());
  } else if (route.global) {
    // The interrupt registers read every head: let every result due now arrive.
    for (HeadPort& p : ports_)
      while (p.head->delivery_due_now()) wait(p.head->result_event());
  }
}

// ---- loosely timed ---------------------------------------------------------------------------

void Accelerator::b_transport(::tlm::tlm_generic_payload& trans, sc_time& delay) {
  const Route route = decode(trans.get_address());
  const bool timed = route.global ? global_depends_on_time(trans, route.offset)
                     : route.port ? access_depends_on_time(*route.port, trans, route.offset)
                                  : false;
  if (!timed) {  // temporal decoupling: the answer is the same at the initiator's local time
    execute(route, trans, false);
    return;
  }
  if (delay > SC_ZERO_TIME) wait(delay);
  delay = SC_ZERO_TIME;
  settle(route);
  for (;;) {
    const long resets = route.port ? route.port->head->resets() : 0;
    if (execute(route, trans, false) == AccessResult::done) return;
    // A read of OUT_BUF with no result: wait for one (or a reset, which answers an error).
    const AttentionHead& h = *route.port->head;
    wait(h.result_event() | h.reset_event());
    if (h.resets() != resets) {
      trans.set_response_status(::tlm::TLM_GENERIC_ERROR_RESPONSE);
      return;
    }
    settle(route);
  }
}

unsigned int Accelerator::transport_dbg(::tlm::tlm_generic_payload& trans) {
  const Route route = decode(trans.get_address());
  execute(route, trans, true);
  return trans.is_response_ok() && trans.get_command() != ::tlm::TLM_IGNORE_COMMAND
             ? trans.get_data_length()
             : 0;
}

// ---- approximately timed ---------------------------------------------------------------------

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
      settle(route);
      // Every request is ended at once: nothing the accelerator does holds the bus.
      const AccessResult r = execute(route, *trans, false);
      end_request(*trans);
      if (r == AccessResult::needs_result) {
        waiting_reads_.push_back(WaitingRead{trans, route, route.port->head->resets()});
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
    if (it->route.port->head->resets() != it->resets) {
      it->trans->set_response_status(::tlm::TLM_GENERIC_ERROR_RESPONSE);
    } else if (execute(it->route, *it->trans, false) == AccessResult::needs_result) {
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
