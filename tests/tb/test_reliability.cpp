// gca-sim under hostile conditions (docs/reliability.md): full disks, deep nesting, FIFOs, failed
// and interrupted runs, precision of scenario overrides, simulated-time range, names that leave the
// output folder, memory limits and the one-line error contract. Each gca-sim call is a process.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "gca/spec/child_process.hpp"
#include "gca/tb/npy.hpp"
#include "sim_process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The program under test; GCA_SIM_BINARY overrides it (to show that an older build fails).
const char* sim_binary() {
  const char* env = std::getenv("GCA_SIM_BINARY");
  return env != nullptr ? env : GCA_SIM;
}

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes a .npy header for float32 data of `shape` followed by `values` zero values; `extra`
// is inserted into the header dict (to make it malformed).
void write_raw_npy(const fs::path& p, const std::string& shape, std::size_t values,
                   const std::string& extra = "") {
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", " + extra + "}";
  const bool v2 = h.size() > 60000;
  const std::size_t prefix = v2 ? 12 : 10;
  h.append((64 - (prefix + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string bytes = std::string("\x93NUMPY", 6) + char(v2 ? 2 : 1) + '\0';
  for (int i = 0; i < (v2 ? 4 : 2); ++i) bytes += char((h.size() >> (8 * i)) & 0xff);
  bytes += h;
  bytes.append(values * 4, '\0');
  std::ofstream(p, std::ios::binary) << bytes;
}

class Reliability : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gca_rel_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (mounted_) ::umount(path("small").c_str());
    fs::remove_all(dir_);
  }

  // gca-sim with the words of `args` as its arguments, after `prefix` (a program that sets
  // the environment or a limit and runs the rest, e.g. {"env", "GCA_THREADS=5"}); an argument
  // vector, no shell.
  Result sim(const std::string& args, const std::vector<std::string>& prefix = {}) {
    return sim_argv(gca::test::words(args), prefix);
  }
  Result sim_argv(const std::vector<std::string>& args,
                  const std::vector<std::string>& prefix = {}) {
    // `timeout`: a hang fails the test instead of blocking it (exit 124).
    std::vector<std::string> argv = prefix;
    for (const char* w : {"timeout", "60", sim_binary()}) argv.push_back(w);
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    // Run inside the test's folder: a default output folder out/<name> lands there too.
    const gca::ChildRun run = gca::run_program(argv, dir_.string(), out, err);
    return {run.started ? run.exit_code : -1, slurp(out), slurp(err)};
  }
  std::string scenario(const std::string& name) { return std::string(GCA_SCENARIOS) + "/" + name; }
  std::string path(const std::string& name) { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(path(name), std::ios::binary) << text;
  }
  // Exit 2 with one line on stderr that mentions `what`, short and printable.
  void expect_bad_input(const Result& r, const std::string& what) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err.substr(0, 500);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err.substr(0, 500);
    EXPECT_LT(r.err.size(), 512u);
    EXPECT_TRUE(std::all_of(r.err.begin(), r.err.end(), [](char c) {
      return c == '\n' || (c >= 0x20 && c < 0x7f);
    })) << r.err.substr(0, 500);
  }
  // Names in `dir` left by a run: temporaries of any kind.
  static std::vector<std::string> leftovers(const fs::path& dir) {
    std::vector<std::string> found;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (n.find("partial") != std::string::npos || n.find(".gca-") != std::string::npos ||
          n.find(".tmp") != std::string::npos)
        found.push_back(it->path().string());
    }
    return found;
  }
  // A 200 KiB tmpfs at dir/small (root only); false when it cannot be mounted.
  bool mount_small_disk() {
    fs::create_directories(path("small"));
    mounted_ = ::mount("tmpfs", path("small").c_str(), "tmpfs", 0, "size=200k") == 0;
    return mounted_;
  }
  std::string quick_run(const std::string& out) {
    return "run " + scenario("gpt2_layer.json") + " --tokens 2 --quiet --out " + out;
  }

  fs::path dir_;
  bool mounted_ = false;
};

// 1. A trace cut short by a full disk is an error, and nothing of it stays.
TEST_F(Reliability, FullDiskDuringTraceIsAnError) {
  if (!mount_small_disk()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const Result r = sim("run " + scenario("gpt2_layer.json") + " --tokens 600 --quiet --out " +
                       path("o") + " --vcd " + path("small/trace.vcd"));
  expect_bad_input(r, "--vcd: cannot write the trace");
  EXPECT_FALSE(fs::exists(path("small/trace.vcd")));
  EXPECT_FALSE(fs::exists(path("o")));
  EXPECT_TRUE(leftovers(dir_).empty());
}

// 1/4. A full disk while writing the reports keeps the previous results.
TEST_F(Reliability, FullDiskDuringReportsKeepsNothingHalfWritten) {
  if (!mount_small_disk()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const Result r = sim(quick_run(path("small/o")));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("small/o")));
  EXPECT_TRUE(leftovers(dir_).empty());
}

