// gca-sim runs that check what the timed model must show: loosely and approximately timed
// prefill agree, a slow host link sets the pace and the run says so, an error injected into one
// head's numerics fails the check (exit 1), and the energy traced in a VCD never decreases.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim_process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class TimedCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / ("gca_timed_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // gca-sim with the words of `args` as its arguments (no shell); its exit status.
  int sim(const std::string& args, std::string* out = nullptr) {
    std::vector<std::string> argv = gca::test::words(args);
    argv.insert(argv.begin(), GCA_SIM);
    const auto r = gca::test::run_process(argv, path("stdout.txt"), path("stderr.txt"));
    if (out) *out = r.out;
    return r.code;
  }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const json& j) const {
    std::ofstream(path(name)) << j.dump(2);
    return path(name);
  }
  json report(const std::string& out) const {
    return json::parse(slurp(path(out + "/report.json")));
  }
  static json prefill(const char* protocol) {
    return {{"name", std::string("prefill_") + protocol},
            {"hardware",
             {{"spec", "gpt2.json"},
              {"set", {{"window", 64}, {"model.n_layers", 2}, {"timing.phase_digital_ns", 15}}}}},
            {"workload", {{"mode", "prefill"}, {"tokens", 120}, {"protocol", protocol}}},
            {"report", {{"plots", false}}}};
  }
  // gca-sim with an environment (KEY=VALUE words first, through env(1)); its exit status.
  int sim_env(const std::vector<std::string>& env, const std::string& args) {
    std::vector<std::string> argv{"env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(GCA_SIM);
    for (const std::string& w : gca::test::words(args)) argv.push_back(w);
    return gca::test::run_process(argv, path("stdout.txt"), path("stderr.txt")).code;
  }
  // Decode over 3 layers of 4 heads, window 48 (full after 48 of 150 tokens), checked.
  static json decode_scenario() {
    return {{"name", "decode_ahead"},
            {"hardware",
             {{"spec", "gpt2.json"},
              {"set", {{"window", 48}, {"model.n_layers", 3}, {"model.n_heads", 4}}}}},
            {"workload", {{"mode", "decode"}, {"tokens", 150}}},
            {"stimulus", {{"kind", "uniform"}, {"seed", 5}}},
            {"check", {{"against_oracle", true}}},
            {"report", {{"plots", false}}}};
  }
  fs::path dir_;
};

// report.json without what depends on the machine: wall-clock rates, memory, how the numerics ran.
json machine_free(json r) {
  for (const char* k :
       {"wall_time_s", "tokens_per_second", "tokens_per_second_steady_state", "memory", "numerics"})
    r.erase(k);
  return r;
}

// 2 layers, window 64, prefill, digital phase pinned to 15 ns: by hand, token t leaves layer 1 at
// 50 t + 130 ns, so 120 tokens end at 50 x 119 + 130 = 6080 ns (50.67 ns per token).
TEST_F(TimedCli, PrefillLooselyAndApproximatelyTimedAgreeWithTheHandValue) {
  for (const char* p : {"lt", "at"}) {
    ASSERT_EQ(
        sim("run " + write(std::string(p) + ".json", prefill(p)) + " --quiet --out " + path(p)), 0)
        << slurp(path("stderr.txt"));
    EXPECT_NEAR(report(p)["simulated_time_ns"].get<double>(), 6080.0, 1e-6) << p;
    EXPECT_EQ(report(p)["check"]["mismatches"].get<long>(), 0) << p;
  }
}

