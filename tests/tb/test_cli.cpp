// gca-sim as a user runs it: every shipped scenario with a small token count, determinism,
// `gca-sim head` on the authors' vectors, and each kind of bad input (one line, non-zero exit,
// no result file left behind). Each gca-sim call is its own process.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/tb/npy.hpp"
#include "sim_process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Result {
  int code = -1;
  std::string out, err;
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');  // parameterized tests: "Name/param"
    dir_ = fs::temp_directory_path() / ("gca_cli_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // gca-sim with the words of `args` as its arguments (no shell).
  Result sim(const std::string& args) {
    std::vector<std::string> argv = gca::test::words(args);
    argv.insert(argv.begin(), GCA_SIM);
    const auto p = gca::test::run_process(argv, (dir_ / "stdout.txt").string(),
                                          (dir_ / "stderr.txt").string());
    Result r;
    r.code = p.code;
    r.out = p.out;
    r.err = p.err;
    return r;
  }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string scenario(const std::string& name) { return std::string(GCA_SCENARIOS) + "/" + name; }
  std::string path(const std::string& name) { return (dir_ / name).string(); }
  static bool authors_present() { return fs::exists(authors() + "/Q.npy"); }
  static std::string authors() {
    if (const char* env = std::getenv("GCA_DATA_DIR")) return std::string(env) + "/authors_64x64";
    return std::string(GCA_SHARED_DATA_DIR) + "/authors_64x64";
  }
  // One line on stderr that mentions `what`, exit code 2.
  void expect_bad_input(const Result& r, const std::string& what) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  fs::path dir_;
};

json read_json(const std::string& p) {
  std::ifstream in(p);
  return json::parse(in);
}

struct ScenarioCase {
  const char* file;
  long tokens;
};

class Scenarios : public Cli, public ::testing::WithParamInterface<ScenarioCase> {};

