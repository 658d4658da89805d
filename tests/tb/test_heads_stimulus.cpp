// The heads stimulus of gca-sim run ([L, H, T, d] files, every head its own stream), as a user
// runs it: each head's output must be what `gca-sim head` gives on that head's slices alone, and
// a file of the wrong shape is one clear line naming it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/spec/child_process.hpp"
#include "gca/tb/npy.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kLayers = 2, kHeads = 2, kTokens = 90, kD = 64;

class HeadsStimulus : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gca_heads_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }
  // gca-sim started from an argument vector (no shell), stdout and stderr into one log.
  int sim(const std::string& args, std::string* err = nullptr) {
    std::vector<std::string> argv = {GCA_SIM};
    std::istringstream words(args);  // the tests' paths hold no spaces
    for (std::string w; words >> w;) argv.push_back(w);
    const std::string log = path("sim.log");
    const gca::ChildRun run = gca::run_program(argv, "", log);
    if (err) {
      std::ifstream in(log);
      std::stringstream s;
      s << in.rdbuf();
      *err = s.str();
    }
    return run.started ? run.exit_code : -1;
  }
  // Random streams [layers, heads, T, d]: q in [0, 1], k and v in [0, 0.9] V; every head differs.
  std::vector<double> stream(const char* name, int layers, int heads, unsigned seed) const {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, name[0] == 'q' ? 1.0 : 0.9);
    std::vector<double> x(std::size_t(layers) * heads * kTokens * kD);
    for (double& e : x) e = u(rng);
    return x;
  }
  void write_streams(int layers, int heads) {
    unsigned seed = 11;
    for (const char* n : {"q", "k", "v"}) {
      data_[n[0]] = stream(n, layers, heads, seed++);
      gca::tb::write_npy(path(std::string(n) + ".npy"),
                         {std::size_t(layers), std::size_t(heads), kTokens, kD}, data_[n[0]],
                         gca::tb::NpyDtype::Float64);
    }
  }
  // The slices of head (l, h) as [T, d] files for `gca-sim head`.
  void write_slices(int l, int h) {
    for (const char* n : {"q", "k", "v"}) {
      const auto& x = data_[n[0]];
      const std::size_t off = (std::size_t(l) * kHeads + h) * kTokens * kD;
      std::vector<double> s(x.begin() + off, x.begin() + off + std::size_t(kTokens) * kD);
      gca::tb::write_npy(path(std::string("s") + n + ".npy"), {kTokens, kD}, s,
                         gca::tb::NpyDtype::Float64);
    }
  }
  void write_scenario(const std::string& expect, int l, int h, int layers, int heads) {
    std::ofstream(path("sc.json"))
        << R"({"name": "heads", "hardware": {"spec": "gpt2.json", "set": {"window": 128,
          "model.n_layers": )"
        << layers << R"(, "model.n_heads": )" << heads << R"(}},
          "workload": {"mode": "decode", "tokens": )"
        << kTokens << R"(},
          "stimulus": {"kind": "heads", "q": "q.npy", "k": "k.npy", "v": "v.npy"},
          "check": {"expect_out": ")"
        << expect << R"(", "expect_layer": )" << l << R"(, "expect_head": )" << h
        << R"(, "max_rel_l2": 1e-6}})";
  }
  fs::path dir_;
  std::map<char, std::vector<double>> data_;
};

TEST_F(HeadsStimulus, EveryHeadGetsItsOwnStream) {
  write_streams(kLayers, kHeads);
  for (int l = 0; l < kLayers; ++l) {
    for (int h = 0; h < kHeads; ++h) {
      write_slices(l, h);
      const std::string out = "h" + std::to_string(l) + std::to_string(h);
      ASSERT_EQ(sim("head --q " + path("sq.npy") + " --k " + path("sk.npy") + " --v " +
                    path("sv.npy") + " --set window=128 --out " + path(out)),
                0);
    }
  }
  for (int l = 0; l < kLayers; ++l) {
    for (int h = 0; h < kHeads; ++h) {
      const std::string own = path("h" + std::to_string(l) + std::to_string(h) + "/out.npy");
      write_scenario(own, l, h, kLayers, kHeads);
      std::string err;
      EXPECT_EQ(sim("run " + path("sc.json") + " --quiet --no-plots --out " + path("r"), &err), 0)
          << "layer " << l << " head " << h << ": " << err;
      std::ifstream in(path("r/report.json"));
      const auto j = nlohmann::json::parse(in);
      EXPECT_LT(j["check"]["expected_out_rel_l2"].get<double>(), 1e-6);  // float32 out.npy
      EXPECT_EQ(j["check"]["mismatches"].get<long>(), 0);
      // Another head's output is not this head's: the check fails.
      const int other = (h + 1) % kHeads;
      write_scenario(path("h" + std::to_string(l) + std::to_string(other) + "/out.npy"), l, h,
                     kLayers, kHeads);
      EXPECT_NE(sim("run " + path("sc.json") + " --quiet --no-plots --out " + path("r2")), 0);
    }
  }
}

TEST_F(HeadsStimulus, WrongShapeIsOneLineNamingTheFile) {
  write_streams(kLayers, kHeads);
  std::ofstream(path("sc.json")) << R"({"name": "heads", "hardware": {"spec": "gpt2.json",
      "set": {"window": 128, "model.n_layers": 2, "model.n_heads": 3}},
      "workload": {"mode": "decode", "tokens": 50},
      "stimulus": {"kind": "heads", "q": "q.npy", "k": "k.npy", "v": "v.npy"}})";
  std::string err;
  EXPECT_EQ(sim("run " + path("sc.json") + " --quiet --out " + path("r"), &err), 2);
  EXPECT_NE(err.find(path("q.npy")), std::string::npos) << err;
  EXPECT_NE(err.find("[L, H, T, d] = [2, 3, T >= 50, 64]"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(fs::exists(path("r/report.json")));
  // Too few tokens in the files.
  std::ofstream(path("sc.json")) << R"({"name": "heads", "hardware": {"spec": "gpt2.json",
      "set": {"window": 128, "model.n_layers": 2, "model.n_heads": 2}},
      "workload": {"mode": "decode", "tokens": 500},
      "stimulus": {"kind": "heads", "q": "q.npy", "k": "k.npy", "v": "v.npy"}})";
  EXPECT_EQ(sim("run " + path("sc.json") + " --quiet --out " + path("r"), &err), 2);
  EXPECT_NE(err.find("T >= 500"), std::string::npos) << err;
}

}  // namespace
