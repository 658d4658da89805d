// The heads' numerics run a token ahead of the simulation only with the inputs the host will
// write: a platform whose input function differs from the host's source gets an error naming
// the head and the token, never a silently wrong result; where the inputs agree, every output
// is the one the forked numerics give (tests/tb/test_cli_timed.cpp compares whole runs).
#include <atomic>
#include <string>

#include "gca/spec/error.hpp"
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace gtlm = gca::tlm;

namespace {

void stimulus(long t, int l, int h, double* q, double* k, double* v) {
  for (int i = 0; i < 64; ++i) {
    q[i] = 0.1 + 0.8 * ((t * 7 + l * 3 + h + i) % 11) / 10.0;
    k[i] = 0.05 + 0.8 * ((t * 5 + h + 2 * i) % 13) / 12.0;
    v[i] = 0.05 + 0.8 * ((t * 3 + l + i) % 7) / 6.0;
  }
}

struct Outcome {
  bool threw = false;
  std::string message;
  bool ahead = false;
  long tokens_done = 0;
};

// 2 layers of 3 heads, window 32, 40 decode tokens on 2 threads; the accelerator's ahead input
// function is `ahead`.
Outcome run(gca::sc::NumericsAhead::Inputs ahead) {
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(),
                                         {"window=32", "model.n_layers=2", "model.n_heads=3"});
  gtlm::HostConfig hc;
  hc.tokens = 40;
  hc.workload = gtlm::Workload::decode;
  gtlm::System sys("system", s, hc, stimulus, nullptr, nullptr, 2);
  sys.accelerator.run_numerics_ahead(std::move(ahead), hc.tokens);
  Outcome o;
  try {
    sc_core::sc_start();
  } catch (const std::exception& e) {
    o.threw = true;
    o.message = e.what();
  }
  o.ahead = sys.accelerator.numerics_ahead();
  o.tokens_done = sys.host.tokens_done();
  return o;
}

// Every token the host sends is computed ahead, and none past them (a stimulus file may end
// there).
TEST(NumericsAhead, RunsWithTheHostsInputsAndNoTokenPastThem) {
  GCA_REQUIRE_FRESH_KERNEL();
  static std::atomic<long> last{-1};
  const Outcome o = run([](long t, int l, int h, double* q, double* k, double* v) {
    for (long seen = last.load(); t > seen && !last.compare_exchange_weak(seen, t);) {
    }
    stimulus(t, l, h, q, k, v);
  });
  EXPECT_FALSE(o.threw) << o.message;
  EXPECT_TRUE(o.ahead);
  EXPECT_EQ(o.tokens_done, 40);
  EXPECT_EQ(last.load(), 39);
}

TEST(NumericsAhead, OtherInputsThanTheHostsAreAnError) {
  GCA_REQUIRE_FRESH_KERNEL();
  const Outcome o = run([](long t, int l, int h, double* q, double* k, double* v) {
    stimulus(t, l, h, q, k, v);
    if (t == 17 && l == 1 && h == 2) k[5] += 1e-3;
  });
  ASSERT_TRUE(o.threw);
  EXPECT_NE(o.message.find("layer1.head2"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("numerics ahead"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("token 17"), std::string::npos) << o.message;
}

}  // namespace

GCA_SC_MAIN
