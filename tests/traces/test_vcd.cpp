// VCD traces: a decode run of one layer (window 64, 2 heads, d 64, digital phase pinned to
// 15 ns so that tokens take 65 ns) traced on layer 0 head 0
// sub-tile 0, read back with a small VCD parser: header and scope tree, the phase schedule of
// every token, the Q pulse widths against a hand-computed 16-level quantization, the
// HardSigmoid widths, counters and outputs against the head's own results, the energy steps;
// and the rejection of a selection out of range.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gca/power/power_tracker.hpp"
#include "gca/spec/error.hpp"
#include "gca/tlm/system.hpp"
#include "gca/traces/vcd_tracer.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace gtlm = gca::tlm;
namespace gpow = gca::power;
namespace gtr = gca::traces;

namespace {

// ---- a small VCD reader: header, scope tree, value changes per signal ----
struct Vcd {
  std::string timescale;                          // e.g. "1 ps"
  double unit_ns = 0.0;                           // one time unit in ns
  std::vector<std::string> scopes;                // every scope path, in order of appearance
  std::map<std::string, std::string> id_to_name;  // full dotted name per identifier
  std::map<std::string, std::string> name_to_type;
  std::vector<long long> timestamps;  // every #time, in file order
  // Value changes per full name: (time in units, value); $dumpvars values at time 0.
  std::map<std::string, std::vector<std::pair<long long, double>>> changes;
  bool scopes_balanced = false;
  bool has_enddefinitions = false;

