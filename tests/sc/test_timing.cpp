// Token timing lived by the control processes, against values worked out by hand from the
// phases (precharge + write 5 ns, Q 15, phi 15, count 15, digital 15): 65 ns per token per layer
// in decode; in prefill the next token enters the analog phases when the current one leaves
// them (every 50 ns); loosely and approximately timed give the same times; host time and a
// finite host link add what they should.
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace sc = gca::sc;
namespace gtlm = gca::tlm;
using sc_core::sc_time;

namespace {

struct RunResult {
  std::vector<std::vector<sc::TokenTimes>> times;  // [layer][token], head 0
  sc_time finished;
  long tokens_done = 0;
};

struct RunSpec {
  std::vector<std::string> overrides;
  long tokens = 10;
  gtlm::Workload workload = gtlm::Workload::decode;
  gtlm::Protocol protocol = gtlm::Protocol::loosely_timed;
  gtlm::Completion completion = gtlm::Completion::interrupt;
  double host_ns = 0.0;
  double poll_ns = 5.0;
};

void run(const RunSpec& rs, RunResult& r) {
  // These tests check the scheduling of given phases: the digital phase is pinned to 15 ns
  // (its derivation from the adder tree is tested in tests/power).
  std::vector<std::string> all = rs.overrides;
  all.insert(all.begin(), "timing.phase_digital_ns=15");
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), all);
  gtlm::HostConfig hc;
  hc.tokens = rs.tokens;
  hc.workload = rs.workload;
  hc.protocol = rs.protocol;
  hc.completion = rs.completion;
  hc.host_ns_per_layer = rs.host_ns;
  hc.poll_ns = rs.poll_ns;
  r.times.assign(s.model.n_layers, {});
  gtlm::System sys(
      "system", s, hc,
      [](long, int, int, double* q, double* k, double* v) {
        for (int i = 0; i < 64; ++i) q[i] = 0.5, k[i] = 0.3, v[i] = 0.6;
      },
      nullptr);
  for (int l = 0; l < s.model.n_layers; ++l) {
    sys.accelerator.head(l, 0).result_observer = [&r, l](const sc::HeadResult& res) {
      r.times[l].push_back(res.times);
    };
  }
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.ok()) << sys.host.error();
  r.finished = sys.host.finished();
  r.tokens_done = sys.host.tokens_done();
}

double ns(const sc_time& t) {
  return t.to_seconds() * 1e9;
}

// period: from one token's START to the next (65 ns, or the first poll after the done).
void expect_decode_one_layer(gtlm::Protocol p, gtlm::Completion c, double period = 65.0,
                             double poll_ns = 4.0) {
  RunResult r;
  RunSpec rs;
  rs.overrides = {"window=128", "model.n_layers=1", "model.n_heads=3"};
  rs.protocol = p;
  rs.completion = c;
  rs.poll_ns = poll_ns;
  run(rs, r);
  ASSERT_EQ(r.times[0].size(), 10u);
  for (int t = 0; t < 10; ++t) {
    EXPECT_NEAR(ns(r.times[0][t].arrival), period * t, 1e-9);
    EXPECT_NEAR(ns(r.times[0][t].q_start), period * t + 5.0, 1e-9);
    EXPECT_NEAR(ns(r.times[0][t].count_end), period * t + 50.0, 1e-9);
    EXPECT_NEAR(ns(r.times[0][t].done), period * t + 65.0, 1e-9);
  }
  EXPECT_NEAR(ns(r.finished), period * 9 + (period > 65.0 ? period : 65.0), 1e-9);
}

TEST(Timing, DecodeOneLayerTakes65nsPerTokenLT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_decode_one_layer(gtlm::Protocol::loosely_timed, gtlm::Completion::interrupt);
}

TEST(Timing, DecodeOneLayerTakes65nsPerTokenAT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_decode_one_layer(gtlm::Protocol::approximately_timed, gtlm::Completion::interrupt);
}

TEST(Timing, DecodePollingEvery4nsSeesTheResultAtTheNextPoll) {
  GCA_REQUIRE_FRESH_KERNEL();
  // Polls at 0, 4, ..., 64, 68: the result of 65 ns is seen at 68, the next token starts then.
  expect_decode_one_layer(gtlm::Protocol::loosely_timed, gtlm::Completion::poll, 68.0);
}

// Polls at 0, 5, ..., 65: the poll of 65 ns lands on the instant the result is delivered and
// sees it (results come before same-instant reads), in both protocols.
TEST(Timing, DecodePollingOnTheInstantOfDeliverySeesTheResultLT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_decode_one_layer(gtlm::Protocol::loosely_timed, gtlm::Completion::poll, 65.0, 5.0);
}

TEST(Timing, DecodePollingOnTheInstantOfDeliverySeesTheResultAT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_decode_one_layer(gtlm::Protocol::approximately_timed, gtlm::Completion::poll, 65.0, 5.0);
}

