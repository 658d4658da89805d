// The experiment engine seen from a workload and an observer: the order in which the host asks
// for inputs and delivers outputs (what a closed-loop workload relies on), named metrics reaching
// report.json, and the workload section's own keys. Each test elaborates once, in a process of
// its own (gtest_discover_tests runs every test alone).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "gca/spec/error.hpp"
#include "gca/tb/engine/experiment.hpp"
#include "gca/tb/engine/workload.hpp"
#include "sc_test_main.hpp"

namespace {

namespace fs = std::filesystem;
namespace tb = gca::tb;

// Every output's bytes as the workload received them, per (layer, head), in token order.
std::map<std::pair<int, int>, std::vector<unsigned char>> g_output_bytes;

// Inputs of (t, l, h) are asked for only after every head of layer l-1 delivered token t: the
// workload checks it on every call, and counts its outputs as a metric.
class OrderCheckingWorkload : public tb::Workload {
 public:
  explicit OrderCheckingWorkload(int heads) : heads_(heads) {}
  void inputs(long t, int l, int h, double* q, double* k, double* v) override {
    for (int p = 0; l > 0 && p < heads_; ++p)
      if (!delivered_.count({t, l - 1, p})) ++violations_;
    for (int i = 0; i < 64; ++i)
      q[i] = 0.1 + 0.08 * double((t + l + h + i) % 10), k[i] = 0.3 + 0.05 * double((t + i) % 7),
      v[i] = 0.2 + 0.1 * double((h + 2 * i) % 6);
  }
  void output(long t, int l, int h, const double* out) override {
    delivered_.insert({t, l, h});
    const auto* p = reinterpret_cast<const unsigned char*>(out);
    auto& bytes = g_output_bytes[{l, h}];
    bytes.insert(bytes.end(), p, p + 64 * sizeof(double));
  }
  void add_metrics(tb::Metrics& m) const override {
    m.set("order_violations", double(violations_), "count", "inputs asked for too early");
    m.set("outputs_seen", double(delivered_.size()), "count", "outputs the workload received");
  }

 private:
  int heads_;
  long violations_ = 0;
  std::set<std::tuple<long, int, int>> delivered_;
};

void register_order_kind() {
  tb::WorkloadKind k;
  k.name = "order_check";
  k.description = "test: checks the host's order of inputs and outputs";
  k.keys = {"marker"};
  k.configure = [](tb::Scenario& sc) {
    if (!sc.workload_section.contains("marker"))
      throw gca::Error(sc.file, "workload.marker", "missing");
    sc.host.tokens = sc.workload_section["marker"].get<long>();
  };
  k.make = [](const tb::Scenario&, const gca::spec::HardwareSpec& s) {
    return std::make_unique<OrderCheckingWorkload>(s.model.n_heads);
  };
  tb::register_workload_kind(k);
}

nlohmann::json run(const std::string& mode) {
  register_order_kind();
  const fs::path dir = fs::temp_directory_path() / ("gca_engine_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "s.json") << R"({"hardware": {"set": {"model.n_layers": 3,
    "model.n_heads": 2, "window": 16}}, "workload": {"kind": "order_check", "marker": 7,
    "mode": ")" + mode + R"("}, "report": {"plots": false}})";
  const tb::Scenario sc = tb::load_scenario((dir / "s.json").string());
  EXPECT_EQ(sc.host.tokens, 7);  // set by the kind's configure hook
  tb::ExperimentOptions opt;
  opt.out_dir = (dir / "out").string();
  opt.progress = tb::ProgressMode::off;
  const tb::RunResult r = tb::run_experiment(sc, opt);
  EXPECT_EQ(r.exit_code, tb::kExitOk);
  std::ifstream in(dir / "out" / "report.json");
  const nlohmann::json report = nlohmann::json::parse(in);
  fs::remove_all(dir);
  return report;
}

TEST(Engine, DecodeDeliversALayerBeforeAskingForTheNext) {
  GCA_REQUIRE_FRESH_KERNEL();
  const nlohmann::json j = run("decode");
  EXPECT_EQ(j["workload"]["kind"], "order_check");
  EXPECT_EQ(j["metrics"]["order_violations"]["value"].get<double>(), 0.0);
  EXPECT_EQ(j["metrics"]["outputs_seen"]["value"].get<double>(), 7.0 * 3 * 2);
  EXPECT_EQ(j["metrics"]["outputs_seen"]["unit"], "count");
}

// report.json's outputs.fnv1a64, by hand: FNV-1a (64 bit) over each head's output bytes in
// token order, then over those per-head hashes in (layer, head) order.
TEST(Engine, OutputFingerprintIsFnv1aOfEveryHeadsOutputs) {
  GCA_REQUIRE_FRESH_KERNEL();
  g_output_bytes.clear();
  const nlohmann::json j = run("decode");
  auto fnv = [](std::uint64_t h, const unsigned char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ULL;
    }
    return h;
  };
  const std::uint64_t basis = 14695981039346656037ULL;
  std::uint64_t all = basis;
  ASSERT_EQ(g_output_bytes.size(), 6u);
  for (const auto& [head, bytes] : g_output_bytes) {
    ASSERT_EQ(bytes.size(), 7u * 64 * sizeof(double));
    const std::uint64_t h = fnv(basis, bytes.data(), bytes.size());
    all = fnv(all, reinterpret_cast<const unsigned char*>(&h), sizeof h);
  }
  char hex[20];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(all));
  EXPECT_EQ(j["outputs"]["fnv1a64"], hex);
  EXPECT_EQ(j["outputs"]["count"], 7 * 3 * 2 * 64);
}

TEST(Engine, PrefillDeliversALayerBeforeAskingForTheNext) {
  GCA_REQUIRE_FRESH_KERNEL();
  const nlohmann::json j = run("prefill");
  EXPECT_EQ(j["metrics"]["order_violations"]["value"].get<double>(), 0.0);
  EXPECT_EQ(j["metrics"]["outputs_seen"]["value"].get<double>(), 7.0 * 3 * 2);
}

TEST(Engine, UnknownKindAndMissingKeyAreBadInput) {
  register_order_kind();
  const fs::path dir = fs::temp_directory_path() / ("gca_engine_bad_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.json") << R"({"workload": {"kind": "nope"}})";
  std::ofstream(dir / "b.json") << R"({"workload": {"kind": "order_check"}})";
  std::ofstream(dir / "c.json") << R"({"workload": {"marker": 3}})";  // synthetic: no such key
  auto message = [&](const char* f) {
    try {
      tb::load_scenario((dir / f).string());
    } catch (const gca::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("a.json").find("workload.kind: 'nope' is not a workload kind"),
            std::string::npos);
  EXPECT_NE(message("b.json").find("workload.marker: missing"), std::string::npos);
  EXPECT_NE(message("c.json").find("workload.marker: unknown key"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace

GCA_SC_MAIN
