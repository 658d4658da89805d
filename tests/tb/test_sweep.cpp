// gca-sim sweep as a user runs it (each gca-sim call its own process): a 2x2 grid against
// single runs of its points, shards merged into the same bytes, resume after a kill, a failed
// point recorded without stopping the others, scenario keys reaching the run, bad sweep files;
// and the Pareto front on points worked out by hand.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "gca/spec/child_process.hpp"
#include "gca/tb/sweep_merge.hpp"
#include "sim_process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Result {
  int code = -1;
  std::string out, err;
};

using Row = std::map<std::string, std::string>;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// sweep.csv as rows of column -> cell (the test files hold no quoted cells but the error).
std::vector<Row> read_csv(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::vector<std::string> header;
  std::vector<Row> rows;
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char c : l) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted)
        cells.push_back(cell), cell.clear();
      else
        cell += c;
    }
    cells.push_back(cell);
    return cells;
  };
  if (!std::getline(in, line)) return rows;
  header = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    Row r;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) r[header[i]] = cells[i];
    rows.push_back(r);
  }
  return rows;
}

class Sweep : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / ("gca_sweep_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // gca-sim with the words of `args` as its arguments (an argument vector, no shell).
  Result sim(const std::string& args, const std::string& log_stem = "std") {
    std::vector<std::string> argv = gca::test::words(args);
    argv.insert(argv.begin(), GCA_SIM);
    const gca::test::ProcessResult r =
        gca::test::run_process(argv, path(log_stem + "out.txt"), path(log_stem + "err.txt"));
    return {r.code, r.out, r.err};
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string tiny() { return std::string(GCA_TEST_DIR) + "/sweep_tiny.json"; }

  fs::path dir_;
};

double num(const Row& r, const std::string& column) {
  EXPECT_TRUE(r.count(column) && !r.at(column).empty()) << column;
  return r.count(column) ? std::strtod(r.at(column).c_str(), nullptr) : NAN;
}

TEST_F(Sweep, GridRowsEqualSingleRunsOfTheirPoints) {
  Result r = sim("sweep " + tiny() + " --jobs 2 --quiet --out " + path("s"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = read_csv(path("s/sweep.csv"));
  ASSERT_EQ(rows.size(), 4u);
  // The grid in file order, the last key varying fastest.
  const std::pair<int, int> expect[] = {{64, 32}, {64, 64}, {128, 32}, {128, 64}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const int window = expect[i].first, cols = expect[i].second;
    EXPECT_EQ(row.at("window"), std::to_string(window));
    EXPECT_EQ(row.at("array.cols"), std::to_string(cols));
    EXPECT_EQ(row.at("tokens"), std::to_string(window + 40));
    EXPECT_EQ(row.at("status"), "ok");
    EXPECT_EQ(row.at("check"), "pass");
    // The same point as one `gca-sim run`, read straight from its report.
    const std::string single = path("single" + std::to_string(i));
    Result one = sim("run " + std::string(GCA_SCENARIOS) + "/gpt2_layer.json --tokens " +
                     std::to_string(window + 40) +
                     " --set model.n_heads=2 --set timing.phase_digital_ns=15 --set window=" +
                     std::to_string(window) + " --set array.cols=" + std::to_string(cols) +
                     " --quiet --out " + single);
    ASSERT_EQ(one.code, 0) << one.err;
    std::ifstream in(single + "/report.json");
    const json rep = json::parse(in);
    const double latency = rep["latency"]["end_to_end_ns_per_token"].get<double>();
    const double energy =
        rep["energy"]["steady_state_per_head_per_token_pj"]["total"].get<double>() * 2;
    EXPECT_NEAR(num(row, "end_to_end_ns_per_token"), latency, 1e-9 * latency);
    EXPECT_NEAR(num(row, "energy_per_token_pj"), energy, 1e-9 * energy);
    EXPECT_NEAR(num(row, "area_mm2"), rep["area_mm2"]["model"].get<double>(), 1e-9);
    EXPECT_EQ(row.at("outputs_fnv1a64"), rep["outputs"]["fnv1a64"].get<std::string>());
    // One layer, the digital phase pinned: 5 + 15 + 15 + 15 + 15 ns.
    EXPECT_NEAR(num(row, "end_to_end_ns_per_token"), 65.0, 1e-9);
  }
  // The window's columns cost energy: window 128 spends more per token than window 64.
  EXPECT_GT(num(rows[2], "energy_per_token_pj"), num(rows[0], "energy_per_token_pj"));
  const json sj = json::parse(slurp(path("s/sweep.json")));
  EXPECT_EQ(sj["points"].size(), 4u);
  EXPECT_EQ(sj["keys"], json({"window", "array.cols"}));
  if (gca::on_path("gnuplot")) {
    for (const char* png : {"sweep_pareto.png", "sweep_energy_split.png", "sweep_vs_window.png",
                            "sweep_vs_array.cols.png"})
      EXPECT_GT(fs::file_size(path(std::string("s/") + png)), 1000u) << png;
  }
}

TEST_F(Sweep, TwoShardsInTwoProcessesMergeIntoTheSameBytes) {
  ASSERT_EQ(sim("sweep " + tiny() + " --jobs 2 --quiet --out " + path("whole")).code, 0);
  // The two shards as two processes at the same time.
  const std::string g = "sweep " + tiny() + " --quiet --jobs 1 --out " + path("sharded");
  Result shard0;
  std::thread first([&] { shard0 = sim(g + " --shard 0/2", "shard0_"); });
  const Result shard1 = sim(g + " --shard 1/2", "shard1_");
  first.join();
  ASSERT_GE(shard0.code, 0) << shard0.err;
  ASSERT_GE(shard1.code, 0) << shard1.err;
  EXPECT_FALSE(fs::exists(path("sharded/sweep.csv")));  // shards alone do not merge
  Result m = sim("sweep " + tiny() + " --merge --out " + path("sharded"));
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(slurp(path("sharded/sweep.csv")), slurp(path("whole/sweep.csv")));
  EXPECT_EQ(slurp(path("sharded/sweep.json")), slurp(path("whole/sweep.json")));
}

TEST_F(Sweep, AMergeOfOneShardShowsTheOthersAsMissing) {
  Result r = sim("sweep " + tiny() + " --shard 1/2 --merge --quiet --out " + path("s"));
  EXPECT_EQ(r.code, 1);
  const auto rows = read_csv(path("s/sweep.csv"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].at("status"), "missing");
  EXPECT_EQ(rows[1].at("status"), "ok");
  EXPECT_EQ(rows[2].at("status"), "missing");
  EXPECT_EQ(rows[3].at("status"), "ok");
  EXPECT_EQ(rows[0].at("energy_per_token_pj"), "");
}

TEST_F(Sweep, KilledMidwayThenRerunFinishesOnlyTheMissingPoints) {
  // Points long enough (~0.1-0.3 s each) that the kill lands while one is running.
  const std::string file = write("slow.json", R"({
    "name": "slow", "scenario": "gpt2_layer.json", "tokens": 1500,
    "set": {"model.n_heads": 4, "window": 256},
    "points": [{"stimulus.seed": 1}, {"stimulus.seed": 2}, {"stimulus.seed": 3},
               {"stimulus.seed": 4}, {"stimulus.seed": 5}, {"stimulus.seed": 6}]})");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(GCA_SIM, GCA_SIM, "sweep", file.c_str(), "--jobs", "1", "--quiet", "--out",
            path("s").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill the driver (SIGKILL: no chance to clean up) once two points are complete.
  auto done = [&] {
    int n = 0;
    for (int i = 0; i < 6; ++i)
      n += fs::exists(path("s/points/p00" + std::to_string(i) + "/point.json"));
    return n;
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done() < 2 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int complete = done();
  ASSERT_GE(complete, 2);
  if (complete == 6) GTEST_SKIP() << "the sweep finished before it could be killed";
  std::map<std::string, fs::file_time_type> before;
  for (int i = 0; i < 6; ++i) {
    const std::string rep = path("s/points/p00" + std::to_string(i) + "/run/report.json");
    if (fs::exists(path("s/points/p00" + std::to_string(i) + "/point.json")))
      before[rep] = fs::last_write_time(rep);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the killed run's child exits
  Result again = sim("sweep " + file + " --jobs 2 --out " + path("s"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find(std::to_string(6 - complete) + " run now, " + std::to_string(complete) +
                           " already complete"),
            std::string::npos)
      << again.out;
  for (const auto& [rep, t] : before) EXPECT_EQ(fs::last_write_time(rep), t) << rep;
  // The resumed sweep equals one run without interruption.
  ASSERT_EQ(sim("sweep " + file + " --jobs 2 --quiet --out " + path("clean")).code, 0);
  EXPECT_EQ(slurp(path("s/sweep.csv")), slurp(path("clean/sweep.csv")));
}

TEST_F(Sweep, AFailedPointIsRecordedAndTheOthersRun) {
  const std::string file = write("fail.json", R"({
    "scenario": "gpt2_layer.json", "tokens": 20, "set": {"model.n_heads": 1, "window": 64},
    "points": [{"quant.q_levels": 16}, {"quant.q_levels": 1}, {"quant.q_levels": 0}]})");
  Result r = sim("sweep " + file + " --jobs 2 --quiet --out " + path("s"));
  EXPECT_EQ(r.code, 1);
  const auto rows = read_csv(path("s/sweep.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(rows[1].at("status"), "failed");
  EXPECT_EQ(rows[1].at("exit_code"), "2");  // bad input, as `gca-sim run` says
  EXPECT_NE(rows[1].at("error").find("quant.q_levels"), std::string::npos) << rows[1].at("error");
  EXPECT_EQ(rows[1].at("energy_per_token_pj"), "");
  EXPECT_EQ(rows[2].at("status"), "ok");
}

TEST_F(Sweep, ScenarioKeysReachTheRun) {
  // Two layers; host time per layer 0 or 1000 ns; 10 tokens. The host's time adds to every
  // layer of every token but possibly the run's very last one: between L*h*(T-1)/T and L*h.
  const std::string file = write("host.json", R"({
    "scenario": "gpt2_layer.json", "tokens": 10,
    "set": {"model.n_heads": 1, "model.n_layers": 2, "window": 64, "timing.phase_digital_ns": 15},
    "grid": {"workload.host_ns_per_layer": [0, 1000]}})");
  Result r = sim("sweep " + file + " --jobs 2 --quiet --out " + path("s"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = read_csv(path("s/sweep.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NEAR(num(rows[0], "end_to_end_ns_per_token"), 2 * 65.0, 1e-9);
  const double added =
      num(rows[1], "end_to_end_ns_per_token") - num(rows[0], "end_to_end_ns_per_token");
  EXPECT_GE(added, 2 * 1000.0 * 9 / 10 - 1e-9);
  EXPECT_LE(added, 2 * 1000.0 + 1e-9);
  const json rep = json::parse(slurp(path("s/points/p001/run/report.json")));
  EXPECT_EQ(rep["scenario_config"]["workload"]["host_ns_per_layer"].get<double>(), 1000.0);
}

TEST_F(Sweep, BadSweepFilesGetOneLineAndNoOutput) {
  struct Case {
    const char* text;
    const char* mentions;
  } cases[] = {
      {R"({"scenario": "gpt2_layer.json", "tokens": 10, "grid": {"windw": [64]}})", "grid.windw"},
      {R"({"scenario": "gpt2_layer.json", "tokens": 10})", "grid"},
      {R"({"scenario": "nope.json", "tokens": 10, "grid": {"window": [64]}})", "scenario"},
      {R"({"scenario": "gpt2_layer.json", "tokens": "cols+1", "grid": {"window": [64]}})",
       "tokens"},
      {R"({"scenario": "gpt2_layer.json", "tokens": 10, "grid": {"window": []}})", "grid.window"},
      {R"({"scenario": "gpt2_layer.json", "tokens": 10, "points": [{"window": 64}, {"array.cols": 32}]})",
       "points[1]"},
      {R"({"scenario": "gpt2_layer.json", "tokens": 10, "grid": {"window": [64]}, "jobs": 2})",
       "jobs"},
  };
  for (const auto& c : cases) {
    const std::string file = write("bad.json", c.text);
    Result r = sim("sweep " + file + " --out " + path("o"));
    EXPECT_EQ(r.code, 2) << c.text;
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(path("o"))) << c.text;
  }
  for (const char* args : {"--shard 2/2", "--shard x", "--jobs 0", "--backend pbs"}) {
    Result r = sim("sweep " + tiny() + " " + args + " --out " + path("o"));
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(path("o"))) << args;
  }
}

TEST_F(Sweep, SlurmScriptIsAJobArrayOfShards) {
  Result r = sim("sweep " + tiny() + " --backend slurm --no-submit --jobs 3 --out " + path("s"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string script = slurp(path("s/sweep.sbatch"));
  EXPECT_NE(script.find("#SBATCH --array=0-3%3\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --cpus-per-task=1\n"), std::string::npos) << script;
  EXPECT_NE(script.find("--shard \"${SLURM_ARRAY_TASK_ID}/4\" --jobs 1"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("s/sweep.csv")));
}

TEST_F(Sweep, ShippedSweepsAreValid) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(GCA_SWEEPS)) {
    if (e.path().extension() != ".json") continue;
    ++n;
    // Loads and expands the file, writes the job script, runs nothing.
    Result r = sim("sweep " + e.path().string() + " --backend slurm --no-submit --quiet --out " +
                   path(e.path().stem().string()));
    EXPECT_EQ(r.code, 0) << e.path() << ": " << r.err;
  }
  EXPECT_GE(n, 3);
}

TEST_F(Sweep, ScenarioSetBadInputIsOneLine) {
  const std::string run =
      "run " + std::string(GCA_SCENARIOS) + "/gpt2_layer.json --tokens 5 --out " + path("o") + " ";
  for (const auto& [args, mentions] : std::vector<std::pair<std::string, std::string>>{
           {"--scenario-set workload", "--scenario-set"},
           {"--scenario-set workload.tokenz=3", "workload.tokenz"},
           {"--scenario-set workload.host_ns_per_layer=-1", "workload.host_ns_per_layer"},
           {"--scenario-set name.x=1", "name"}}) {
    Result r = sim(run + args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(path("o/report.json"))) << args;
  }
}

// A sweep file with "monte_carlo": each point also runs chips; the Monte Carlo figures become
// columns without any column being declared for them, and a point's figures equal those of
// `gca-sim mc` on the same point (chip seeds 1.., the stimulus of the scenario).
TEST_F(Sweep, MonteCarloSweepHasAccuracyColumns) {
  const std::string file = write("mc.json", R"({"name": "mc_tiny", "scenario": "window_wrap.json",
    "tokens": 40, "set": {"variation.cell_gain_sigma": 0.05},
    "grid": {"noise.read_sigma": [0, 0.02]}, "monte_carlo": {"chips": 2}})");
  Result r = sim("sweep " + file + " --jobs 2 --quiet --seed 1 --out " + path("s"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = read_csv(path("s/sweep.csv"));
  ASSERT_EQ(rows.size(), 2u);
  for (const char* column : {"mc_output_rel_l2_mean", "mc_output_rel_l2_std",
                             "mc_outputs_moved_share_mean", "mc_topk_overlap_mean"}) {
    ASSERT_TRUE(rows[0].count(column)) << column;
    EXPECT_FALSE(rows[0].at(column).empty()) << column;
  }
  // More read noise, more error.
  EXPECT_GT(std::stod(rows[1].at("mc_output_rel_l2_mean")),
            std::stod(rows[0].at("mc_output_rel_l2_mean")));
  ASSERT_EQ(sim("mc " + std::string(GCA_SCENARIOS) +
                "/window_wrap.json --chips 2 --tokens 40 --seed 1 --no-plots --quiet "
                "--set variation.cell_gain_sigma=0.05 --set noise.read_sigma=0.02 --out " +
                path("mc"))
                .code,
            0);
  std::ifstream in(path("mc/mc.json"));
  const auto mc = nlohmann::json::parse(in);
  EXPECT_NEAR(std::stod(rows[1].at("mc_output_rel_l2_mean")),
              mc["output_rel_l2"]["mean"].get<double>(), 1e-9);
}

// The shared options mean the same on run, mc and sweep: --quiet, --progress, --no-plots,
// --seed, --set and --scenario-set are accepted by each, and --help lists them.
TEST_F(Sweep, SharedOptionsOnEveryCommand) {
  const std::string sc = std::string(GCA_SCENARIOS) + "/window_wrap.json";
  const std::string shared =
      " --quiet --no-plots --seed 3 --set variation.cell_gain_sigma=0.05 "
      "--scenario-set workload.host_ns_per_layer=10 --progress";
  EXPECT_EQ(sim("run " + sc + " --tokens 8" + shared + " --out " + path("r")).code, 0);
  EXPECT_EQ(sim("mc " + sc + " --chips 1 --tokens 8" + shared + " --out " + path("m")).code, 0);
  const std::string file = write("one.json", R"({"scenario": "window_wrap.json", "tokens": 8,
    "points": [{"window": 64}]})");
  EXPECT_EQ(sim("sweep " + file + shared + " --out " + path("s")).code, 0);
  for (const char* cmd : {"run", "mc", "sweep", "head"}) {
    Result h = sim(std::string(cmd) + " --help");
    EXPECT_EQ(h.code, 0) << cmd;
    for (const char* flag : {"--set", "--seed", "--out", "--quiet", "--progress", "--no-plots"})
      EXPECT_NE(h.out.find(flag), std::string::npos) << cmd << " " << flag;
  }
}

TEST(Pareto, FrontOfHandPickedPoints) {
  // (latency, energy): a, b, c trade off; d is dominated by b; e equals c (both kept).
  const std::vector<std::pair<double, double>> pts{
      {10, 50}, {20, 30}, {40, 10}, {25, 35}, {40, 10}};
  EXPECT_EQ(gca::tb::pareto_front(pts), (std::vector<bool>{true, true, true, false, true}));
  EXPECT_EQ(gca::tb::pareto_front({{5, 5}, {5, 6}}), (std::vector<bool>{true, false}));
}

}  // namespace