// Two layers, prefill, window 64. By hand: layer 0 takes token t into its analog phases at
// 50 t (each token leaves them 50 ns after entering) and delivers it at 50 t + 65; layer 1 gets
// it then, and delivers at 50 t + 130. The run ends with the last token: 50 (T-1) + 130.
// Polling every 5 ns sees each result at its delivery (every time here is a multiple of 5 ns).
void expect_prefill_two_layers(gtlm::Protocol p, gtlm::Completion c = gtlm::Completion::interrupt) {
  RunResult r;
  RunSpec rs;
  rs.completion = c;
  rs.poll_ns = 5.0;
  rs.overrides = {"window=64", "model.n_layers=2", "model.n_heads=3"};
  rs.tokens = 40;
  rs.workload = gtlm::Workload::prefill;
  rs.protocol = p;
  run(rs, r);
  ASSERT_EQ(r.times[1].size(), 40u);
  for (int t = 0; t < 40; ++t) {
    EXPECT_NEAR(ns(r.times[0][t].write_start), 50.0 * t, 1e-9) << "t=" << t;
    EXPECT_NEAR(ns(r.times[0][t].done), 50.0 * t + 65.0, 1e-9) << "t=" << t;
    EXPECT_NEAR(ns(r.times[1][t].write_start), 50.0 * t + 65.0, 1e-9) << "t=" << t;
    EXPECT_NEAR(ns(r.times[1][t].done), 50.0 * t + 130.0, 1e-9) << "t=" << t;
  }
  EXPECT_NEAR(ns(r.finished), 50.0 * 39 + 130.0, 1e-9);
}

TEST(Timing, PrefillTwoLayersPipelineLT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_prefill_two_layers(gtlm::Protocol::loosely_timed);
}

TEST(Timing, PrefillTwoLayersPipelineAT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_prefill_two_layers(gtlm::Protocol::approximately_timed);
}

TEST(Timing, PrefillTwoLayersPipelinePollingLT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_prefill_two_layers(gtlm::Protocol::loosely_timed, gtlm::Completion::poll);
}

TEST(Timing, PrefillTwoLayersPipelinePollingAT) {
  GCA_REQUIRE_FRESH_KERNEL();
  expect_prefill_two_layers(gtlm::Protocol::approximately_timed, gtlm::Completion::poll);
}

// A write longer than the precharge holds back the Q pulses: 12 + 15 + 15 + 15 + 15 = 72 ns.
TEST(Timing, LongWriteDelaysTheToken) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  RunSpec rs;
  rs.overrides = {"window=64", "model.n_layers=1", "model.n_heads=1", "timing.write_ns=12"};
  run(rs, r);
  EXPECT_NEAR(ns(r.times[0][3].done) - ns(r.times[0][3].arrival), 72.0, 1e-9);
  EXPECT_NEAR(ns(r.finished), 720.0, 1e-9);
}

// Decode with 100 ns of host time between layers (and between the last layer of a token and the
// first of the next): a token takes 2 x (65 + 100) = 330 ns; the run ends at the last token's
// done in layer 1: 330 (T-1) + 65 + 100 + 65.
TEST(Timing, HostTimeBetweenLayers) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  RunSpec rs;
  rs.overrides = {"window=64", "model.n_layers=2", "model.n_heads=2"};
  rs.host_ns = 100.0;
  run(rs, r);
  for (int t = 0; t < 10; ++t) {
    EXPECT_NEAR(ns(r.times[0][t].arrival), 330.0 * t, 1e-9);
    EXPECT_NEAR(ns(r.times[1][t].arrival), 330.0 * t + 165.0, 1e-9);
  }
  EXPECT_NEAR(ns(r.finished), 330.0 * 9 + 230.0, 1e-9);
}

// A finite link, by hand: 1 layer, 1 head, d 64, codes (3-bit K and V: 24 B each, 4-bit Q:
// 32 B, CTRL 4 B, IRQ enable 8 B; result: 64 signed sums of 2 sub-tiles' counters of 32 levels,
// in [-62, 62] steps: 125 values in 7 bits = 56 B; the interrupt dispatcher reads IRQ_STATUS and
// writes IRQ_ENABLE_CLEAR, 8 B each) at 8 B/ns.
// START arrives after K, V, Q and CTRL: (24 + 24 + 32 + 4) / 8 = 10.5 ns.
TEST(Timing, LinkBytesTakeTheirTime) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  RunSpec rs;
  rs.overrides = {"window=128", "model.n_layers=1", "model.n_heads=1", "host_link.bytes_per_ns=8"};
  rs.tokens = 3;
  run(rs, r);
  EXPECT_NEAR(ns(r.times[0][0].arrival), 10.5, 1e-9);
  EXPECT_NEAR(ns(r.times[0][0].done), 10.5 + 65.0, 1e-9);
  // After done: IRQ enable (written at 11.5 ns, long before), the dispatcher's IRQ_STATUS read
  // and IRQ_ENABLE_CLEAR write (1 ns each), the 56-byte result (7 ns): token 1 starts at 84.5 ns
  // and its START arrives 10.5 ns later.
  EXPECT_NEAR(ns(r.times[0][1].arrival), 75.5 + 1.0 + 1.0 + 7.0 + 10.5, 1e-9);
}

}  // namespace

GCA_SC_MAIN