  // Value at time `t` (units): the last change at or before t.
  double at(const std::string& name, long long t) const {
    const auto& c = changes.at(name);
    double v = 0.0;
    for (const auto& [time, value] : c) {
      if (time > t) break;
      v = value;
    }
    return v;
  }
  // Changes with repeated values removed (a signal written with the same value).
  std::vector<std::pair<long long, double>> steps(const std::string& name) const {
    std::vector<std::pair<long long, double>> out;
    for (const auto& c : changes.at(name)) {
      if (!out.empty() && out.back().first == c.first) out.pop_back();  // last write wins
      if (out.empty() || out.back().second != c.second) out.push_back(c);
    }
    return out;
  }
  long long units(double ns) const { return std::llround(ns / unit_ns); }
};

double parse_binary(const std::string& bits) {
  std::uint64_t u = 0;
  for (char b : bits) u = (u << 1) | (b == '1' ? 1u : 0u);
  if (bits.size() == 32) return static_cast<double>(static_cast<std::int32_t>(u));
  return static_cast<double>(u);
}

Vcd read_vcd(const std::string& path) {
  Vcd v;
  std::ifstream in(path);
  std::vector<std::string> tokens;
  std::string tok;
  while (in >> tok) tokens.push_back(tok);
  std::vector<std::string> stack;
  std::size_t i = 0;
  auto until_end = [&](std::vector<std::string>* words) {
    while (i < tokens.size() && tokens[i] != "$end") {
      if (words) words->push_back(tokens[i]);
      ++i;
    }
    ++i;  // $end
  };
  // Header.
  while (i < tokens.size()) {
    const std::string t = tokens[i++];
    std::vector<std::string> w;
    if (t == "$timescale") {
      until_end(&w);
      for (const auto& s : w) v.timescale += (v.timescale.empty() ? "" : " ") + s;
    } else if (t == "$scope") {
      until_end(&w);  // "module name"
      stack.push_back(w.at(1));
      std::string p;
      for (const auto& s : stack) p += (p.empty() ? "" : ".") + s;
      v.scopes.push_back(p);
    } else if (t == "$upscope") {
      until_end(nullptr);
      if (!stack.empty()) stack.pop_back();
    } else if (t == "$var") {
      until_end(&w);  // type size id ref [range]
      std::string p;
      for (const auto& s : stack) p += s + ".";
      v.id_to_name[w.at(2)] = p + w.at(3);
      v.name_to_type[p + w.at(3)] = w.at(0);
      v.changes[p + w.at(3)];
    } else if (t == "$enddefinitions") {
      until_end(nullptr);
      v.has_enddefinitions = true;
      v.scopes_balanced = stack.empty();
      break;
    } else if (t[0] == '$') {
      until_end(nullptr);  // $date, $version, $comment
    }
  }
  // Value changes.
  long long now = 0;
  while (i < tokens.size()) {
    const std::string t = tokens[i++];
    if (t == "$comment") {
      until_end(nullptr);
    } else if (t == "$dumpvars" || t == "$end") {
      continue;
    } else if (t[0] == '#') {
      now = std::stoll(t.substr(1));
      v.timestamps.push_back(now);
    } else if (t[0] == 'b' || t[0] == 'B') {
      v.changes.at(v.id_to_name.at(tokens[i++])).push_back({now, parse_binary(t.substr(1))});
    } else if (t[0] == 'r' || t[0] == 'R') {
      v.changes.at(v.id_to_name.at(tokens[i++])).push_back({now, std::stod(t.substr(1))});
    } else {  // scalar: value char + id
      v.changes.at(v.id_to_name.at(t.substr(1))).push_back({now, t[0] == '1' ? 1.0 : 0.0});
    }
  }
  std::istringstream ts(v.timescale);
  double n = 0;
  std::string unit;
  ts >> n >> unit;
  const std::map<std::string, double> ns_per = {{"fs", 1e-6}, {"ps", 1e-3}, {"ns", 1.0},
                                                {"us", 1e3},  {"ms", 1e6},  {"s", 1e9}};
  v.unit_ns = n * ns_per.at(unit);
  return v;
}

// ---- the run ----
constexpr long kTokens = 20;
constexpr int kColumns = 4;

double q_input(long t, int f) {  // some out of [0, 1], so clamping is exercised
  return -0.1 + 1.2 * static_cast<double>((t * 13 + f * 7) % 37) / 37.0;
}
// The 16-level Q quantization worked out by hand: clamp to [0, 1], nearest of k/15.
double q_expected(long t, int f) {
  const double x = std::clamp(q_input(t, f), 0.0, 1.0);
  return std::floor(x * 15.0 + 0.5) / 15.0;
}

const std::string kHead = "SystemC.accelerator.layer0.head0";

double ns_of(const sc_core::sc_time& t) {
  return t.to_seconds() * 1e9;
}

TEST(VcdTrace, DecodeRunReadsBack) {
  GCA_REQUIRE_FRESH_KERNEL();
  const spec::HardwareSpec s = spec::load_spec(
      spec::default_spec_path(),
      {"window=64", "model.n_layers=1", "model.n_heads=2", "timing.phase_digital_ns=15"});
  ASSERT_EQ(s.model.d_head, 64);
  gpow::PowerTracker tracker(gpow::EnergyTable(s), 1000.0);
  gtlm::HostConfig hc;
  hc.tokens = kTokens;
  hc.workload = gtlm::Workload::decode;
  hc.protocol = gtlm::Protocol::loosely_timed;
  gtlm::System sys(
      "system", s, hc,
      [](long t, int, int, double* q, double* k, double* v) {
        for (int f = 0; f < 64; ++f) {
          q[f] = q_input(t, f);
          k[f] = 0.9 * static_cast<double>((t * 5 + f * 3) % 11) / 10.0;
          v[f] = 0.9 * static_cast<double>((t * 3 + f * 7) % 13) / 12.0;
        }
      },
      nullptr, &tracker);
  std::vector<gca::sc::HeadResult> results;
  sys.accelerator.head(0, 0).capture_scores(true);
  sys.accelerator.head(0, 0).result_observer = [&](const gca::sc::HeadResult& r) {
    results.push_back(r);
  };

  const std::string path = std::string(GCA_TRACES_TEST_OUT_DIR) + "/decode_l0_h0_s0";
  std::filesystem::remove(path + ".vcd");
  gtr::TraceSelection sel;  // layer 0, head 0, sub-tile 0, 4 columns
  sel.columns = kColumns;
  std::vector<std::string> traced;
  {
    gtr::VcdTracer tracer(path, sys.accelerator, sel, &tracker);
    EXPECT_EQ(tracer.file_path(), path + ".vcd");
    traced = tracer.signal_names();
    sc_core::sc_start();
    ASSERT_TRUE(sys.host.ok()) << sys.host.error();
  }  // closes the file
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kTokens));

  const Vcd v = read_vcd(path + ".vcd");

  // Header and scopes.
  EXPECT_TRUE(v.has_enddefinitions);
  EXPECT_TRUE(v.scopes_balanced);
  EXPECT_LE(v.unit_ns, 1.0) << v.timescale;
  const std::set<std::string> scopes(v.scopes.begin(), v.scopes.end());
  const std::set<std::string> expected_scopes = {"SystemC",
                                                 "SystemC.accelerator",
                                                 "SystemC.accelerator.layer0",
                                                 kHead,
                                                 kHead + ".control",
                                                 kHead + ".q_pulses",
                                                 kHead + ".subtile0",
                                                 kHead + ".subtile0.hard_sigmoid",
                                                 kHead + ".subtile0.signed_ctp",
                                                 kHead + ".subtile0.signed_ctp.counter",
                                                 "SystemC.power"};
  EXPECT_EQ(scopes, expected_scopes);
  EXPECT_EQ(v.scopes.size(), expected_scopes.size()) << "a scope opened twice";

  // Declared signals: exactly what the tracer reports, under the SystemC top scope.
  std::set<std::string> declared;
  for (const auto& [name, type] : v.name_to_type) declared.insert(name);
  std::set<std::string> reported;
  for (const auto& n : traced) reported.insert("SystemC." + n);
  EXPECT_EQ(declared, reported);
  for (const char* c : {"phase", "write_pointer", "active_subtile", "busy", "done", "token"}) {
    EXPECT_TRUE(declared.count(kHead + ".control." + c)) << c;
  }
  for (int i = 0; i < kColumns; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ(v.name_to_type.at(kHead + ".q_pulses.width_" + n), "real");
    EXPECT_EQ(v.name_to_type.at(kHead + ".subtile0.hard_sigmoid.width_" + n), "real");
    EXPECT_EQ(v.name_to_type.at(kHead + ".subtile0.signed_ctp.counter.value_" + n), "real");
    EXPECT_EQ(v.name_to_type.at(kHead + ".out_" + n), "real");
  }
  EXPECT_FALSE(declared.count(kHead + ".q_pulses.width_" + std::to_string(kColumns)));
  for (const char* g : {"qk", "av", "digital", "dac", "total"}) {
    EXPECT_EQ(v.name_to_type.at(std::string("SystemC.power.") + g + "_pj"), "real") << g;
  }

  // Time: strictly increasing, ending at N x 65 ns.
  ASSERT_FALSE(v.timestamps.empty());
  for (std::size_t i = 1; i < v.timestamps.size(); ++i) {
    EXPECT_LT(v.timestamps[i - 1], v.timestamps[i]) << "at #" << v.timestamps[i];
  }
  EXPECT_EQ(v.timestamps.back(), v.units(kTokens * 65.0));

  // Phases: 1..5 per token at 65 t + 0, 5, 20, 35, 50; the next token (or idle) at 65 (t + 1).
  std::vector<std::pair<long long, double>> phases;
  for (long t = 0; t < kTokens; ++t) {
    const double offsets[] = {0, 5, 20, 35, 50};
    for (int p = 0; p < 5; ++p) phases.push_back({v.units(65.0 * t + offsets[p]), p + 1.0});
  }
  phases.push_back({v.units(65.0 * kTokens), 0.0});
  EXPECT_EQ(v.steps(kHead + ".control.phase"), phases);

  // done: up at each token's done, down when the next digital sum begins; busy throughout.
  std::vector<std::pair<long long, double>> done = {{0, 0.0}};
  for (long t = 0; t < kTokens; ++t) {
    if (t > 0) done.push_back({v.units(65.0 * t + 50), 0.0});
    done.push_back({v.units(65.0 * (t + 1)), 1.0});
  }
  EXPECT_EQ(v.steps(kHead + ".control.done"), done);
  const std::vector<std::pair<long long, double>> busy = {{0, 1.0}, {v.units(65.0 * kTokens), 0.0}};
  EXPECT_EQ(v.steps(kHead + ".control.busy"), busy);
  for (long t = 0; t < kTokens; ++t) {
    const long long start = v.units(65.0 * t);
    EXPECT_EQ(v.at(kHead + ".control.token", start), t);
    EXPECT_EQ(v.at(kHead + ".control.write_pointer", start), t);  // slot t mod 64
    EXPECT_EQ(v.at(kHead + ".control.active_subtile", start), 0);
  }

  // Values: from the start of their phase, until the next token's.
  for (long t = 0; t < kTokens; ++t) {
    const gca::sc::HeadResult& r = results[static_cast<std::size_t>(t)];
    ASSERT_EQ(r.token, t);
    const long long q_at = v.units(65.0 * t + 5), phi_at = v.units(65.0 * t + 20);
    const long long count_end = v.units(65.0 * t + 50), done_at = v.units(65.0 * (t + 1));
    for (int i = 0; i < kColumns; ++i) {
      const std::string n = std::to_string(i);
      const std::string q = kHead + ".q_pulses.width_" + n;
      EXPECT_NEAR(v.at(q, q_at), q_expected(t, i), 1e-6) << "token " << t << " feature " << i;
      if (t > 0) {
        EXPECT_NEAR(v.at(q, q_at - 1), q_expected(t - 1, i), 1e-6);
      }
      // One sub-tile: the head's phi (by slot) are sub-tile 0's HardSigmoid widths, its output
      // is sub-tile 0's counter values (identity output scaler).
      const std::string hs = kHead + ".subtile0.hard_sigmoid.width_" + n;
      EXPECT_NEAR(v.at(hs, phi_at), r.phi[static_cast<std::size_t>(i)], 1e-6);
      const std::string cnt = kHead + ".subtile0.signed_ctp.counter.value_" + n;
      EXPECT_NEAR(v.at(cnt, count_end), r.out[static_cast<std::size_t>(i)], 1e-12);
      if (t > 0) {
        EXPECT_NEAR(v.at(cnt, count_end - 1), results[t - 1].out[static_cast<std::size_t>(i)],
                    1e-12);
      }
      EXPECT_NEAR(v.at(kHead + ".out_" + n, done_at), r.out[static_cast<std::size_t>(i)], 1e-12);
    }
  }
  // Changes only at the phase the value belongs to.
  for (int i = 0; i < kColumns; ++i) {
    const std::string n = std::to_string(i);
    const std::pair<std::string, double> at_phase[] = {
        {kHead + ".q_pulses.width_" + n, 5.0},
        {kHead + ".subtile0.hard_sigmoid.width_" + n, 20.0},
        {kHead + ".subtile0.signed_ctp.counter.value_" + n, 50.0},
        {kHead + ".out_" + n, 0.0}};
    for (const auto& [name, offset] : at_phase) {
      for (const auto& [time, value] : v.steps(name)) {
        if (time == 0) continue;
        EXPECT_EQ((time - v.units(offset)) % v.units(65.0), 0) << name << " at #" << time;
      }
    }
  }
  bool some_counter_nonzero = false;
  for (int i = 0; i < kColumns; ++i) {
    for (const auto& c :
         v.steps(kHead + ".subtile0.signed_ctp.counter.value_" + std::to_string(i))) {
      some_counter_nonzero |= c.second != 0.0;
    }
  }
  EXPECT_TRUE(some_counter_nonzero);

  // Energy: non-decreasing steps at the dones, ending at the tracker's totals.
  double total_sum = 0.0;
  for (gpow::Group g : gpow::kGroups) {
    const std::string name = std::string("SystemC.power.") + gpow::group_name(g) + "_pj";
    const auto steps = v.steps(name);
    for (std::size_t k = 1; k < steps.size(); ++k) {
      EXPECT_GE(steps[k].second, steps[k - 1].second) << name;
      EXPECT_EQ(steps[k].first % v.units(65.0), 0) << name << " at #" << steps[k].first;
    }
    EXPECT_NEAR(steps.back().second, tracker.group_energy_pj(g), 1e-9 * tracker.group_energy_pj(g))
        << name;
    EXPECT_GT(steps.back().second, 0.0) << name;
    total_sum += steps.back().second;
  }
  EXPECT_NEAR(v.at("SystemC.power.total_pj", v.timestamps.back()), total_sum, 1e-9 * total_sum);
}

