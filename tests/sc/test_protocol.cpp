// TLM-2.0 base-protocol conformance of both hops (host -> link, link -> accelerator), seen by a
// pass-through monitor inserted with the system builder's interconnect hook: phase sequences per
// transaction, request and response exclusion, effective times never decreasing (along each
// transaction's phases for nb_transport, across the call for b_transport), memory-manager reference
// counts, and every b_transport answered with a status. Loosely and approximately timed, decode and
// prefill, interrupt and polling, ideal and finite link.
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <map>
#include <memory>
#include <sstream>

#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace gtlm = gca::tlm;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

class ProtocolMonitor : public sc_core::sc_module {
 public:
  explicit ProtocolMonitor(sc_core::sc_module_name n)
      : sc_module(n), target("target"), initiator("initiator") {
    target.register_b_transport(this, &ProtocolMonitor::b_transport);
    target.register_nb_transport_fw(this, &ProtocolMonitor::nb_transport_fw);
    target.register_transport_dbg(this, &ProtocolMonitor::transport_dbg);
    initiator.register_nb_transport_bw(this, &ProtocolMonitor::nb_transport_bw);
  }
  tlm_utils::simple_target_socket<ProtocolMonitor> target;
  tlm_utils::simple_initiator_socket<ProtocolMonitor> initiator;

  std::vector<std::string> errors;
  long checks = 0, b_calls = 0, nb_transactions = 0;
  // Transactions whose phase sequence has not ended (checked at the end of the run).
  std::size_t open_transactions() const { return state_.size(); }

 private:
  enum class State { request, response_wait, response };

  void check(bool ok, const std::string& what) {
    ++checks;
    if (!ok && errors.size() < 20) errors.push_back(std::string(name()) + ": " + what);
  }
  void check_mm(const tlm::tlm_generic_payload& t, const char* where) {
    check(t.has_mm() && t.get_ref_count() > 0,
          std::string(where) + ": a pooled transaction with a reference held");
  }
  // The effective time (kernel time + annotation) of a transaction's successive phases.
  void check_time(const tlm::tlm_generic_payload& t, const sc_time& delay, const char* where) {
    const sc_time at = sc_core::sc_time_stamp() + delay;
    auto it = last_time_.find(&t);
    if (it != last_time_.end()) check(at >= it->second, std::string(where) + ": time went back");
    last_time_[&t] = at;
  }

  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    ++b_calls;
    const sc_time before = sc_core::sc_time_stamp() + delay;
    check(t.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE,
          "b_transport: a request arrives with TLM_INCOMPLETE_RESPONSE");
    initiator->b_transport(t, delay);
    check(sc_core::sc_time_stamp() + delay >= before, "b_transport: annotated time went back");
    check(t.get_response_status() != tlm::TLM_INCOMPLETE_RESPONSE,
          "b_transport: returned without a response status");
  }

  unsigned transport_dbg(tlm::tlm_generic_payload& t) { return initiator->transport_dbg(t); }

  // Forward path: BEGIN_REQ and END_RESP.
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                     sc_time& delay) {
    check_mm(t, "nb_transport_fw");
    if (phase == tlm::BEGIN_REQ) last_time_.erase(&t);  // a new transaction (pooled payloads)
    check_time(t, delay, "nb_transport_fw");
    if (phase == tlm::BEGIN_REQ) {
      ++nb_transactions;
      check(state_.find(&t) == state_.end(), "BEGIN_REQ of a transaction already in flight");
      check(request_open_ == nullptr, "BEGIN_REQ before the previous request's END_REQ");
      state_[&t] = State::request;
      request_open_ = &t;
    } else if (phase == tlm::END_RESP) {
      check(state_.count(&t) && state_[&t] == State::response, "END_RESP without BEGIN_RESP");
      finish(t);
    } else {
      check(false, "nb_transport_fw with a phase other than BEGIN_REQ or END_RESP");
    }
    const tlm::tlm_sync_enum s = initiator->nb_transport_fw(t, phase, delay);
    after_return(t, phase, s, delay, /*forward=*/true);
    return s;
  }

  // Backward path: END_REQ and BEGIN_RESP.
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                     sc_time& delay) {
    check_mm(t, "nb_transport_bw");
    check_time(t, delay, "nb_transport_bw");
    on_backward_phase(t, phase);
    const tlm::tlm_sync_enum s = target->nb_transport_bw(t, phase, delay);
    after_return(t, phase, s, delay, /*forward=*/false);
    return s;
  }

  void on_backward_phase(tlm::tlm_generic_payload& t, const tlm::tlm_phase& phase) {
    const bool known = state_.count(&t) > 0;
    if (phase == tlm::END_REQ) {
      check(known && state_[&t] == State::request, "END_REQ outside the request phase");
      if (request_open_ == &t) request_open_ = nullptr;
      state_[&t] = State::response_wait;
    } else if (phase == tlm::BEGIN_RESP) {
      check(known, "BEGIN_RESP of an unknown transaction");
      check(response_open_ == nullptr, "BEGIN_RESP before the previous response's END_RESP");
      if (request_open_ == &t) request_open_ = nullptr;  // BEGIN_RESP implies END_REQ
      state_[&t] = State::response;
      response_open_ = &t;
    } else {
      check(false, "nb_transport_bw with a phase other than END_REQ or BEGIN_RESP");
    }
  }

  // What a return value says about the phase sequence.
  void after_return(tlm::tlm_generic_payload& t, const tlm::tlm_phase& phase, tlm::tlm_sync_enum s,
                    const sc_time& delay, bool forward) {
    if (s == tlm::TLM_ACCEPTED) return;
    check_time(t, delay, forward ? "nb_transport_fw return" : "nb_transport_bw return");
    if (s == tlm::TLM_COMPLETED) {
      finish(t);
      return;
    }
    // TLM_UPDATED: the callee moved the phase on.
    if (forward) {
      on_backward_phase(t, phase);
    } else if (phase == tlm::END_RESP) {
      finish(t);
    }
  }

  void finish(tlm::tlm_generic_payload& t) {
    if (request_open_ == &t) request_open_ = nullptr;
    if (response_open_ == &t) response_open_ = nullptr;
    state_.erase(&t);
  }

  std::map<const tlm::tlm_generic_payload*, State> state_;
  const tlm::tlm_generic_payload* request_open_ = nullptr;
  const tlm::tlm_generic_payload* response_open_ = nullptr;
  std::map<const tlm::tlm_generic_payload*, sc_time> last_time_;
};

