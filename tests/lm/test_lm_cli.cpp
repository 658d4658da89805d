// gca-sim lm as a user runs it (a child process per call, one SystemC elaboration each): the
// closed loop through the accelerator against the float surrogate, determinism, bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/spec/child_process.hpp"
#include "test_model.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using Args = std::vector<std::string>;

namespace {

struct Result {
  int code = -1;
  std::string out, err;
};

// An English text not from the training corpus (written for this test).
const char* kText =
    "the quick brown fox jumps over the lazy dog. a gain cell keeps its charge for a while, "
    "then it leaks away. we read the keys with short pulses, and the values follow. is it "
    "not odd, that a small array can hold the window of a language model? it is, and yet it "
    "works well enough to predict the next letter of a sentence like this one.\n";

class LmCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gca_lm_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    manifest_ = gca::lm::test::write_test_model((dir_ / "model").string());
    std::ofstream(path("text.txt")) << kText;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // gca-sim started from an argument vector (no shell); its stdout and stderr in one log.
  Result sim(Args args) {
    args.insert(args.begin(), GCA_SIM);
    const std::string log = path("sim.log");
    const gca::ChildRun run = gca::run_program(args, "", log);
    Result r;
    r.code = run.started ? run.exit_code : -1;
    r.out = r.err = slurp(log);
    return r;
  }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  json score(const std::string& out, const Args& extra = {}) {
    Args args = {"lm", manifest_, "--text", path("text.txt"), "--quiet", "--out", path(out)};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = sim(args);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    std::ifstream in(path(out) + "/report.json");
    return json::parse(in);
  }
  void expect_bad_input(const Result& r, const std::string& what) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  fs::path dir_;
  std::string manifest_;
};

// With default parameters (no noise, no leakage, no mismatch) the accelerator computes the
// surrogate's function: only float-versus-double rounding at a counter boundary may differ.
TEST_F(LmCli, AcceleratorAgreesWithTheFloatSurrogate) {
  const json j = score("a");
  const json& lm = j["lm"];
  const long n = static_cast<long>(std::string(kText).size());
  EXPECT_EQ(lm["chars_fed"], n);
  EXPECT_EQ(lm["chars_scored"], n - 1);
  const double acc = lm["bits_per_char"]["accelerator"], ideal = lm["bits_per_char"]["ideal"];
  EXPECT_NEAR(acc, ideal, 0.01 * ideal) << j["lm"].dump();
  EXPECT_GT(lm["bits_per_char"]["softmax"].get<double>(), 0.0);
  EXPECT_EQ(j["check"]["mismatches"], 0);
  EXPECT_GT(j["check"]["outputs_compared"].get<long>(), 0);
  EXPECT_GT(lm["energy_per_head_per_token_pj"]["text"].get<double>(), 0.0);
  EXPECT_GT(lm["energy_per_head_per_token_pj"]["uniform"].get<double>(), 0.0);
  EXPECT_NE(lm["energy_per_head_per_token_pj"]["text"],
            lm["energy_per_head_per_token_pj"]["uniform"]);
}

// Same seed, same report (wall-clock figures aside).
TEST_F(LmCli, SameSeedSameReport) {
  json a = score("a", {"--seed", "3", "--set", "noise.read_sigma=0.02"});
  json b = score("b", {"--seed", "3", "--set", "noise.read_sigma=0.02"});
  for (json* j : {&a, &b}) {
    (*j)["lm"].erase("chars_per_second");
    (*j)["lm"].erase("text");
    j->erase("wall_time_s");
  }
  EXPECT_EQ(a["lm"].dump(), b["lm"].dump());
  EXPECT_EQ(a["energy"].dump(), b["energy"].dump());
}

TEST_F(LmCli, GenerationIsDeterministicPerSeed) {
  auto generate = [&](const char* seed) {
    return sim(
        {"lm", manifest_, "--prompt", "the ", "--generate", "40", "--quiet", "--seed", seed});
  };
  const Result a = generate("4"), b = generate("4"), c = generate("5");
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_EQ(a.out.rfind("the ", 0), 0u) << a.out;
  EXPECT_GE(a.out.size(), 45u);  // the prompt, 40 characters (some may be multi-byte), newline
}

