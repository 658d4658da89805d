// What the SystemC modules book for one token equals what the token does, counted independently:
// the charge the cells draw worked out by hand from the stored values (a cell's current is
// g(w) - g(v_min), paper Eq. 4 evaluated here term by term), the counter outputs from the oracle,
// the rest by hand from the structure (window 128 in two 64-column sub-tiles, d = 64).
#include <cmath>
#include <random>

#include "gca/power/power_tracker.hpp"
#include "gca/spec/oracle_head.hpp"
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace power = gca::power;
namespace gtlm = gca::tlm;
using power::Action;

namespace {

void make_token(long t, int d, double* q, double* k, double* v) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 7919u + 17u);
  std::uniform_real_distribution<double> u(0.0, 1.0), ukv(0.0, 0.9);
  for (int i = 0; i < d; ++i) q[i] = u(rng), k[i] = ukv(rng), v[i] = ukv(rng);
}

// The Q pulse width of the 16-level PWM: round to the nearest of 0, 1/15, ..., 1.
double q_width(double q) {
  return std::floor(std::min(std::max(q, 0.0), 1.0) * 15.0 + 0.5) / 15.0;
}
// The stored voltage of the 3-bit DAC over [0, 0.9] V.
double stored(double v) {
  return std::floor(std::min(std::max(v, 0.0), 0.9) / (0.9 / 7) + 0.5 + 1e-9) * (0.9 / 7);
}
// Charge a push-pull cell moves (paper Eq. 4) at stored voltage v: |g|.
double current(const spec::GainCellParams& p, double v) {
  auto g = [&p](double w) {
    double sum = 0.0;
    for (int i = 0; i <= 3; ++i)
      for (int j = 0; i + j <= 3; ++j) sum += p.c[i][j] * std::pow(p.v_in_v, j) * std::pow(w, i);
    return sum;
  };
  return std::fabs(g(v - p.w_center_v));
}

TEST(Actions, OneTokenBooksWhatItDoes) {
  GCA_REQUIRE_FRESH_KERNEL();
  const spec::HardwareSpec s = spec::load_spec(
      spec::default_spec_path(),
      {"window=128", "model.n_layers=1", "model.n_heads=1", "timing.phase_digital_ns=15"});
  const int d = s.model.d_head;
  const long T = 150;  // the window is full (and has wrapped) for the last token
  power::EnergyTable table(s);
  power::PowerTracker tracker(table);
  spec::OracleHead oracle(s);
  spec::OracleToken last;
  std::vector<double> q(d), k(d), v(d);
  power::ActionCounts before{}, after{};
  gtlm::HostConfig hc;
  hc.tokens = T;
  gtlm::System sys(
      "system", s, hc,
      [&](long t, int, int, double* qq, double* kk, double* vv) {
        make_token(t, d, qq, kk, vv);
        if (t == T - 1) before = tracker.action_counts();  // token T-2 is done and read
      },
      [&](long t, int, int, const double*) {
        make_token(t, d, q.data(), k.data(), v.data());
        const spec::OracleToken r = oracle.step(q.data(), k.data(), v.data(), 65.0 * t, true);
        if (t == T - 1) last = r;
      },
      &tracker);
  sys.host.on_token = [&](long done, const sc_core::sc_time&) {
    if (done == T) after = tracker.action_counts();
  };
  sc_core::sc_start();
  ASSERT_TRUE(sys.host.ok()) << sys.host.error();

  // The window holds tokens T-128 .. T-1; slot j of the last read has HardSigmoid width phi_j.
  const int subtiles = 2, M = 128;
  std::vector<double> qq(d), kk(d), vv(d);
  make_token(T - 1, d, q.data(), k.data(), v.data());
  double qk_charge = 0.0, av_charge = 0.0, counts = 0.0, widths = 0.0;
  for (long t = T - M; t < T; ++t) {
    make_token(t, d, qq.data(), kk.data(), vv.data());
    const double phi = last.phi[static_cast<std::size_t>(t % M)];
    widths += phi;
    for (int i = 0; i < d; ++i) {
      qk_charge += q_width(q[i]) * current(s.gain_cell, stored(kk[i]));
      av_charge += phi * current(s.gain_cell, stored(vv[i]));
    }
  }
  for (const auto& o : last.o)
    for (double x : o) counts += std::fabs(x);
  auto got = [&](Action a) { return after[power::index(a)] - before[power::index(a)]; };
  EXPECT_NEAR(got(Action::qk_cell_read), qk_charge, 1e-4 * qk_charge);
  EXPECT_DOUBLE_EQ(got(Action::qk_ctp), M);
  EXPECT_NEAR(got(Action::qk_ctp_pulse), widths, 1e-4 * widths + 1e-6);
  EXPECT_NEAR(got(Action::av_cell_read), av_charge, 1e-4 * av_charge);
  EXPECT_DOUBLE_EQ(got(Action::av_ctp), subtiles * d);
  EXPECT_NEAR(got(Action::counter_count), counts, 2.0 / 31.0 * 2 + 1e-6);  // a flip at most
  EXPECT_NEAR(got(Action::av_ctp_pulse), counts, 2.0 / 31.0 * 2 + 1e-6);
  EXPECT_DOUBLE_EQ(got(Action::counter_clock), subtiles * d);
  EXPECT_DOUBLE_EQ(got(Action::digital_active), 1.0);  // the token
  EXPECT_DOUBLE_EQ(got(Action::digital_add), subtiles * d);
  EXPECT_DOUBLE_EQ(got(Action::dac_kv_conversion), 2.0 * d);
  EXPECT_DOUBLE_EQ(got(Action::cell_write), 2.0 * d);
  EXPECT_DOUBLE_EQ(got(Action::dac_q_pulse), d);
}

}  // namespace

GCA_SC_MAIN