TEST_F(TimedCli, ASlowLinkSetsThePaceAndTheRunSaysSo) {
  const json base = {
      {"name", "layer"},
      {"hardware",
       {{"spec", "gpt2.json"},
        {"set", {{"model.n_layers", 1}, {"window", 128}, {"timing.phase_digital_ns", 15}}}}},
      {"workload", {{"mode", "decode"}, {"tokens", 30}}},
      {"report", {{"plots", false}}}};
  const std::string s = write("layer.json", base);
  std::string out;
  ASSERT_EQ(sim("run " + s + " --quiet --out " + path("ideal"), &out), 0);
  EXPECT_DOUBLE_EQ(report("ideal")["latency"]["end_to_end_ns_per_token"].get<double>(), 65.0);
  EXPECT_EQ(report("ideal")["latency"]["bottleneck"], "arrays");
  ASSERT_EQ(
      sim("run " + s + " --quiet --out " + path("slow") + " --set host_link.bytes_per_ns=1", &out),
      0);
  const json r = report("slow");
  const double bytes = r["io"]["bytes_per_token"].get<double>();
  EXPECT_GT(bytes, 1000.0);  // 12 heads x (24 + 24 + 32 + 8 B in, 56 B out) and the interrupt
  EXPECT_GE(r["latency"]["end_to_end_ns_per_token"].get<double>(), bytes / 1.0);
  EXPECT_EQ(r["latency"]["bottleneck"], "host link");
  EXPECT_GT(r["io"]["link_utilization"].get<double>(), 0.9);
  EXPECT_NE(out.find("the link, not the arrays, sets the pace"), std::string::npos) << out;
}

TEST_F(TimedCli, AWrongValueInOneHeadFailsTheCheck) {
  json j = {{"name", "fault"},
            {"hardware",
             {{"spec", "gpt2.json"},
              {"set", {{"model.n_layers", 2}, {"model.n_heads", 3}, {"window", 64}}}}},
            {"workload", {{"mode", "decode"}, {"tokens", 20}}},
            {"check", {{"oracle_every", 1}}},
            {"report", {{"plots", false}}}};
  ASSERT_EQ(sim("run " + write("ok.json", j) + " --quiet --out " + path("ok")), 0);
  j["fault"] = {{"layer", 1}, {"head", 2}, {"token", 7}, {"feature", 5}, {"delta", 0.25}};
  std::string out;
  EXPECT_EQ(sim("run " + write("bad.json", j) + " --quiet --out " + path("bad"), &out), 1);
  EXPECT_EQ(report("bad")["check"]["mismatches"].get<long>(), 1);
}

// With a link latency, a loosely-timed host pays it for every transaction in turn, while the
// approximately-timed one posts its writes through the store-and-forward link and keeps its reads
// outstanding: AT is faster, never slower, and the outputs are the same.
TEST_F(TimedCli, ApproximatelyTimedHostOverlapsLinkLatency) {
  for (const char* mode : {"decode", "prefill"}) {
    std::map<std::string, json> r;
    for (const char* p : {"lt", "at"}) {
      json j = prefill(p);
      j["workload"]["mode"] = mode;
      j["workload"]["tokens"] = 60;
      j["hardware"]["set"]["host_link.bytes_per_ns"] = 64;
      j["hardware"]["set"]["host_link.latency_ns"] = 2;
      const std::string out = std::string(mode) + "_" + p;
      ASSERT_EQ(sim("run " + write(out + ".json", j) + " --quiet --out " + path(out)), 0)
          << slurp(path("stderr.txt"));
      r[p] = report(out);
    }
    EXPECT_LT(r["at"]["simulated_time_ns"].get<double>(),
              r["lt"]["simulated_time_ns"].get<double>())
        << mode;
    EXPECT_EQ(r["at"]["outputs"]["fnv1a64"], r["lt"]["outputs"]["fnv1a64"]) << mode;
    EXPECT_EQ(r["at"]["check"]["mismatches"].get<long>(), 0) << mode;
  }
}