struct Case {
  gtlm::Protocol protocol;
  gtlm::Workload workload;
  gtlm::Completion completion;
  bool finite_link;
};

void run_checked(const Case& c) {
  std::vector<std::string> o{"window=16", "model.n_layers=2", "model.n_heads=3", "model.d_head=8"};
  if (c.finite_link) {
    o.push_back("host_link.bytes_per_ns=4");
    o.push_back("host_link.latency_ns=3");
  }
  const spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), o);
  gtlm::HostConfig hc;
  hc.tokens = 24;
  hc.workload = c.workload;
  hc.protocol = c.protocol;
  hc.completion = c.completion;
  std::vector<std::unique_ptr<ProtocolMonitor>> monitors;
  gtlm::Interconnect hook = [&monitors](const char* hop, tlm::tlm_initiator_socket<>& from,
                                        tlm::tlm_target_socket<>& to) {
    monitors.push_back(std::make_unique<ProtocolMonitor>(hop));
    from.bind(monitors.back()->target);
    monitors.back()->initiator.bind(to);
  };
  long outputs = 0;
  gtlm::System sys(
      "system", s, hc,
      [](long t, int l, int h, double* q, double* k, double* v) {
        for (int i = 0; i < 8; ++i)
          q[i] = ((t + i + h) % 16) / 15.0, k[i] = 0.1 + 0.1 * ((i + l) % 7), v[i] = 0.3;
      },
      [&outputs](long, int, int, const double*) { ++outputs; }, nullptr, 1, hook);
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.ok()) << sys.host.error();
  EXPECT_EQ(outputs, 24L * 2 * 3);
  ASSERT_EQ(monitors.size(), 2u);
  for (const auto& m : monitors) {
    for (const std::string& e : m->errors) ADD_FAILURE() << e;
    EXPECT_EQ(m->open_transactions(), 0u) << m->name() << ": transactions left unfinished";
    EXPECT_GT(m->checks, 100) << m->name();
    if (c.protocol == gtlm::Protocol::loosely_timed) {
      EXPECT_GT(m->b_calls, 0) << m->name();
    } else {
      EXPECT_GT(m->nb_transactions, 0) << m->name();
    }
  }
}

TEST(Protocol, LooselyTimedDecodeInterrupt) {
  GCA_REQUIRE_FRESH_KERNEL();
  run_checked(
      {gtlm::Protocol::loosely_timed, gtlm::Workload::decode, gtlm::Completion::interrupt, false});
}
TEST(Protocol, LooselyTimedPrefillPollFiniteLink) {
  GCA_REQUIRE_FRESH_KERNEL();
  run_checked(
      {gtlm::Protocol::loosely_timed, gtlm::Workload::prefill, gtlm::Completion::poll, true});
}
TEST(Protocol, ApproximatelyTimedDecodeInterrupt) {
  GCA_REQUIRE_FRESH_KERNEL();
  run_checked({gtlm::Protocol::approximately_timed, gtlm::Workload::decode,
               gtlm::Completion::interrupt, false});
}
TEST(Protocol, ApproximatelyTimedDecodePollFiniteLink) {
  GCA_REQUIRE_FRESH_KERNEL();
  run_checked(
      {gtlm::Protocol::approximately_timed, gtlm::Workload::decode, gtlm::Completion::poll, true});
}
TEST(Protocol, ApproximatelyTimedPrefillInterrupt) {
  GCA_REQUIRE_FRESH_KERNEL();
  run_checked({gtlm::Protocol::approximately_timed, gtlm::Workload::prefill,
               gtlm::Completion::interrupt, false});
}
TEST(Protocol, ApproximatelyTimedPrefillPollFiniteLink) {
  GCA_REQUIRE_FRESH_KERNEL();
  run_checked(
      {gtlm::Protocol::approximately_timed, gtlm::Workload::prefill, gtlm::Completion::poll, true});
}

}  // namespace

GCA_SC_MAIN
