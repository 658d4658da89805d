// The SystemC/TLM model against the executable spec on the same random token streams:
// every output of every head and layer must agree (relative error < 1e-5).
#include <random>

#include "gca/spec/head_model.hpp"
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace sc = gca::sc;
namespace gtlm = gca::tlm;

namespace {

struct Case {
  const char* name;
  std::vector<std::string> overrides;
  long tokens;
  gtlm::Workload workload;
};

// Deterministic data per (token, layer, head), independent of the order of the calls.
void make_token(long t, int l, int h, int d, double* q, double* k, double* v) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 1000003u + l * 1009u + h);
  std::uniform_real_distribution<double> uq(-0.05, 1.05), ukv(-0.05, 0.95);
  for (int i = 0; i < d; ++i) q[i] = uq(rng), k[i] = ukv(rng), v[i] = ukv(rng);
}

class ModelVsSpec : public ::testing::TestWithParam<Case> {};

TEST_P(ModelVsSpec, EveryOutputEqualsTheExecutableSpec) {
  GCA_REQUIRE_FRESH_KERNEL();
  const Case& c = GetParam();
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), c.overrides);
  const int L = s.model.n_layers, H = s.model.n_heads, d = s.model.d_head;
  std::vector<spec::HeadModel> reference;
  for (int i = 0; i < L * H; ++i) reference.emplace_back(s, i);
  long checked = 0;
  double worst = 0.0;
  gtlm::HostConfig hc;
  hc.tokens = c.tokens;
  hc.workload = c.workload;
  gtlm::System sys(
      "system", s, hc,
      [d](long t, int l, int h, double* q, double* k, double* v) {
        make_token(t, l, h, d, q, k, v);
      },
      [&](long t, int l, int h, const double* out, const gtlm::OutputTiming& timing) {
        std::vector<double> q(d), k(d), v(d), want(d);
        make_token(t, l, h, d, q.data(), k.data(), v.data());
        reference[l * H + h].step(q.data(), k.data(), v.data(), want.data(),
                                  timing.start.to_seconds() * 1e9);
        for (int i = 0; i < d; ++i) {
          const double err = std::fabs(out[i] - want[i]) / std::max(1e-3, std::fabs(want[i]));
          worst = std::max(worst, err);
          ++checked;
        }
      });
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.ok()) << sys.host.error();
  EXPECT_EQ(checked, c.tokens * L * H * d);
  EXPECT_LT(worst, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Streams, ModelVsSpec,
    ::testing::Values(
        Case{"gpt2_shape_2x3_window200_wrap",
             {"window=200", "model.n_layers=2", "model.n_heads=3"},
             450,
             gtlm::Workload::decode},
        Case{"decay_arrays32x16_window100_prefill",
             {"window=100", "array.rows=32", "array.cols=16", "model.d_head=24",
              "retention.tau_ms=0.1", "model.n_layers=2", "model.n_heads=2"},
             260,
             gtlm::Workload::prefill},
        Case{"ideal_window64_cmos_decay",
             {"window=64", "quant.q_levels=0", "quant.kv_levels=0", "quant.out_levels=0",
              "retention.tau_ms=5", "model.n_layers=1", "model.n_heads=2"},
             150,
             gtlm::Workload::decode},
        // Every non-ideality on, with leakage and refresh: the SystemC arrays draw the same
        // mismatch and noise as the executable spec.
        Case{"nonideal_refresh_window100_2x2",
             {"window=100", "model.n_layers=2", "model.n_heads=2", "retention.tau_ms=0.01",
              "retention.refresh=1", "variation.cell_gain_sigma=0.05",
              "variation.cell_offset_sigma_v=0.01", "variation.ctp_offset_sigma=0.01",
              "noise.read_sigma=0.01", "noise.write_sigma_v=0.02"},
             220,
             gtlm::Workload::decode},
        Case{"gpt2_window1024_one_head",
             {"model.n_layers=1", "model.n_heads=1"},
             1100,
             gtlm::Workload::decode}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace

GCA_SC_MAIN