TEST_P(Scenarios, RunsAndMatchesTheOracle) {
  const ScenarioCase& c = GetParam();
  if (std::string(c.file) == "authors_subtile.json" && !authors_present())
    GTEST_SKIP() << "no authors' data";
  Result r = sim("run " + scenario(c.file) + " --tokens " + std::to_string(c.tokens) + " --out " +
                 path("out") + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json j = read_json(path("out/report.json"));
  EXPECT_EQ(j["tokens_simulated"].get<long>(), c.tokens);
  EXPECT_EQ(j["check"]["mismatches"].get<long>(), 0);
  EXPECT_GT(j["check"]["outputs_compared"].get<long>(), 0);
  EXPECT_TRUE(fs::exists(path("out/modules.csv")));
  EXPECT_NE(slurp(path("out/energy_table.txt")).find("cost.read_charge_unit_fc"),
            std::string::npos);
  EXPECT_NE(r.out.find("check against the oracle"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Shipped, Scenarios,
    ::testing::Values(ScenarioCase{"gpt2_layer.json", 20}, ScenarioCase{"gpt2_full.json", 3},
                      ScenarioCase{"gpt2_xl_layer.json", 3},
                      ScenarioCase{"authors_subtile.json", 64},
                      ScenarioCase{"window_wrap.json", 600},
                      ScenarioCase{"cmos_retention.json", 30}, ScenarioCase{"prefill.json", 20},
                      ScenarioCase{"cmos_realistic_host.json", 30}),
    [](const auto& info) { return fs::path(info.param.file).stem().string(); });

// The 65 ns of the default phases is the calibrated point (timing.handoff_cycles is fitted to
// it), so the test sets phases of its own: in decode a token takes their sum, by hand
// max(7, 3) + 17 + 19 + 13 + 11 = 67 ns.
TEST_F(Cli, DecodeOfOneLayerTakesTheSumOfItsPhases) {
  Result r = sim("run " + scenario("gpt2_layer.json") + " --tokens 40 --out " + path("o") +
                 " --quiet --set timing.phase_precharge_ns=7 --set timing.write_ns=3"
                 " --set timing.phase_q_ns=17 --set timing.phase_phi_ns=19"
                 " --set timing.phase_count_ns=13 --set timing.phase_digital_ns=11");
  ASSERT_EQ(r.code, 0) << r.err;
  json j = read_json(path("o/report.json"));
  EXPECT_DOUBLE_EQ(j["simulated_time_ns"].get<double>(), 40 * 67.0);
  EXPECT_DOUBLE_EQ(j["latency"]["per_token_ns"][0].get<double>(), 67.0);
}

TEST_F(Cli, VcdOfTheDemoScenario) {
  Result r = sim("run " + scenario("gpt2_layer.json") + " --tokens 12 --quiet --out " + path("o") +
                 " --vcd " + path("o/trace.vcd"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string vcd = slurp(path("o/trace.vcd"));
  EXPECT_NE(vcd.find("$scope module head0 $end"), std::string::npos);
  EXPECT_NE(vcd.find("phase"), std::string::npos);
  EXPECT_NE(vcd.find("$scope module power $end"), std::string::npos);
  // The last time stamp is the end of the run: 12 tokens x 65 ns, in picoseconds.
  EXPECT_NE(vcd.rfind("#780000"), std::string::npos);
  EXPECT_EQ(vcd.find("#780001"), std::string::npos);
  for (const auto& e : fs::directory_iterator(path("o"))) {
    EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos) << e.path();
  }
}

TEST_F(Cli, SameSeedSameResults) {
  for (const char* out : {"a", "b"}) {
    ASSERT_EQ(sim("run " + scenario("window_wrap.json") + " --tokens 300 --seed 11 --out " +
                  path(out) + " --quiet")
                  .code,
              0);
  }
  json a = read_json(path("a/report.json")), b = read_json(path("b/report.json"));
  for (json* j : {&a, &b}) {
    j->erase("wall_time_s");
    j->erase("tokens_per_second");
    j->erase("tokens_per_second_steady_state");
    j->erase("memory");  // measured memory of the process
  }
  EXPECT_TRUE(a == b) << "reports differ beyond the wall-time and memory fields";
  EXPECT_EQ(slurp(path("a/modules.csv")), slurp(path("b/modules.csv")));
  // Another seed gives other outputs.
  ASSERT_EQ(sim("run " + scenario("window_wrap.json") + " --tokens 300 --seed 12 --out " +
                path("c") + " --quiet")
                .code,
            0);
  EXPECT_NE(read_json(path("c/report.json"))["outputs"]["fnv1a64"], a["outputs"]["fnv1a64"]);
}

TEST_F(Cli, HeadReproducesTheAuthorsVectors) {
  if (!authors_present()) GTEST_SKIP() << "authors' data not found in " << authors();
  auto Q = gca::tb::read_npy(authors() + "/Q.npy"), K = gca::tb::read_npy(authors() + "/K.npy"),
       V = gca::tb::read_npy(authors() + "/V.npy"), S = gca::tb::read_npy(authors() + "/S.npy"),
       O = gca::tb::read_npy(authors() + "/output.npy");
  const int c = 3, T = 64, d = 64;
  auto slice = [&](const gca::tb::NpyArray& a, const std::string& name) {
    std::vector<double> v(a.data.begin() + c * T * d, a.data.begin() + (c + 1) * T * d);
    gca::tb::write_npy(path(name), {std::size_t(T), std::size_t(d)}, v, gca::tb::NpyDtype::Float64);
  };
  slice(Q, "q.npy");
  slice(K, "k.npy");
  slice(V, "v.npy");
  Result r = sim("head --q " + path("q.npy") + " --k " + path("k.npy") + " --v " + path("v.npy") +
                 " --out " + path("h") +
                 " --set window=64 --set quant.q_levels=0 --set quant.kv_levels=0 " +
                 "--set quant.out_levels=0 --set retention.tau_ms=0 --dump-scores");
  ASSERT_EQ(r.code, 0) << r.err;
  auto out = gca::tb::read_npy(path("h/out.npy")), scores = gca::tb::read_npy(path("h/scores.npy"));
  ASSERT_EQ(out.shape, (std::vector<std::size_t>{64, 64}));
  ASSERT_EQ(scores.shape, (std::vector<std::size_t>{64, 64}));
  double eo = 0, ro = 0, es = 0, rs = 0;
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < d; ++i) {
      const double o = O.at(c, t, i);
      eo += std::pow(out.at(t, i) - o, 2), ro += o * o;
    }
    for (int a = 0; a <= t; ++a) {  // age a is the key of token t - a
      const double s = S.at(c, t, t - a);
      es += std::pow(scores.at(t, a) - s, 2), rs += s * s;
    }
    for (int a = t + 1; a < T; ++a) EXPECT_EQ(scores.at(t, a), 0.0);
  }
  EXPECT_LT(std::sqrt(eo / ro), 1e-2);
  EXPECT_LT(std::sqrt(es / rs), 1e-2);
}

// Random Q, K, V files for `gca-sim head`: T tokens of d_head 64.
void write_qkv(const std::string& dir, int T) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const char* name : {"q", "k", "v"}) {
    std::vector<double> x(std::size_t(T) * 64);
    for (double& e : x) e = (name[0] == 'q' ? 1.0 : 0.9) * u(rng);
    gca::tb::write_npy(dir + "/" + name + ".npy", {std::size_t(T), 64}, x,
                       gca::tb::NpyDtype::Float64);
  }
}

