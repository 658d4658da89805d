#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "gca/tlm/host.hpp"

#include <algorithm>
#include <sstream>

#include "gca/spec/error.hpp"
#include "gca/spec/register_map.hpp"

namespace gca::tlm {

namespace regs = gca::spec::regs;
using sc_core::SC_NS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

sc_time HostQuantumKeeper::compute_local_quantum() {
  if (quantum_ == SC_ZERO_TIME) return SC_ZERO_TIME;
  const sc_time now = sc_core::sc_time_stamp();
  const sc_time into = sc_time::from_value(now.value() % quantum_.value());
  return quantum_ - into;
}

struct Host::Thread {
  int layer = 0;
  HostQuantumKeeper qk;
  std::vector<long> in_flight;                    // per head: STARTs issued - results read
  std::vector<std::vector<double>> q, k, v, out;  // per head
  std::vector<Request*> reads;                    // per head, outstanding reads (AT)
  ::tlm::tlm_generic_payload lt_payload;          // the one LT transaction in flight
};

Host::Host(sc_core::sc_module_name name, const HostConfig& config, TokenSource source,
           OutputSink sink)
    : sc_module(name),
      socket("socket"),
      irq("irq"),
      config_(config),
      source_(std::move(source)),
      sink_(std::move(sink)) {
  if (config_.completion == Completion::interrupt && config_.n_layers > regs::kMaxIrqLayers) {
    throw Error("", "workload.completion",
                "interrupts serve at most " + std::to_string(regs::kMaxIrqLayers) +
                    " layers (allowed: \"poll\" for " + std::to_string(config_.n_layers) + ")");
  }
  socket.register_nb_transport_bw(this, &Host::nb_transport_bw);
  const int L = config_.n_layers, H = config_.n_heads, d = config_.d_head;
  for (int l = 0; l <= L; ++l) {
    auto th = std::make_unique<Thread>();
    th->layer = l;
    th->q.assign(H, std::vector<double>(d));
    th->k = th->v = th->out = th->q;
    th->reads.assign(H, nullptr);
    th->in_flight.assign(H, 0);
    th->qk.set_quantum(sc_time(config_.quantum_ns, SC_NS));
    th->qk.reset();
    threads_.push_back(std::move(th));
  }
  published_.resize(L);
  for (int l = 0; l < L; ++l) {
    published_event_.push_back(std::make_unique<sc_core::sc_event>());
    layer_irq_event_.push_back(std::make_unique<sc_core::sc_event>());
  }
  layer_irq_.assign(L, false);
  for (int l = 0; l < L; ++l) {
    sc_core::sc_spawn_options opt;
    sc_core::sc_spawn(sc_bind(&Host::layer_process, this, l), ("layer" + std::to_string(l)).c_str(),
                      &opt);
  }
  if (config_.completion == Completion::interrupt) SC_THREAD(irq_dispatcher);
}

Host::~Host() = default;

std::uint64_t Host::head_address(int layer, int head) const {
  return config_.accelerator_base + regs::head_base(layer, head);
}

std::uint64_t Host::global_address(std::uint64_t offset) const {
  return config_.accelerator_base + regs::kGlobalBase + offset;
}

sc_time Host::local_now(const Thread& th) const {
  return sc_core::sc_time_stamp() + th.qk.get_local_time();
}

void Host::fail(const ::tlm::tlm_generic_payload& trans) {
  if (!error_.empty()) return;
  std::ostringstream os;
  os << "transaction to 0x" << std::hex << trans.get_address() << std::dec
     << " failed: " << trans.get_response_string();
  error_ = os.str();
  sc_core::sc_stop();
}

// ---- transactions ----------------------------------------------------------------------------

Request* Host::issue(Thread& th, ::tlm::tlm_command cmd, std::uint64_t address, void* data,
                     unsigned length, bool detached) {
  auto fill = [&](::tlm::tlm_generic_payload& p) {
    p.set_command(cmd);
    p.set_address(address);
    p.set_data_ptr(static_cast<unsigned char*>(data));
    p.set_data_length(length);
    p.set_streaming_width(length);
    p.set_byte_enable_ptr(nullptr);
    p.set_dmi_allowed(false);
    p.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
  };
  ++transactions_;
  if (config_.protocol == Protocol::loosely_timed) {
    ::tlm::tlm_generic_payload& p = th.lt_payload;
    fill(p);
    sc_time delay = th.qk.get_local_time();
    socket->b_transport(p, delay);
    th.qk.set(delay);
    if (th.qk.need_sync()) th.qk.sync();
    if (!p.is_response_ok()) fail(p);
    return nullptr;
  }
  th.qk.sync();  // AT: requests leave at the host's own time
  request_channel_.lock();
  Request* r = pool_.allocate();
  fill(*r);
  ::tlm::tlm_phase phase = ::tlm::BEGIN_REQ;
  sc_time delay = SC_ZERO_TIME;
  const ::tlm::tlm_sync_enum s = socket->nb_transport_fw(*r, phase, delay);
  const sc_time now = sc_core::sc_time_stamp();
  if (s == ::tlm::TLM_UPDATED && phase == ::tlm::END_REQ) {
    r->end_request = true;
    r->end_request_at = now + delay;
  } else if (s == ::tlm::TLM_COMPLETED) {
    r->end_request = r->responded = true;
    r->end_request_at = r->responded_at = now + delay;
    if (!r->is_response_ok()) fail(*r);
  }
  while (!r->end_request) wait(r->progress);
  const sc_time accepted = r->end_request_at;
  if (accepted > sc_core::sc_time_stamp()) wait(accepted - sc_core::sc_time_stamp());
  request_channel_.unlock();
  if (detached) {
    if (r->responded) {
      r->release();
    } else {
      r->detached = true;  // released by the response
    }
    return nullptr;
  }
  return r;
}

void Host::await(Thread&, Request* r) {
  if (r == nullptr) return;  // loosely timed: done at issue
  while (!r->responded) wait(r->progress);
  const sc_time at = r->responded_at;
  if (at > sc_core::sc_time_stamp()) wait(at - sc_core::sc_time_stamp());
  if (!r->is_response_ok()) fail(*r);
  r->release();
}

::tlm::tlm_sync_enum Host::nb_transport_bw(::tlm::tlm_generic_payload& trans,
                                           ::tlm::tlm_phase& phase, sc_time& delay) {
  auto& r = static_cast<Request&>(trans);
  const sc_time at = sc_core::sc_time_stamp() + delay;
  if (phase == ::tlm::END_REQ) {
    r.end_request = true;
    r.end_request_at = at;
    r.progress.notify(delay);
    return ::tlm::TLM_ACCEPTED;
  }
  if (phase == ::tlm::BEGIN_RESP) {
    if (!r.end_request) {  // a response implies the end of the request
      r.end_request = true;
      r.end_request_at = at;
    }
    r.responded = true;
    r.responded_at = at;
    if (!r.is_response_ok()) fail(r);
    r.progress.notify(delay);
    if (r.detached) r.release();
    return ::tlm::TLM_COMPLETED;  // END_RESP implied
  }
  return ::tlm::TLM_ACCEPTED;
}

void Host::write(Thread& th, std::uint64_t address, const void* data, unsigned length) {
  issue(th, ::tlm::TLM_WRITE_COMMAND, address, const_cast<void*>(data), length, true);
}

std::uint64_t Host::read_register(Thread& th, std::uint64_t address, unsigned length) {
  std::uint64_t value = 0;
  await(th, issue(th, ::tlm::TLM_READ_COMMAND, address, &value, length, false));
  return value;
}

// ---- the layer processes ---------------------------------------------------------------------

void Host::wait_for_input(Thread& th, long t) {
  const int L = config_.n_layers, l = th.layer;
  int source = -1;  // the layer whose outputs this token's inputs come from
  if (l > 0) {
    source = l - 1;
  } else if (config_.workload == Workload::decode && t > 0) {
    source = L - 1;
  }
  if (source < 0) return;
  auto& queue = published_[static_cast<std::size_t>(source)];
  if (queue.empty()) {
    th.qk.sync();
    while (queue.empty()) wait(*published_event_[static_cast<std::size_t>(source)]);
  }
  const sc_time ready = queue.front() + sc_time(config_.host_ns_per_layer, SC_NS);
  queue.pop_front();
  // The host's local time only moves forward.
  if (ready > local_now(th)) th.qk.set(ready - sc_core::sc_time_stamp());
}

void Host::reset_heads(Thread& th) {
  static const std::uint32_t reset = regs::kCtrlReset;
  for (int h = 0; h < config_.n_heads && ok(); ++h)
    write(th, head_address(th.layer, h) + regs::kCtrl, &reset, 4);
}

// The driver protocol for the command queue (REGISTER_MAP.md): a START goes out while the head
// has fewer than CMD_DEPTH tokens in flight (credits); beyond that the host polls STATUS.FULL,
// so that no START is ever refused.
void Host::wait_for_queue_room(Thread& th, int h) {
  if (th.in_flight[static_cast<std::size_t>(h)] < config_.command_queue) return;
  const sc_time interval(config_.poll_ns, SC_NS);
  while (ok() &&
         (read_register(th, head_address(th.layer, h) + regs::kStatus) & regs::kStatusFull)) {
    th.qk.inc(interval);
    if (config_.protocol == Protocol::approximately_timed) th.qk.sync();
  }
}

void Host::start_heads(Thread& th, long t) {
  const int l = th.layer;
  if (reset_heads_before && reset_heads_before(t, l)) reset_heads(th);
  const unsigned bytes = 8u * static_cast<unsigned>(config_.d_head);
  static const std::uint32_t start = regs::kCtrlStart;
  for (int h = 0; h < config_.n_heads && ok(); ++h) {
    const auto hh = static_cast<std::size_t>(h);
    source_(t, l, h, th.q[hh].data(), th.k[hh].data(), th.v[hh].data());
    const std::uint64_t base = head_address(l, h);
    write(th, base + regs::kKBuf, th.k[hh].data(), bytes);
    write(th, base + regs::kVBuf, th.v[hh].data(), bytes);
    write(th, base + regs::kQBuf, th.q[hh].data(), bytes);
    wait_for_queue_room(th, h);
    write(th, base + regs::kCtrl, &start, 4);
    ++th.in_flight[hh];
  }
}

void Host::wait_for_results(Thread& th) {
  const int l = th.layer;
  if (config_.completion == Completion::interrupt) {
    const std::uint64_t bit = 1ULL << l;
    write(th, global_address(regs::kIrqEnableSet), &bit, 8);
    th.qk.sync();
    while (!layer_irq_[static_cast<std::size_t>(l)] && ok())
      wait(*layer_irq_event_[static_cast<std::size_t>(l)]);
    layer_irq_[static_cast<std::size_t>(l)] = false;
    return;
  }
  const sc_time interval(config_.poll_ns, SC_NS);
  for (int h = 0; h < config_.n_heads && ok(); ++h) {
    while (ok() &&
           !(read_register(th, head_address(l, h) + regs::kStatus) & regs::kStatusOutValid)) {
      th.qk.inc(interval);
      if (config_.protocol == Protocol::approximately_timed) th.qk.sync();
    }
  }
}

void Host::collect(Thread& th, long t) {
  const int l = th.layer, H = config_.n_heads;
  wait_for_results(th);
  const unsigned bytes = 8u * static_cast<unsigned>(config_.d_head);
  // Every head's read goes out before any answer is awaited (AT: all outstanding at once).
  for (int h = 0; h < H && ok(); ++h) {
    th.reads[static_cast<std::size_t>(h)] =
        issue(th, ::tlm::TLM_READ_COMMAND, head_address(l, h) + regs::kOutBuf,
              th.out[static_cast<std::size_t>(h)].data(), bytes, false);
  }
  for (int h = 0; h < H && ok(); ++h) {
    await(th, th.reads[static_cast<std::size_t>(h)]);
    --th.in_flight[static_cast<std::size_t>(h)];
  }
  if (!ok()) return;
  for (int h = 0; h < H; ++h) {
    if (sink_) sink_(t, l, h, th.out[static_cast<std::size_t>(h)].data());
  }
  publish(l, t, local_now(th));
}

void Host::publish(int l, long t, const sc_time& at) {
  const int L = config_.n_layers;
  const bool consumed =
      l < L - 1 || (config_.workload == Workload::decode && t + 1 < config_.tokens);
  if (consumed) {
    published_[static_cast<std::size_t>(l)].push_back(at);
    published_event_[static_cast<std::size_t>(l)]->notify(SC_ZERO_TIME);
  }
  if (l == L - 1) {
    ++tokens_done_;
    finished_ = std::max(finished_, at);
    if (on_token) on_token(tokens_done_, at);
  }
}

void Host::layer_process(int l) {
  Thread& th = *threads_[static_cast<std::size_t>(l)];
  const bool prefill = config_.workload == Workload::prefill;
  const long T = config_.tokens;
  for (long t = 0; t < T && ok(); ++t) {
    wait_for_input(th, t);
    start_heads(th, t);
    if (!prefill) {
      collect(th, t);
    } else if (t > 0) {
      collect(th, t - 1);  // the results of the previous token, while this one computes
    }
  }
  if (prefill && T > 0 && ok()) collect(th, T - 1);
  th.qk.sync();
  if (l == config_.n_layers - 1) sc_core::sc_stop();
}

void Host::irq_dispatcher() {
  Thread& th = *threads_.back();
  for (;;) {
    if (!irq.read()) wait(irq.posedge_event());
    const std::uint64_t pending = read_register(th, global_address(regs::kIrqStatus), 8);
    if (pending == 0) {
      wait(irq.value_changed_event());
      continue;
    }
    // Masked until the layer's process has read its results and enables it again.
    write(th, global_address(regs::kIrqEnableClear), &pending, 8);
    th.qk.sync();
    // The line follows the mask two delta cycles later (the accelerator's update, then the
    // signal's); looking earlier would see the old level and read IRQ_STATUS for nothing.
    wait(SC_ZERO_TIME);
    wait(SC_ZERO_TIME);
    for (int l = 0; l < config_.n_layers; ++l) {
      if (!(pending & (1ULL << l))) continue;
      layer_irq_[static_cast<std::size_t>(l)] = true;
      layer_irq_event_[static_cast<std::size_t>(l)]->notify(SC_ZERO_TIME);
    }
  }
}

}  // namespace gca::tlm
