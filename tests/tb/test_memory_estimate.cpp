// The memory check's estimate against what the kernel counts. gca-sim runs GPT-2's 144 heads at
// several windows, with and without the oracle, each run a process of its own (started with an
// argument vector); its peak resident memory comes from wait4's rusage, the estimate from the
// run's report (the figure the memory check compared with the memory available). The estimate
// must lie within 25 % of the peak. The runs simulate two tokens each: the heads' state is
// allocated whole when the model is built, so a short run reaches the peak of a long one.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim_process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Case {
  int window;
  bool oracle;
  bool analog;  // cell mismatch: a float per cell instead of a level index
};

class MemoryEstimate : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gca_memory_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(MemoryEstimate, IsWithinAQuarterOfThePeakResidentMemory) {
  const Case c = GetParam();
  json set = {{"window", c.window}};
  if (c.analog) set["variation.cell_gain_sigma"] = 0.01;
  const json scenario = {{"name", "memory"},
                         {"hardware", {{"spec", "gpt2.json"}, {"set", set}}},
                         {"workload", {{"tokens", 2}}},
                         {"check", {{"against_oracle", c.oracle}}},
                         {"report", {{"plots", false}}}};
  const std::string file = (dir_ / "memory.json").string();
  std::ofstream(file) << scenario.dump(2);
  const auto r = gca::test::run_process(
      {GCA_SIM, "run", file, "--out", (dir_ / "out").string(), "--quiet", "--no-plots"},
      (dir_ / "stdout.txt").string(), (dir_ / "stderr.txt").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const json memory =
      json::parse(gca::test::slurp_file((dir_ / "out/report.json").string()))["memory"];
  const double estimate = memory["estimated_peak_bytes"].get<double>();
  const double peak = double(r.max_rss_bytes);
  std::printf("window %d, oracle %d, analog %d: estimate %.1f MiB, peak %.1f MiB (%+.1f %%)\n",
              c.window, c.oracle, c.analog, estimate / 1048576.0, peak / 1048576.0,
              100.0 * (estimate / peak - 1.0));
  EXPECT_GT(peak, 0.0);
  EXPECT_LE(estimate, 1.25 * peak);
  EXPECT_GE(estimate, 0.75 * peak);
  // At the large windows the heads are most of the peak: the comparison tests the derived
  // parts, not the process's resident memory that the estimate starts from.
  if (c.window >= 4096) {
    const double state = memory["estimated_model_bytes"].get<double>() +
                         memory["estimated_structure_bytes"].get<double>() +
                         memory["estimated_checker_bytes"].get<double>();
    EXPECT_GT(state, 0.5 * peak);
  }
}

INSTANTIATE_TEST_SUITE_P(Windows, MemoryEstimate,
                         ::testing::Values(Case{256, false, false}, Case{1024, true, false},
                                           Case{4096, true, false}, Case{4096, false, false},
                                           Case{512, false, true}),
                         [](const auto& info) {
                           return "w" + std::to_string(info.param.window) +
                                  (info.param.oracle ? "_oracle" : "") +
                                  (info.param.analog ? "_mismatch" : "");
                         });

}  // namespace