// 2. Deep nesting is refused early with a short line (it used to exhaust memory and crash).
TEST_F(Reliability, DeepNestingIsRefused) {
  // A complete document (it used to pass the parser, then recurse in the loader).
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(20000, '}');
  write("deep.json", deep);
  expect_bad_input(sim("spec --spec " + path("deep.json")), "nested deeper than 32 levels");
  expect_bad_input(sim("run " + path("deep.json")), "nested deeper than 32 levels");
}

// 3. No input that is a FIFO blocks the program.
TEST_F(Reliability, FifoInputsDoNotHang) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  const std::string fifo = path("fifo");
  gca::tb::write_npy(path("q.npy"), {2, 64}, std::vector<double>(128, 0.5));
  const std::string q = path("q.npy");
  expect_bad_input(sim("head --q " + fifo + " --k " + q + " --v " + q + " --out " + path("h")),
                   "not a regular file");
  expect_bad_input(sim("spec --spec " + fifo), "not a regular file");
  expect_bad_input(sim("run " + fifo), "not a regular file");
  write("npy.json", R"({"stimulus": {"kind": "npy", "q": "fifo", "k": "fifo", "v": "fifo"}})");
  expect_bad_input(sim("run " + path("npy.json") + " --out " + path("o")), "not a regular file");
  write("exp.json", R"({"workload": {"tokens": 2}, "check": {"expect_out": "fifo"}})");
  expect_bad_input(sim("run " + path("exp.json") + " --out " + path("o")), "not a regular file");
  write("hw.json", R"({"hardware": {"spec": "./fifo"}})");
  expect_bad_input(sim("run " + path("hw.json") + " --out " + path("o")), "not a regular file");
  EXPECT_FALSE(fs::exists(path("o")));
}

// 4. A run that fails keeps the previous results whole and leaves no temporaries.
TEST_F(Reliability, FailedRunKeepsPreviousResults) {
  ASSERT_EQ(sim(quick_run(path("o"))).code, 0);
  const std::string before = slurp(path("o/report.json"));
  // A folder in the output folder: refused before the run, nothing changed.
  fs::remove(path("o/energy_table.txt"));
  fs::create_directories(path("o/energy_table.txt"));
  expect_bad_input(sim(quick_run(path("o")) + " --seed 7"), "holds 'energy_table.txt");
  EXPECT_EQ(slurp(path("o/report.json")), before);
  EXPECT_TRUE(leftovers(dir_).empty());
  // Head: a folder named phi.npy.
  gca::tb::write_npy(path("q.npy"), {3, 64}, std::vector<double>(192, 0.5));
  const std::string q = path("q.npy");
  const std::string head = "head --q " + q + " --k " + q + " --v " + q + " --set window=64 --out ";
  ASSERT_EQ(sim(head + path("h")).code, 0);
  const std::string out_before = slurp(path("h/out.npy"));
  fs::create_directories(path("h/phi.npy"));
  expect_bad_input(sim(head + path("h") + " --dump-scores"), "holds 'phi.npy'");
  EXPECT_EQ(slurp(path("h/out.npy")), out_before);
  EXPECT_FALSE(fs::exists(path("h/scores.npy")));
  EXPECT_TRUE(leftovers(dir_).empty());
}

// 4. A successful run replaces the whole set: no file of an earlier run stays beside it.
TEST_F(Reliability, RunReplacesTheWholeSet) {
  gca::tb::write_npy(path("q.npy"), {3, 64}, std::vector<double>(192, 0.5));
  const std::string q = path("q.npy");
  const std::string head = "head --q " + q + " --k " + q + " --v " + q + " --set window=64 --out ";
  ASSERT_EQ(sim(head + path("h") + " --dump-scores").code, 0);
  ASSERT_TRUE(fs::exists(path("h/phi.npy")));
  ASSERT_EQ(sim(head + path("h")).code, 0);
  EXPECT_TRUE(fs::exists(path("h/out.npy")));
  EXPECT_FALSE(fs::exists(path("h/phi.npy")));
  // Files gca-sim does not write are never deleted: such a folder is refused.
  write("h/notes.txt", "mine");
  expect_bad_input(sim(head + path("h")), "holds 'notes.txt'");
  EXPECT_EQ(slurp(path("h/notes.txt")), "mine");
}

// 5. Values of hardware.set keep every digit.
TEST_F(Reliability, ScenarioOverridesKeepFullPrecision) {
  write("p.json",
        R"({"workload": {"tokens": 2}, "report": {"plots": false},
            "hardware": {"set": {"cost.c_comparator_ff": 12.3456789012345678}}})");
  ASSERT_EQ(sim("run " + path("p.json") + " --quiet --out " + path("o")).code, 0);
  const json report = json::parse(slurp(path("o/report.json")));
  EXPECT_EQ(report["parameters"]["cost.c_comparator_ff"]["value"].get<double>(),
            12.3456789012345678);
}