// Prefill over two layers with the approximately-timed protocol, tracing two heads of layer 1
// and their second sub-tile, without a power tracker.
TEST(VcdTrace, PrefillTwoLayersTwoHeadsSecondSubtile) {
  GCA_REQUIRE_FRESH_KERNEL();
  const spec::HardwareSpec s = spec::load_spec(
      spec::default_spec_path(),
      {"window=128", "model.n_layers=2", "model.n_heads=2", "timing.phase_digital_ns=15"});
  constexpr long kPrefill = 70;  // tokens 64.. land in sub-tile 1
  gtlm::HostConfig hc;
  hc.tokens = kPrefill;
  hc.workload = gtlm::Workload::prefill;
  hc.protocol = gtlm::Protocol::approximately_timed;
  hc.host_ns_per_layer = 10.0;
  gtlm::System sys(
      "system", s, hc,
      [](long t, int l, int, double* q, double* k, double* v) {
        for (int f = 0; f < 64; ++f) {
          q[f] = q_input(t + l, f);
          k[f] = 0.45 + 0.4 * std::sin(0.3 * static_cast<double>(t + f));
          v[f] = 0.45 + 0.4 * std::cos(0.2 * static_cast<double>(t * 3 + f));
        }
      },
      nullptr);
  std::vector<gca::sc::HeadResult> results[2];
  for (int h = 0; h < 2; ++h) {
    sys.accelerator.head(1, h).result_observer = [&results, h](const gca::sc::HeadResult& r) {
      results[h].push_back(r);
    };
  }
  const std::string path = std::string(GCA_TRACES_TEST_OUT_DIR) + "/prefill_l1_h01_s1.vcd";
  gtr::TraceSelection sel;
  sel.layers = {1};
  sel.heads = {0, 1};
  sel.subtiles = {1};
  sel.columns = 2;
  {
    gtr::VcdTracer tracer(path, sys.accelerator, sel, nullptr);
    sc_core::sc_start();
    ASSERT_TRUE(sys.host.ok()) << sys.host.error();
  }
  const Vcd v = read_vcd(path);
  EXPECT_TRUE(v.scopes_balanced);
  const std::set<std::string> scopes(v.scopes.begin(), v.scopes.end());
  for (int h = 0; h < 2; ++h) {
    const std::string head = "SystemC.accelerator.layer1.head" + std::to_string(h);
    EXPECT_TRUE(scopes.count(head + ".subtile1.signed_ctp.counter")) << head;
    EXPECT_FALSE(scopes.count(head + ".subtile0")) << head;
  }
  EXPECT_FALSE(scopes.count("SystemC.accelerator.layer0"));
  EXPECT_FALSE(scopes.count("SystemC.power"));
  for (std::size_t i = 1; i < v.timestamps.size(); ++i) {
    EXPECT_LT(v.timestamps[i - 1], v.timestamps[i]);
  }
  for (int h = 0; h < 2; ++h) {
    const std::string head = "SystemC.accelerator.layer1.head" + std::to_string(h);
    ASSERT_EQ(results[h].size(), static_cast<std::size_t>(kPrefill));
    EXPECT_EQ(v.timestamps.back(), v.units(ns_of(results[h].back().times.done)));
    for (const gca::sc::HeadResult& r : results[h]) {
      const gca::sc::TokenTimes& when = r.times;
      // The analog phases of the newest token; its digital phase overlaps the next precharge.
      EXPECT_EQ(v.at(head + ".control.phase", v.units(ns_of(when.write_start))), 1);
      EXPECT_EQ(v.at(head + ".control.phase", v.units(ns_of(when.q_start))), 2);
      EXPECT_EQ(v.at(head + ".control.phase", v.units(ns_of(when.phi_start))), 3);
      EXPECT_EQ(v.at(head + ".control.phase", v.units(ns_of(when.count_start))), 4);
      EXPECT_EQ(v.at(head + ".control.done", v.units(ns_of(when.done))), 1);
      EXPECT_EQ(v.at(head + ".control.active_subtile", v.units(ns_of(when.write_start))),
                r.token / 64);
      for (int i = 0; i < 2; ++i) {
        EXPECT_NEAR(
            v.at(head + ".q_pulses.width_" + std::to_string(i), v.units(ns_of(when.q_start))),
            q_expected(r.token + 1, i), 1e-6);
      }
    }
    // Sub-tile 1 holds a token from token 64 on: its values change only from then.
    const long long first_phi = v.units(ns_of(results[h][64].times.phi_start));
    bool changed = false;
    for (int i = 0; i < 2; ++i) {
      for (const auto& [time, value] :
           v.steps(head + ".subtile1.hard_sigmoid.width_" + std::to_string(i))) {
        if (time == 0) continue;
        EXPECT_GE(time, first_phi);
        changed = true;
      }
    }
    EXPECT_TRUE(changed) << head;
  }
  EXPECT_EQ(v.at("SystemC.accelerator.layer1.head0.control.busy", v.timestamps.back()), 0);
}

