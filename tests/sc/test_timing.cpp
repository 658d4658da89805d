// Token timing from the phases: 65 ns per token per layer with the default parameters, the
// overlap of the next token's write with the current token's digital phase in prefill, and
// decode vs prefill for a two-layer model worked out by hand.
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace sc = gca::sc;
namespace gtlm = gca::tlm;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

struct RunResult {
  std::vector<std::vector<gtlm::OutputTiming>> timing;  // [layer][token], head 0
  sc_time finished;
};

void run(const std::vector<std::string>& overrides, long tokens, gtlm::Workload w, gtlm::Protocol p,
         double host_ns, RunResult& r) {
  // These tests check the scheduling of given phases: the digital phase is pinned to 15 ns
  // (its derivation from the adder tree is tested in tests/power).
  std::vector<std::string> all = overrides;
  all.insert(all.begin(), "timing.phase_digital_ns=15");
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), all);
  gtlm::HostConfig hc;
  hc.tokens = tokens;
  hc.workload = w;
  hc.protocol = p;
  hc.host_ns_per_layer = host_ns;
  r.timing.assign(s.model.n_layers, {});
  gtlm::System sys(
      "system", s, hc,
      [](long, int, int, double* q, double* k, double* v) {
        for (int i = 0; i < 64; ++i) q[i] = 0.5, k[i] = 0.3, v[i] = 0.6;
      },
      [&](long, int l, int h, const double*, const gtlm::OutputTiming& t) {
        if (h == 0) r.timing[l].push_back(t);
      });
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.ok()) << sys.host.error();
  r.finished = sys.host.finished();
}

// Exact for the default picosecond resolution.
double ns(const sc_time& t) {
  return t.value() / 1000.0;
}

TEST(Timing, DecodeOneLayerTakes65nsPerToken) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  run({"window=128", "model.n_layers=1"}, 10, gtlm::Workload::decode, gtlm::Protocol::loosely_timed,
      0, r);
  ASSERT_EQ(r.timing[0].size(), 10u);
  for (int t = 0; t < 10; ++t) {
    EXPECT_DOUBLE_EQ(ns(r.timing[0][t].start), 65.0 * t);
    EXPECT_DOUBLE_EQ(ns(r.timing[0][t].done), 65.0 * (t + 1));  // 5 + 15 + 15 + 15 + 15
  }
  EXPECT_DOUBLE_EQ(ns(r.finished), 650.0);
}

TEST(Timing, PhasesAreParameters) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  // Longer pulses and a write longer than the precharge: 12 + 20 + 20 + 15 + 15 = 82 ns.
  run({"window=64", "model.n_layers=1", "timing.t_max_ns=20", "timing.phase_q_ns=20",
       "timing.phase_phi_ns=20", "timing.write_ns=12"},
      4, gtlm::Workload::decode, gtlm::Protocol::loosely_timed, 0, r);
  EXPECT_DOUBLE_EQ(ns(r.timing[0][3].done), 4 * 82.0);
}

TEST(Timing, PrefillOverlapsTheNextWriteWithTheDigitalPhase) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  run({"window=128", "model.n_layers=1"}, 10, gtlm::Workload::prefill,
      gtlm::Protocol::loosely_timed, 0, r);
  // Analog phases 5 + 15 + 15 + 15 = 50 ns; the digital sum (15 ns) of token t overlaps the
  // precharge/write and Q pulses of token t + 1.
  for (int t = 0; t < 10; ++t) {
    EXPECT_DOUBLE_EQ(ns(r.timing[0][t].start), 50.0 * t);
    EXPECT_DOUBLE_EQ(ns(r.timing[0][t].done), 50.0 * t + 65.0);
    if (t > 0) {
      EXPECT_LT(r.timing[0][t].start, r.timing[0][t - 1].done);
    }
  }
  EXPECT_DOUBLE_EQ(ns(r.finished), 65.0 + 9 * 50.0);
}

// Two layers, 20 ns of host work between layers, three tokens.
// Decode: each token goes through L0 (65), host (20), L1 (65), host (20) before the next:
//   token 0 done at 150, token 1 enters at 170 and is done at 320, token 2 at 490.
TEST(Timing, DecodeTwoLayersByHand) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  run({"window=64", "model.n_layers=2"}, 3, gtlm::Workload::decode, gtlm::Protocol::loosely_timed,
      20, r);
  const double l0_done[] = {65, 235, 405}, l1_start[] = {85, 255, 425}, l1_done[] = {150, 320, 490};
  for (int t = 0; t < 3; ++t) {
    EXPECT_DOUBLE_EQ(ns(r.timing[0][t].done), l0_done[t]);
    EXPECT_DOUBLE_EQ(ns(r.timing[1][t].start), l1_start[t]);
    EXPECT_DOUBLE_EQ(ns(r.timing[1][t].done), l1_done[t]);
  }
  EXPECT_DOUBLE_EQ(ns(r.finished), 490.0);
}

// Prefill: layer 0 takes a token every 50 ns (done at 65, 115, 165); layer 1 takes token t
// 20 ns after layer 0 is done with it, once its own analog phases are free:
//   token 0: 85 -> 150; token 1: 135 -> 200; token 2: 185 -> 250.
TEST(Timing, PrefillTwoLayersByHand) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  run({"window=64", "model.n_layers=2"}, 3, gtlm::Workload::prefill, gtlm::Protocol::loosely_timed,
      20, r);
  const double l0_done[] = {65, 115, 165}, l1_start[] = {85, 135, 185}, l1_done[] = {150, 200, 250};
  for (int t = 0; t < 3; ++t) {
    EXPECT_DOUBLE_EQ(ns(r.timing[0][t].done), l0_done[t]);
    EXPECT_DOUBLE_EQ(ns(r.timing[1][t].start), l1_start[t]);
    EXPECT_DOUBLE_EQ(ns(r.timing[1][t].done), l1_done[t]);
  }
  EXPECT_DOUBLE_EQ(ns(r.finished), 250.0);
}

TEST(Timing, ApproximatelyTimedDecodeShowsTheSameTiming) {
  GCA_REQUIRE_FRESH_KERNEL();
  RunResult r;
  run({"window=64", "model.n_layers=2"}, 3, gtlm::Workload::decode,
      gtlm::Protocol::approximately_timed, 20, r);
  const double l1_done[] = {150, 320, 490};
  for (int t = 0; t < 3; ++t) EXPECT_DOUBLE_EQ(ns(r.timing[1][t].done), l1_done[t]);
  EXPECT_DOUBLE_EQ(ns(r.finished), 490.0);
}

}  // namespace

GCA_SC_MAIN
