// The SystemC/TLM model against the oracle (rtl_spec OracleHead: plain double-precision code that
// shares no kernel with the model) on random token streams, in decode and prefill, loosely and
// approximately timed: every output of every head and layer must agree within the oracle's
// allowance (a one-level counter flip where the exact value lies at a decision boundary).
#include <random>

#include "gca/spec/oracle_head.hpp"
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace gtlm = gca::tlm;

namespace {

struct Case {
  const char* name;
  std::vector<std::string> overrides;
  long tokens;
  gtlm::Workload workload;
  gtlm::Protocol protocol;
};

// Deterministic data per (token, layer, head), independent of the order of the calls.
void make_token(long t, int l, int h, int d, double* q, double* k, double* v) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 1000003u + l * 1009u + h);
  std::uniform_real_distribution<double> uq(-0.05, 1.05), ukv(-0.05, 0.95);
  for (int i = 0; i < d; ++i) q[i] = uq(rng), k[i] = ukv(rng), v[i] = ukv(rng);
}

class ModelVsOracle : public ::testing::TestWithParam<Case> {};

TEST_P(ModelVsOracle, EveryOutputAgreesWithTheOracle) {
  GCA_REQUIRE_FRESH_KERNEL();
  const Case& c = GetParam();
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), c.overrides);
  const int L = s.model.n_layers, H = s.model.n_heads, d = s.model.d_head;
  std::vector<spec::OracleHead> oracle;
  for (int i = 0; i < L * H; ++i) oracle.emplace_back(s, i);
  // The simulated time each head wrote and read the token it last delivered.
  std::vector<double> token_ns(std::size_t(L) * H, 0.0);
  long checked = 0, flips = 0;
  gtlm::HostConfig hc;
  hc.tokens = c.tokens;
  hc.workload = c.workload;
  hc.protocol = c.protocol;
  gtlm::System sys(
      "system", s, hc,
      [d](long t, int l, int h, double* q, double* k, double* v) {
        make_token(t, l, h, d, q, k, v);
      },
      [&](long t, int l, int h, const double* out) {
        std::vector<double> q(d), k(d), v(d);
        make_token(t, l, h, d, q.data(), k.data(), v.data());
        const spec::OracleToken want = oracle[l * H + h].step(
            q.data(), k.data(), v.data(), token_ns[std::size_t(l) * H + h], false);
        for (int i = 0; i < d; ++i) {
          const double diff = std::fabs(out[i] - want.out[i]);
          ASSERT_LE(diff, want.allowance[i]) << "t=" << t << " l=" << l << " h=" << h << " i=" << i;
          if (diff > 1e-9 && s.quant.out_levels >= 2) ++flips;  // ideal: float noise
          ++checked;
        }
      });
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h)
      sys.accelerator.head(l, h).result_observer = [&token_ns, l, h,
                                                    H](const gca::sc::HeadResult& r) {
        token_ns[std::size_t(l) * H + h] = r.times.write_start.to_seconds() * 1e9;
      };
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.ok()) << sys.host.error();
  EXPECT_EQ(checked, c.tokens * L * H * d);
  EXPECT_LE(flips, checked / 1000) << "outputs that differ at counter boundaries";
}

constexpr auto LT = gtlm::Protocol::loosely_timed;
constexpr auto AT = gtlm::Protocol::approximately_timed;

INSTANTIATE_TEST_SUITE_P(
    Streams, ModelVsOracle,
    ::testing::Values(
        Case{"gpt2_shape_2x3_window200_wrap",
             {"window=200", "model.n_layers=2", "model.n_heads=3"},
             450,
             gtlm::Workload::decode,
             LT},
        Case{"decay_arrays32x16_window100_prefill_at",
             {"window=100", "array.rows=32", "array.cols=16", "model.d_head=24",
              "retention.tau_ms=0.1", "model.n_layers=2", "model.n_heads=2"},
             260,
             gtlm::Workload::prefill,
             AT},
        Case{"ideal_window64_cmos_decay_at",
             {"window=64", "quant.q_levels=0", "quant.kv_levels=0", "quant.out_levels=0",
              "retention.tau_ms=5", "model.n_layers=1", "model.n_heads=2"},
             150,
             gtlm::Workload::decode,
             AT},
        // Every non-ideality on, with leakage and refresh: the SystemC arrays draw the same
        // mismatch and noise as the oracle.
        Case{"nonideal_refresh_window100_2x2",
             {"window=100", "model.n_layers=2", "model.n_heads=2", "retention.tau_ms=0.01",
              "retention.refresh=1", "variation.cell_gain_sigma=0.05",
              "variation.cell_offset_sigma_v=0.01", "variation.ctp_offset_sigma=0.01",
              "noise.read_sigma=0.01", "noise.write_sigma_v=0.02"},
             220,
             gtlm::Workload::decode,
             LT},
        Case{"gpt2_window1024_one_head_slow_link",
             {"model.n_layers=1", "model.n_heads=1", "host_link.bytes_per_ns=4",
              "host_link.latency_ns=3"},
             1100,
             gtlm::Workload::decode,
             LT}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace

GCA_SC_MAIN