TEST(VcdTrace, SelectionOutOfRangeIsRejected) {
  GCA_REQUIRE_FRESH_KERNEL();
  const spec::HardwareSpec s = spec::load_spec(
      spec::default_spec_path(),
      {"window=64", "model.n_layers=1", "model.n_heads=2", "timing.phase_digital_ns=15"});
  gtlm::HostConfig hc;
  gtlm::System sys("system", s, hc, nullptr, nullptr);
  const std::string path = std::string(GCA_TRACES_TEST_OUT_DIR) + "/rejected.vcd";
  std::filesystem::remove(path);
  auto error_of = [&](const gtr::TraceSelection& sel) -> std::string {
    try {
      gtr::VcdTracer tracer(path, sys.accelerator, sel, nullptr);
    } catch (const gca::Error& e) {
      return e.what();
    }
    return "";
  };
  gtr::TraceSelection sel;
  sel.layers = {1};
  std::string e = error_of(sel);
  EXPECT_EQ(e, "trace.layers: layer 1 is out of range 0..0 (1 layer)");

  sel = {};
  sel.heads = {0, 2};
  e = error_of(sel);
  EXPECT_EQ(e, "trace.heads: head 2 is out of range 0..1 (2 heads)");

  sel = {};
  sel.subtiles = {1};  // window 64: one sub-tile
  e = error_of(sel);
  EXPECT_NE(e.find("trace.subtiles"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;

  sel = {};
  sel.heads = {-1};
  EXPECT_NE(error_of(sel).find("trace.heads"), std::string::npos);

  sel = {};
  sel.heads = {1, 1};
  EXPECT_NE(error_of(sel).find("trace.heads"), std::string::npos);

  sel = {};
  sel.columns = 65;
  EXPECT_NE(error_of(sel).find("trace.columns"), std::string::npos);

  EXPECT_FALSE(std::filesystem::exists(path)) << "nothing is written for a rejected selection";
}

}  // namespace

GCA_SC_MAIN