TEST_F(LmCli, BadInputIsOneLineNamingIt) {
  expect_bad_input(sim({"lm", path("none.json"), "--text", path("text.txt")}), "none.json");
  fs::remove(dir_ / "model" / "softmax" / "head.npy");
  expect_bad_input(sim({"lm", manifest_, "--text", path("text.txt")}), "softmax/head.npy");
  expect_bad_input(sim({"lm", manifest_}), "--text");
  manifest_ = gca::lm::test::write_test_model((dir_ / "model").string());
  expect_bad_input(sim({"lm", manifest_, "--text", path("missing.txt")}), "missing.txt");
  expect_bad_input(sim({"lm", manifest_, "--text", path("text.txt"), "--set", "window=0"}),
                   "window");
  EXPECT_FALSE(fs::exists(path("out")));
}

// The lm workload through `gca-sim run` (the experiment engine) gives the figures of `gca-sim
// lm`, and a two-point sweep over the read noise carries them as columns.
TEST_F(LmCli, ScenarioWorkloadAndSweepCarryTheLmFigures) {
  nlohmann::json sc = {
      {"name", "lm_test"},
      {"hardware", {{"spec", "gpt2.json"}}},
      {"workload",
       {{"kind", "lm"}, {"model", "model/manifest.json"}, {"text", "text.txt"}, {"chars", 200}}},
      {"report", {{"plots", false}}}};
  std::ofstream(path("lm_test.json")) << sc.dump(1);
  const Result run = sim({"run", path("lm_test.json"), "--quiet", "--out", path("run")});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  std::ifstream in(path("run") + "/report.json");
  const json r = json::parse(in);
  EXPECT_EQ(r["workload"]["kind"], "lm");
  EXPECT_EQ(r["workload"]["chars_fed"], 200);
  EXPECT_EQ(r["check"]["mismatches"], 0);
  EXPECT_NEAR(r["metrics"]["lm_bits_per_char"]["value"].get<double>(),
              r["metrics"]["lm_bits_per_char_ideal"]["value"].get<double>(), 0.01 * 8);
  // The first 200 characters through `gca-sim lm` give the same accelerator figure.
  const json first200 = score("first200", {"--chars", "200"});
  EXPECT_DOUBLE_EQ(r["metrics"]["lm_bits_per_char"]["value"].get<double>(),
                   first200["lm"]["bits_per_char"]["accelerator"].get<double>());

  nlohmann::json sweep = {{"name", "lm_noise"},
                          {"scenario", path("lm_test.json")},
                          {"tokens", 200},
                          {"grid", {{"noise.read_sigma", {0, 0.05}}}}};
  std::ofstream(path("sweep.json")) << sweep.dump(1);
  const Result sw =
      sim({"sweep", path("sweep.json"), "--quiet", "--jobs", "1", "--out", path("sw")});
  ASSERT_EQ(sw.code, 0) << sw.out << sw.err;
  const std::string csv = slurp(path("sw") + "/sweep.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_NE(header.find("lm_bits_per_char"), std::string::npos) << header;
  EXPECT_NE(header.find("lm_top1_accuracy"), std::string::npos) << header;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;
}

// The shipped model: read noise of 5 % of the saturation charge makes the predictions worse.
TEST_F(LmCli, ReadNoiseWorsensTheShippedModel) {
  const std::string shipped = std::string(GCA_LM_MODEL_DIR) + "/manifest.json";
  if (!fs::exists(shipped)) GTEST_SKIP() << "no shipped model at " << shipped;
  std::ifstream in(shipped);
  if (json::parse(in)["training"].value("smoke", false))
    GTEST_SKIP() << "the shipped model is the untrained smoke model";
  manifest_ = shipped;
  const json clean = score("clean", {"--chars", "300"});
  const json noisy = score("noisy", {"--chars", "300", "--set", "noise.read_sigma=0.05"});
  EXPECT_GT(noisy["lm"]["bits_per_char"]["accelerator"].get<double>(),
            clean["lm"]["bits_per_char"]["accelerator"].get<double>());
  EXPECT_EQ(clean["lm"]["bits_per_char"]["ideal"], noisy["lm"]["bits_per_char"]["ideal"]);
}

}  // namespace