// Reads the VCD's real-valued energy signals and checks that none ever decreases.
TEST_F(TimedCli, PrefillEnergyTraceNeverDecreases) {
  json j = prefill("lt");
  j["workload"]["tokens"] = 40;
  ASSERT_EQ(sim("run " + write("p.json", j) + " --quiet --out " + path("o") + " --vcd " +
                path("o/trace.vcd")),
            0);
  std::ifstream in(path("o/trace.vcd"));
  std::map<std::string, std::string> energy_ids;  // id -> name
  std::map<std::string, double> last;
  std::string line;
  long values = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string w0, type, size, id, ref;
    ls >> w0;
    if (w0 == "$var") {
      ls >> type >> size >> id >> ref;
      if (ref.size() > 3 && ref.compare(ref.size() - 3, 3, "_pj") == 0) energy_ids[id] = ref;
    } else if (!w0.empty() && w0[0] == 'r') {
      ls >> id;
      if (!energy_ids.count(id)) continue;
      const double v = std::stod(w0.substr(1));
      if (last.count(id)) {
        EXPECT_GE(v, last[id]) << energy_ids[id];
      }
      last[id] = v;
      ++values;
    }
  }
  EXPECT_EQ(energy_ids.size(), 5u);
  EXPECT_GT(values, 40);
}

// The same run with the numerics a token ahead (two threads) and forked per head at the write
// phase (GCA_NUMERICS_AHEAD=0) and on one thread (no pool): every output file is the same, byte
// for byte, and report.json differs only in its machine-dependent figures.
TEST_F(TimedCli, NumericsAheadGivesTheSameRunAsForkedNumerics) {
  const std::string sc = write("d.json", decode_scenario());
  ASSERT_EQ(sim_env({"GCA_THREADS=2"}, "run " + sc + " --quiet --out " + path("ahead")), 0);
  ASSERT_EQ(sim_env({"GCA_THREADS=2", "GCA_NUMERICS_AHEAD=0"},
                    "run " + sc + " --quiet --out " + path("fork")),
            0);
  ASSERT_EQ(sim_env({"GCA_THREADS=1"}, "run " + sc + " --quiet --out " + path("one")), 0);
  const json ahead = report("ahead"), fork = report("fork"), one = report("one");
  EXPECT_TRUE(ahead["numerics"]["ahead"].get<bool>());
  EXPECT_EQ(ahead["numerics"]["threads"], 2);
  EXPECT_FALSE(fork["numerics"]["ahead"].get<bool>());
  EXPECT_FALSE(one["numerics"]["ahead"].get<bool>());
  EXPECT_EQ(ahead["check"]["mismatches"], 0);
  EXPECT_GT(ahead["check"]["outputs_compared"].get<double>(), 0.0);
  EXPECT_EQ(machine_free(ahead), machine_free(fork));
  EXPECT_EQ(machine_free(ahead), machine_free(one));
  for (const char* f :
       {"energy_per_token.csv", "modules.csv", "power_windows.csv", "energy_groups.csv"}) {
    const std::string a = slurp(path(std::string("ahead/") + f));
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, slurp(path(std::string("fork/") + f))) << f;
    EXPECT_EQ(a, slurp(path(std::string("one/") + f))) << f;
  }
}

// Where time enters the numerics (leaking cells) or layers overlap tokens (prefill), the heads
// fork their numerics as before.
TEST_F(TimedCli, NumericsAheadOnlyWhereTimeDoesNotEnter) {
  json leaky = decode_scenario();
  leaky["hardware"]["set"]["retention.tau_ms"] = 0.05;
  ASSERT_EQ(sim_env({"GCA_THREADS=2"},
                    "run " + write("l.json", leaky) + " --quiet --out " + path("leaky")),
            0);
  EXPECT_FALSE(report("leaky")["numerics"]["ahead"].get<bool>());
  json pre = prefill("lt");
  pre["workload"]["tokens"] = 60;
  ASSERT_EQ(
      sim_env({"GCA_THREADS=2"}, "run " + write("p.json", pre) + " --quiet --out " + path("pre")),
      0);
  EXPECT_FALSE(report("pre")["numerics"]["ahead"].get<bool>());
}

}  // namespace