TEST_F(Cli, HeadVariationIsSeededAndOffMeansIdeal) {
  write_qkv(dir_.string(), 160);
  auto head = [&](const std::string& out, const std::string& extra) {
    Result r = sim("head --q " + path("q.npy") + " --k " + path("k.npy") + " --v " + path("v.npy") +
                   " --out " + path(out) + " --set window=128 " + extra);
    EXPECT_EQ(r.code, 0) << r.err;
    return gca::tb::read_npy(path(out + "/out.npy")).data;
  };
  const auto ideal = head("ideal", "");
  // Every non-ideality at zero, any seed: the same bytes as the ideal model.
  head("zero", "--seed 9 --set variation.cell_gain_sigma=0 --set noise.read_sigma=0");
  EXPECT_EQ(slurp(path("zero/out.npy")), slurp(path("ideal/out.npy")));
  auto rel = [&](const std::vector<double>& a) {
    double e = 0, r = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      e += (a[i] - ideal[i]) * (a[i] - ideal[i]), r += ideal[i] * ideal[i];
    return std::sqrt(e / r);
  };
  const auto small = head("s", "--seed 1 --set variation.cell_gain_sigma=0.02");
  const auto large = head("l", "--seed 1 --set variation.cell_gain_sigma=0.10");
  head("l2", "--seed 1 --set variation.cell_gain_sigma=0.10");
  head("other", "--seed 2 --set variation.cell_gain_sigma=0.10");
  EXPECT_GT(rel(small), 0.0);
  EXPECT_GT(rel(large), rel(small));
  EXPECT_EQ(slurp(path("l2/out.npy")), slurp(path("l/out.npy")));
  EXPECT_NE(slurp(path("other/out.npy")), slurp(path("l/out.npy")));
}

TEST_F(Cli, RetentionFollowsTheHostTime) {
  auto run = [&](int host_ns) {
    const std::string sc = path("host" + std::to_string(host_ns) + ".json");
    std::ofstream(sc) << R"({"name": "h", "hardware": {"spec": "gpt2.json", "set": {"window": 128,
      "model.n_layers": 2, "model.n_heads": 1, "retention.tau_ms": 5,
      "timing.phase_digital_ns": 15}},
      "workload": {"mode": "decode", "tokens": 150, "host_ns_per_layer": )"
                      << host_ns << R"(}, "report": {"plots": false}})";
    Result r = sim("run " + sc + " --quiet --out " + path("o" + std::to_string(host_ns)));
    EXPECT_EQ(r.code, 0) << r.err;
    return read_json(path("o" + std::to_string(host_ns) + "/report.json"));
  };
  const json fast = run(0), slow = run(100000);
  EXPECT_NE(fast["outputs"]["fnv1a64"], slow["outputs"]["fnv1a64"]);
  EXPECT_EQ(fast["check"]["mismatches"].get<long>(), 0);
  EXPECT_EQ(slow["check"]["mismatches"].get<long>(), 0);
  // Oldest of 128 tokens: 127 token periods of 2 x (65 + host) ns.
  EXPECT_NEAR(fast["retention"]["oldest_token_age_ns"].get<double>(), 127 * 130.0, 1e-6);
  EXPECT_NEAR(slow["retention"]["oldest_token_age_ns"].get<double>(), 127 * 200130.0, 1e-3);
  EXPECT_GT(slow["retention"]["decay_output_rel_l2"].get<double>(),
            fast["retention"]["decay_output_rel_l2"].get<double>());
}