// 6. A run whose simulated time would pass the kernel's range is refused before it starts.
TEST_F(Reliability, SimulatedTimeBeyondRangeIsRefused) {
  write("t.json", R"({"workload": {"tokens": 18500, "host_ns_per_layer": 1e9},
                      "hardware": {"set": {"model.n_layers": 1024}}})");
  expect_bad_input(sim("run " + path("t.json") + " --out " + path("o")),
                   "workload.tokens: the run would simulate at least 1.8944e+16 ns");
  EXPECT_FALSE(fs::exists(path("o")));
}

// Starts gca-sim, waits until the run is under way, sends `sig`; returns the exit status.
int interrupt(const std::vector<std::string>& args, int sig, const fs::path& wait_for,
              std::string* err_text, const fs::path& err_path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* e = std::freopen(err_path.c_str(), "w", stderr);
    (void)e;
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(sim_binary()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(sim_binary(), argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 600 && !fs::exists(wait_for); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  *err_text = slurp(err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// 7. SIGINT/SIGTERM/SIGHUP/SIGQUIT: stop, remove the temporaries, one line, exit 128 + signal;
// kill -9 leaves temporaries that the next run into the same folder removes.
TEST_F(Reliability, SignalsCleanUpAndKillNineIsCleanedByTheNextRun) {
  ASSERT_EQ(sim(quick_run(path("o"))).code, 0);
  const std::string before = slurp(path("o/report.json"));
  const std::vector<std::string> args = {
      "run",   scenario("gpt2_layer.json"), "--tokens", "50000", "--quiet", "--out", path("o"),
      "--vcd", path("t/trace.vcd")};
  const fs::path started = path("t");  // the trace's folder exists once the run is elaborated
  std::string err;
  for (const auto& [sig, code] : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143},
                                  std::pair{SIGHUP, 129}, std::pair{SIGQUIT, 131}}) {
    EXPECT_EQ(interrupt(args, sig, started, &err, path("err.txt")), code);
    EXPECT_NE(err.find("interrupted by"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(slurp(path("o/report.json")), before);
    EXPECT_TRUE(leftovers(dir_).empty());
    fs::remove_all(started);
  }
  EXPECT_EQ(interrupt(args, SIGKILL, started, &err, path("err.txt")), 128 + SIGKILL);
  EXPECT_FALSE(leftovers(dir_).empty());  // what kill -9 leaves
  EXPECT_EQ(slurp(path("o/report.json")), before);
  ASSERT_EQ(sim(quick_run(path("o")) + " --vcd " + path("t/trace.vcd")).code, 0);
  EXPECT_TRUE(leftovers(dir_).empty());
  // An error found after the run (there is none left: --vcd naming a folder is refused first).
  fs::create_directories(path("vcddir"));
  expect_bad_input(sim(quick_run(path("o")) + " --vcd " + path("vcddir")), "is a folder");
  EXPECT_TRUE(leftovers(dir_).empty());
}

// 8. A scenario name cannot lead the default output folder elsewhere.
TEST_F(Reliability, ScenarioNameIsAPlainName) {
  write("n.json", R"({"name": "../../elsewhere", "workload": {"tokens": 2}})");
  expect_bad_input(sim("run " + path("n.json")), "name: '../../elsewhere' is not a plain name");
}

// 9. A model that does not fit the memory is refused up front with the keys to change.
TEST_F(Reliability, MemoryEstimateRefusesWhatDoesNotFit) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "address space limits do not apply under AddressSanitizer";
#endif
  const Result r =
      sim("run " + scenario("gpt2_layer.json") + " --set window=1048576 --quiet --out " + path("o"),
          {"prlimit", "--as=3072000000"});  // the address space of `ulimit -v 3000000`
  expect_bad_input(r, "reduce window, model.n_layers or model.n_heads");
  gca::tb::write_npy(path("q.npy"), {3000, 64}, std::vector<double>(3000 * 64, 0.5));
  const std::string q = path("q.npy");
  expect_bad_input(sim("head --q " + q + " --k " + q + " --v " + q +
                       " --set window=1048576 --dump-scores --out " + path("h")),
                   "drop --dump-scores");
  EXPECT_FALSE(fs::exists(path("o")));
  EXPECT_FALSE(fs::exists(path("h")));
}

// 10. Error lines: a file and a key, printable, short.
TEST_F(Reliability, ErrorLinesNameTheFileAndStayShort) {
  write("big.json", R"({"workload": {"tokens": 1e400}})");
  expect_bad_input(sim("run " + path("big.json") + " --out " + path("o")),
                   "big.json: malformed JSON: number overflow");
  expect_bad_input(sim("spec --spec " + path("")), "is a directory");
  write_raw_npy(path("e0.npy"), "(0, 4, 64)", 0);
  write("e0.json", R"({"workload": {"tokens": 2}, "check": {"expect_out": "e0.npy"}})");
  expect_bad_input(sim("run " + path("e0.json") + " --out " + path("o")), "holds no cases");
  write("s0.json", R"({"workload": {"tokens": 2}, "stimulus": {"kind": "npy",
                       "q": "e0.npy", "k": "e0.npy", "v": "e0.npy", "case": 0}})");
  expect_bad_input(sim("run " + path("s0.json") + " --out " + path("o")), "holds no cases");
  for (const char* big : {"4294967296", "2147483648"}) {
    write("tl.json",
          std::string(R"({"workload": {"tokens": 2}, "trace": {"layers": [)") + big + "]}}");
    expect_bad_input(
        sim("run " + path("tl.json") + " --out " + path("o") + " --vcd " + path("o/t.vcd")),
        std::string("trace.layers: ") + big + " is out of range");
  }
  write_raw_npy(path("wide.npy"), "(2, 256, )", 512);
  write("w.json", R"({"workload": {"tokens": 2}, "check": {"expect_out": "wide.npy"}})");
  expect_bad_input(sim("run " + path("w.json") + " --out " + path("o")),
                   "has 256 features per token, the head has d_head = 64");
  write_raw_npy(path("utf.npy"), "(2, 64, )", 128, "'\xff\xfe': 1, ");
  expect_bad_input(sim("head --q " + path("utf.npy") + " --k " + path("utf.npy") + " --v " +
                       path("utf.npy") + " --out " + path("h")),
                   "\\xff\\xfe");
  std::string dims = "(";
  for (int i = 0; i < 20000; ++i) dims += "1, ";
  write_raw_npy(path("dims.npy"), dims + ")", 1);
  expect_bad_input(sim("head --q " + path("dims.npy") + " --k " + path("dims.npy") + " --v " +
                       path("dims.npy") + " --out " + path("h")),
                   "20000-D shape (1, 1, 1, 1, 1, 1, 1, 1, ... 20000 dimensions)");
  // A (sparse) 4 GiB data file is refused before anything is allocated.
  write_raw_npy(path("huge.npy"), "(1073741824, 1, )", 0);
  fs::resize_file(path("huge.npy"), fs::file_size(path("huge.npy")) + (std::uintmax_t{4} << 30));
  expect_bad_input(sim("head --q " + path("huge.npy") + " --k " + path("huge.npy") + " --v " +
                       path("huge.npy") + " --out " + path("h")),
                   "is too large (allowed: up to 2048 MiB)");
  EXPECT_FALSE(fs::exists(path("o")));
  EXPECT_FALSE(fs::exists(path("h")));
}

// 11. Smaller cases.
TEST_F(Reliability, SmallerCases) {
  write("dup.json", R"({"workload": {"tokens": 2, "tokens": 3}})");
  expect_bad_input(sim("run " + path("dup.json") + " --out " + path("o")), "duplicate key");
  write("dupspec.json", R"({"extends": "gpt2.json", "window": 64, "window": 128})");
  fs::copy_file(std::string(GCA_PARAMS) + "/gpt2.json", path("gpt2.json"));
  expect_bad_input(sim("spec --spec " + path("dupspec.json")), "duplicate key");
  write("huge.json", "{\"description\": \"" + std::string(5u << 20, 'x') + "\"}");
  expect_bad_input(sim("run " + path("huge.json") + " --out " + path("o")),
                   "too large (allowed: up to 4 MiB)");
  expect_bad_input(sim("spec", {"env", "GCA_THREADS=5000"}), "GCA_THREADS: '5000'");
  expect_bad_input(sim("spec", {"env", "GCA_THREADS=abc"}), "GCA_THREADS: 'abc'");
  expect_bad_input(sim(quick_run(path("o")) + " --set timing.write_ns=0.0001"),
                   "timing.write_ns: 0.0001 ns is below");
  write("hp.json", R"({"workload": {"tokens": 2, "host_ns_per_layer": 1e-4}})");
  expect_bad_input(sim("run " + path("hp.json") + " --out " + path("o")),
                   "workload.host_ns_per_layer");
  std::vector<std::string> empty_out = gca::test::words(quick_run("X"));
  empty_out.back() = "";
  expect_bad_input(sim_argv(empty_out), "--out: empty");
  expect_bad_input(sim(quick_run(path("o")) + " --vcd " + path("o/report.json")),
                   "is a file the run writes into --out");
  EXPECT_FALSE(fs::exists(path("o")));
}

}  // namespace
