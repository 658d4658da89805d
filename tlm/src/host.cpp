#include "gca/tlm/host.hpp"

#include <algorithm>
#include <sstream>

#include "gca/spec/register_map.hpp"

namespace gca::tlm {

namespace regs = gca::spec::regs;
using sc_core::SC_NS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

Host::Host(sc_core::sc_module_name name, const HostConfig& config, TokenSource source,
           OutputSink sink)
    : sc_module(name),
      socket("socket"),
      config_(config),
      source_(std::move(source)),
      sink_(std::move(sink)) {
  socket.register_nb_transport_bw(this, &Host::nb_transport_bw);
  SC_THREAD(run);
}

void Host::sync_to(const sc_time& t) {
  const sc_time now = sc_core::sc_time_stamp();
  if (t > now) wait(t - now);
}

::tlm::tlm_sync_enum Host::nb_transport_bw(::tlm::tlm_generic_payload&, ::tlm::tlm_phase& phase,
                                           sc_time& delay) {
  if (phase == ::tlm::BEGIN_RESP) {
    response_.notify(delay);
    phase = ::tlm::END_RESP;
    return ::tlm::TLM_COMPLETED;
  }
  return ::tlm::TLM_ACCEPTED;
}

sc_time Host::transport(::tlm::tlm_command cmd, std::uint64_t address, void* data, unsigned length,
                        const sc_time& at) {
  trans_.set_command(cmd);
  trans_.set_address(address);
  trans_.set_data_ptr(static_cast<unsigned char*>(data));
  trans_.set_data_length(length);
  trans_.set_streaming_width(length);
  trans_.set_byte_enable_ptr(nullptr);
  trans_.set_dmi_allowed(false);
  trans_.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time done;
  if (config_.protocol == Protocol::loosely_timed) {
    sc_time delay = at - sc_core::sc_time_stamp();
    socket->b_transport(trans_, delay);
    done = sc_core::sc_time_stamp() + delay;
  } else {
    sync_to(at);
    ::tlm::tlm_phase phase = ::tlm::BEGIN_REQ;
    sc_time delay = SC_ZERO_TIME;
    ::tlm::tlm_sync_enum s = socket->nb_transport_fw(trans_, phase, delay);
    if (s == ::tlm::TLM_COMPLETED) {
      wait(delay);
    } else if (!(s == ::tlm::TLM_UPDATED && phase == ::tlm::BEGIN_RESP)) {
      wait(response_);
    } else {
      wait(delay);
      ::tlm::tlm_phase end = ::tlm::END_RESP;
      sc_time zero = SC_ZERO_TIME;
      socket->nb_transport_fw(trans_, end, zero);
    }
    done = sc_core::sc_time_stamp();
  }
  if (!trans_.is_response_ok() && error_.empty()) {
    std::ostringstream os;
    os << "transaction to 0x" << std::hex << address << std::dec
       << " failed: " << trans_.get_response_string();
    error_ = os.str();
  }
  return done;
}

void Host::run() {
  const int L = config_.n_layers, H = config_.n_heads, d = config_.d_head;
  const sc_time host_gap(config_.host_ns_per_layer, SC_NS);
  const sc_time quantum(config_.quantum_ns, SC_NS);
  std::vector<double> q(d), k(d), v(d), out(d);
  std::vector<sc_time> cursor(L, SC_ZERO_TIME);  // prefill: when layer l may take the next token
  std::vector<sc_time> started(H);
  sc_time next_token_at = SC_ZERO_TIME;  // decode: when token t may enter layer 0
  sc_time synced = SC_ZERO_TIME;
  sc_time last_done = SC_ZERO_TIME;  // when the latest token left the last layer
  tokens_done_ = 0;
  for (long t = 0; t < config_.tokens && ok(); ++t) {
    sc_time ready = config_.workload == Workload::decode ? next_token_at : cursor[0];
    for (int l = 0; l < L && ok(); ++l) {
      sc_time at = std::max(ready, config_.workload == Workload::prefill ? cursor[l] : ready);
      // All heads of the layer get their inputs and START at the same time.
      sc_time layer_start = at;
      for (int h = 0; h < H && ok(); ++h) {
        source_(t, l, h, q.data(), k.data(), v.data());
        const std::uint64_t base = regs::head_base(l, h);
        transport(::tlm::TLM_WRITE_COMMAND, base + regs::kKBuf, k.data(), 8 * d, at);
        transport(::tlm::TLM_WRITE_COMMAND, base + regs::kVBuf, v.data(), 8 * d, at);
        transport(::tlm::TLM_WRITE_COMMAND, base + regs::kQBuf, q.data(), 8 * d, at);
        std::uint64_t start = regs::kCtrlStart;
        started[h] = transport(::tlm::TLM_WRITE_COMMAND, base + regs::kCtrl, &start, 8, at);
        layer_start = std::max(layer_start, started[h]);
      }
      sc_time layer_done = layer_start;
      for (int h = 0; h < H && ok(); ++h) {
        const sc_time done =
            transport(::tlm::TLM_READ_COMMAND, regs::head_base(l, h) + regs::kOutBuf, out.data(),
                      8 * d, layer_start);
        layer_done = std::max(layer_done, done);
        if (sink_) sink_(t, l, h, out.data(), OutputTiming{started[h], done});
      }
      cursor[l] = layer_start;  // the next token may enter this layer once this one was taken
      ready = layer_done + host_gap;
    }
    last_done = std::max(last_done, ready - host_gap);
    ++tokens_done_;
    next_token_at = ready;
    // Temporal decoupling: let the kernel catch up only once per quantum, and never beyond a
    // time at which a later transaction may still be issued.
    sc_time horizon = config_.workload == Workload::decode ? next_token_at : cursor[0];
    if (horizon - synced >= quantum && t + 1 < config_.tokens) {
      if (config_.protocol == Protocol::loosely_timed) sync_to(horizon);
      synced = sc_core::sc_time_stamp();
    }
    if (on_token) on_token(t + 1, ready - host_gap);
  }
  sync_to(last_done);
  finished_ = sc_core::sc_time_stamp();
  sc_core::sc_stop();
}

}  // namespace gca::tlm