TEST_F(Cli, MonteCarloOverChips) {
  const std::string base =
      "mc " + scenario("window_wrap.json") +
      " --chips 3 --tokens 120 --no-plots --set variation.cell_gain_sigma=0.05 "
      "--set noise.read_sigma=0.01 --out ";
  Result r = sim(base + path("a") + " --jobs 2");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sim(base + path("b") + " --jobs 1").code, 0);
  // The same chips whatever the number of jobs.
  EXPECT_EQ(slurp(path("a/mc.json")), slurp(path("b/mc.json")));
  EXPECT_EQ(slurp(path("a/mc_chips.csv")), slurp(path("b/mc_chips.csv")));
  json j = read_json(path("a/mc.json"));
  EXPECT_EQ(j["chips"].get<int>(), 3);
  EXPECT_GT(j["output_rel_l2"]["mean"].get<double>(), 0.0);
  EXPECT_GT(j["output_rel_l2"]["std"].get<double>(), 0.0);  // chips differ
  EXPECT_LE(j["topk_overlap"]["max"].get<double>(), 1.0);
  expect_bad_input(sim("mc " + scenario("window_wrap.json") + " --chips 2 --out " + path("c")),
                   "no non-ideality is on");
  expect_bad_input(sim("mc " + scenario("window_wrap.json") + " --out " + path("c")), "--chips");
}

// The Monte Carlo figures of one chip, recomputed here from two `gca-sim head` runs (the SystemC
// model, with the same seed) instead of the executable spec that `mc` uses.
TEST_F(Cli, MonteCarloFiguresMatchTwoHeadRuns) {
  write_qkv(dir_.string(), 150);
  std::ofstream(path("sc.json")) << R"({"name": "mc_npy", "hardware": {"spec": "gpt2.json",
    "set": {"window": 128, "model.n_layers": 1, "model.n_heads": 1}},
    "workload": {"mode": "decode", "tokens": 150},
    "stimulus": {"kind": "npy", "q": "q.npy", "k": "k.npy", "v": "v.npy"}})";
  const std::string sets = " --set variation.cell_gain_sigma=0.05 --set noise.read_sigma=0.01";
  ASSERT_EQ(
      sim("mc " + path("sc.json") + " --chips 1 --seed 4 --no-plots --out " + path("mc") + sets)
          .code,
      0);
  const std::string files =
      " --q " + path("q.npy") + " --k " + path("k.npy") + " --v " + path("v.npy");
  ASSERT_EQ(sim("head" + files + " --set window=128 --out " + path("ideal")).code, 0);
  ASSERT_EQ(sim("head" + files + " --set window=128 --seed 4 --out " + path("chip") + sets).code,
            0);
  const auto ideal = gca::tb::read_npy(path("ideal/out.npy")).data;
  const auto chip = gca::tb::read_npy(path("chip/out.npy")).data;
  double e = 0, r = 0;
  long moved = 0;
  for (std::size_t i = 0; i < ideal.size(); ++i) {
    e += (chip[i] - ideal[i]) * (chip[i] - ideal[i]);
    r += ideal[i] * ideal[i];
    moved += std::fabs(chip[i] - ideal[i]) > 1.0 / 31.0;  // half a counter level (2/31)
  }
  const json j = read_json(path("mc/mc.json"));
  // out.npy holds float32: agreement to its precision.
  EXPECT_NEAR(j["output_rel_l2"]["mean"].get<double>(), std::sqrt(e / r), 1e-6);
  EXPECT_NEAR(j["outputs_moved_one_level_share"]["mean"].get<double>(),
              double(moved) / double(ideal.size()), 1e-12);
}

TEST_F(Cli, BadParametersAndFlags) {
  const std::string sc = scenario("gpt2_layer.json") + " --quiet --out " + path("o");
  expect_bad_input(sim("run " + sc + " --set no.such=1"), "no.such: unknown parameter");
  expect_bad_input(sim("run " + sc + " --set quant.q_levels=1"), "quant.q_levels");
  expect_bad_input(sim("run " + sc + " --set window=0"),
                   "window: 0 is out of range (allowed: integer in [1, 1048576])");
  expect_bad_input(sim("run " + sc + " --tokens 0"), "--tokens");
  expect_bad_input(sim("run " + sc + " --tokens -5"), "--tokens");
  expect_bad_input(sim("run " + sc + " --frobnicate"), "--frobnicate");
  expect_bad_input(sim("run " + path("missing.json")), "cannot open scenario file");
  expect_bad_input(sim("bogus"), "unknown command");
  EXPECT_FALSE(fs::exists(path("o/report.json")));
}

TEST_F(Cli, BadScenarioFiles) {
  std::ofstream(path("broken.json"))
      << "{\n  \"name\": \"x\",\n  \"workload\": {\"tokens\": }\n}\n";
  Result r = sim("run " + path("broken.json") + " --out " + path("o"));
  expect_bad_input(r, "malformed JSON");
  EXPECT_NE(r.err.find("line 3, column"), std::string::npos) << r.err;
  std::ofstream(path("mode.json")) << R"({"workload": {"mode": "sideways"}})";
  expect_bad_input(sim("run " + path("mode.json") + " --out " + path("o")), "workload.mode");
  std::ofstream(path("key.json")) << R"({"workload": {"tokenz": 3}})";
  expect_bad_input(sim("run " + path("key.json") + " --out " + path("o")),
                   "workload.tokenz: unknown key");
  std::ofstream(path("neg.json")) << R"({"workload": {"tokens": -4}})";
  expect_bad_input(sim("run " + path("neg.json") + " --out " + path("o")), "workload.tokens");
  EXPECT_FALSE(fs::exists(path("o/report.json")));
}

TEST_F(Cli, UnwritableOutputFolder) {
  fs::create_directories(path("ro"));
  std::ofstream(path("ro/file")) << "x";
  // A folder below a regular file cannot be created.
  expect_bad_input(sim("run " + scenario("gpt2_layer.json") + " --tokens 2 --quiet --out " +
                       path("ro/file/sub")),
                   "cannot write to the output folder");
}

TEST_F(Cli, BadDataFilesLeaveNoOutput) {
  const int T = 8, d = 64;
  std::vector<double> good(T * d, 0.5);
  gca::tb::write_npy(path("q.npy"), {std::size_t(T), std::size_t(d)}, good);
  gca::tb::write_npy(path("k.npy"), {std::size_t(T), std::size_t(d)}, good);
  gca::tb::write_npy(path("v.npy"), {std::size_t(T), std::size_t(d)}, good);
  auto head = [&](const std::string& q, const std::string& k, const std::string& v) {
    return sim("head --q " + path(q) + " --k " + path(k) + " --v " + path(v) + " --out " +
               path("h") + " --set window=64");
  };
  ASSERT_EQ(head("q.npy", "k.npy", "v.npy").code, 0);  // the good files work
  fs::remove_all(path("h"));
  // Wrong shape, wrong length, NaN, truncated, wrong dtype, missing.
  gca::tb::write_npy(path("wide.npy"), {std::size_t(T), 65}, std::vector<double>(T * 65, 0.5));
  expect_bad_input(head("wide.npy", "k.npy", "v.npy"), "wide.npy");
  gca::tb::write_npy(path("short.npy"), {4, std::size_t(d)}, std::vector<double>(4 * d, 0.5));
  expect_bad_input(head("q.npy", "short.npy", "v.npy"), "short.npy");
  std::vector<double> nan = good;
  nan[77] = std::nan("");
  gca::tb::write_npy(path("nan.npy"), {std::size_t(T), std::size_t(d)}, nan);
  expect_bad_input(head("q.npy", "k.npy", "nan.npy"), "nan.npy");
  std::string bytes = slurp(path("q.npy"));
  std::ofstream(path("trunc.npy"), std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  expect_bad_input(head("trunc.npy", "k.npy", "v.npy"), "trunc.npy");
  std::string hdr = bytes;
  const auto p = hdr.find("<f4");
  ASSERT_NE(p, std::string::npos);
  hdr.replace(p, 3, "<i4");
  std::ofstream(path("int.npy"), std::ios::binary) << hdr;
  expect_bad_input(head("int.npy", "k.npy", "v.npy"), "int.npy");
  expect_bad_input(head("none.npy", "k.npy", "v.npy"), "none.npy");
  EXPECT_FALSE(fs::exists(path("h/out.npy")));
}

}  // namespace
