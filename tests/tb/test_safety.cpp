// gca-sim against hostile names and shared folders: paths that look like commands never run
// one (gnuplot and sbatch are started without a shell, batch scripts quote every path), folders
// holding files gca-sim did not write are refused before anything is touched, a sweep folder is
// locked while a driver works in it, and outputs cut short by a full disk are never published.
// Each gca-sim call is a process started with an argument vector (no shell here either).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/tb/npy.hpp"
#include "gca/tb/output_set.hpp"
#include "gca/tb/sweep_file.hpp"
#include "gca/tb/temp_owner.hpp"

namespace fs = std::filesystem;

namespace {

const char* sim_binary() {
  const char* env = std::getenv("GCA_SIM_BINARY");  // an older build, to show it fails
  return env != nullptr ? env : GCA_SIM;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool gnuplot_available() {
  for (const char* d : {"/usr/bin/gnuplot", "/usr/local/bin/gnuplot"})
    if (::access(d, X_OK) == 0) return true;
  return false;
}

struct Result {
  int code = -1;
  std::string out, err;
};

struct RunOptions {
  std::vector<std::string> env;  // NAME=value added to the environment
  bool as_nobody = false;        // drop to uid/gid 65534 first (root only)
  std::string program;           // empty: gca-sim
};

std::string scenario(const std::string& n) {
  return std::string(GCA_SCENARIOS) + "/" + n;
}

class Safety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gca_safe_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (mounted_) ::umount(path("small").c_str());
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string tiny_sweep() { return std::string(GCA_TEST_DIR) + "/sweep_tiny.json"; }

  // Runs the program with exactly these arguments (under `timeout 120`: a hang fails).
  Result run(const std::vector<std::string>& args, const RunOptions& o = {}) {
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    std::vector<std::string> argv = {"timeout", "120",
                                     o.program.empty() ? sim_binary() : o.program};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir_.c_str()) != 0) ::_exit(126);
      const int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      const int fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      if (fo < 0 || fe < 0) ::_exit(126);
      ::dup2(fo, 1);
      ::dup2(fe, 2);
      for (const auto& e : o.env) ::putenv(const_cast<char*>(e.c_str()));
      if (o.as_nobody &&
          (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
        ::_exit(125);
      std::vector<char*> v;
      for (auto& a : argv) v.push_back(const_cast<char*>(a.c_str()));
      v.push_back(nullptr);
      ::execvp(v[0], v.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  // Exit 2 with one printable line on stderr that mentions `what`.
  static void expect_refused(const Result& r, const std::string& what) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err.substr(0, 600);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err.substr(0, 600);
    EXPECT_TRUE(std::all_of(r.err.begin(), r.err.end(), [](char c) {
      return c == '\n' || (c >= 0x20 && c < 0x7f);
    })) << r.err.substr(0, 600);
  }
  // Any file named PWNED below the test's folder: a command ran.
  bool pwned() const {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().filename() == "PWNED") return true;
    return false;
  }
  bool mount_small_disk(const char* size) {
    fs::create_directories(path("small"));
    mounted_ = ::mount("tmpfs", path("small").c_str(), "tmpfs", 0, size) == 0;
    return mounted_;
  }

  fs::path dir_;
  bool mounted_ = false;
  friend Result run_limited(Safety& t, long kib, const std::vector<std::string>& args);
};

Result run_limited(Safety& t, long kib, const std::vector<std::string>& args) {
  RunOptions o;
  o.program = "bash";
  std::vector<std::string> a = {"-c", "ulimit -v " + std::to_string(kib) + " && exec \"$0\" \"$@\"",
                                sim_binary()};
  a.insert(a.end(), args.begin(), args.end());
  return t.run(a, o);
}

std::vector<std::string> mc_args(const std::string& out) {
  return {"mc",    scenario("window_wrap.json"),     "--chips", "1", "--tokens", "120",
          "--set", "variation.cell_gain_sigma=0.05", "--out",   out};
}

// A quote in --out ended the gnuplot `cd '<dir>'` line of `mc`: the rest ran as a command.
TEST_F(Safety, McOutputFolderNamedLikeACommandRunsNothing) {
  const Result r = run(mc_args(path("o';touch PWNED;'")));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(pwned());
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed: the plot itself not checked";
  // An ordinary apostrophe no longer breaks the plot.
  const Result b = run(mc_args(path("o'brien")));
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_TRUE(fs::is_regular_file(path("o'brien/mc_error.png"))) << b.out;
  EXPECT_NE(b.out.find(", mc_error.png"), std::string::npos) << b.out;
}

// The Slurm batch script quotes every path: run as bash runs it on a node, the task of shard 0
// writes its point into an --out holding a space, quotes and a command substitution.
TEST_F(Safety, SlurmScriptRunsWithHostilePaths) {
  const std::string out = path("out dir'q$(touch PWNED)`touch PWNED`");
  const Result r = run({"sweep", tiny_sweep(), "--backend", "slurm", "--no-submit", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string script = slurp(fs::path(out) / "sweep.sbatch");
  std::istringstream lines(script);
  for (std::string line; std::getline(lines, line);) {
    const bool directive = line.rfind("#SBATCH", 0) == 0;
    EXPECT_TRUE(!directive || line.find("out dir") == std::string::npos) << line;
  }
  RunOptions o;
  o.program = "bash";
  o.env = {"SLURM_ARRAY_TASK_ID=0", "SLURM_CPUS_PER_TASK=1"};
  const Result task = run({(fs::path(out) / "sweep.sbatch").string()}, o);
  EXPECT_EQ(task.code, 0) << task.err << slurp(fs::path(out) / "slurm/task_0.log");
  EXPECT_TRUE(fs::is_regular_file(fs::path(out) / "points/p000/point.json"));
  EXPECT_TRUE(fs::is_regular_file(fs::path(out) / "slurm/task_0.log"));
  EXPECT_FALSE(pwned());
}

// A line break in --out would put a command into the script: refused, nothing written.
TEST_F(Safety, SlurmScriptRefusesLineBreaksInPaths) {
  const std::string out = path("o\ntouch PWNED");
  const Result r = run({"sweep", tiny_sweep(), "--backend", "slurm", "--no-submit", "--out", out});
  expect_refused(r, "control character");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(pwned());
}

// sbatch refusing the job is reported on stderr (it used to go to stdout only, or nowhere).
TEST_F(Safety, SbatchFailureIsReportedOnStderr) {
  fs::create_directories(path("bin"));
  std::ofstream(path("bin/sbatch")) << "#!/bin/sh\necho 'sbatch: error: invalid partition x' >&2\n"
                                       "exit 1\n";
  fs::permissions(path("bin/sbatch"), fs::perms::owner_all);
  RunOptions o;
  o.env = {"PATH=" + path("bin") + ":/usr/bin:/bin"};
  const Result r = run({"sweep", tiny_sweep(), "--backend", "slurm", "--out", path("o")}, o);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("invalid partition x"), std::string::npos) << r.err;
}

// A folder gca-sim cannot list is refused: nothing in it is moved or deleted.
TEST_F(Safety, UnlistableOutputFolderIsRefused) {
  RunOptions o;
  if (::geteuid() == 0) {
    o.as_nobody = true;  // root lists any folder: the run drops to nobody
    fs::permissions(dir_, fs::perms::all);
    for (fs::path p = dir_.parent_path(); p != p.root_path(); p = p.parent_path()) {
      if ((fs::status(p).permissions() & fs::perms::others_exec) == fs::perms::none)
        GTEST_SKIP() << p << " is not searchable by nobody";
    }
  }
  fs::create_directories(path("o"));
  std::ofstream(path("o/notes.txt")) << "mine\n";
  fs::permissions(path("o"), fs::perms::owner_write | fs::perms::owner_exec |
                                 fs::perms::group_write | fs::perms::group_exec |
                                 fs::perms::others_write | fs::perms::others_exec);
  const Result r =
      run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out", path("o")}, o);
  if (r.code == 125) GTEST_SKIP() << "cannot drop to nobody here";
  expect_refused(r, "cannot be listed");
  fs::permissions(path("o"), fs::perms::owner_all, fs::perm_options::add);
  EXPECT_EQ(slurp(path("o/notes.txt")), "mine\n");
  // Nothing beside it either (no staging folder holding the user's file).
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".o.gca-"), std::string::npos) << e.path();
}

// A sweep into a folder that holds a user's files is refused before anything is touched.
TEST_F(Safety, SweepIntoAForeignFolderIsRefused) {
  fs::create_directories(path("s/points/p000"));
  std::ofstream(path("s/notes.txt")) << "mine\n";
  expect_refused(run({"sweep", tiny_sweep(), "--merge", "--out", path("s")}), "notes.txt");
  EXPECT_EQ(slurp(path("s/notes.txt")), "mine\n");
  fs::remove(path("s/notes.txt"));
  std::ofstream(path("s/points/p000/results.dat")) << "mine\n";
  expect_refused(run({"sweep", tiny_sweep(), "--merge", "--out", path("s")}), "results.dat");
  EXPECT_EQ(slurp(path("s/points/p000/results.dat")), "mine\n");
  // Another sweep's folder: the points would be taken for this sweep's and replaced.
  ASSERT_EQ(run({"sweep", tiny_sweep(), "--merge", "--quiet", "--out", path("t")}).code, 1);
  auto other = nlohmann::json::parse(slurp(tiny_sweep()));
  other["name"] = "other_sweep";
  other["scenario"] = scenario("gpt2_layer.json");
  std::ofstream(path("other.json")) << other.dump();
  expect_refused(run({"sweep", path("other.json"), "--merge", "--out", path("t")}), "tiny_2x2");
  expect_refused(run({"sweep", tiny_sweep(), "--out", ""}), "--out");
}

// Two drivers on one folder: the second is refused with one line, whatever the order.
TEST_F(Safety, SweepFolderIsLockedWhileADriverWorks) {
  ASSERT_EQ(run({"sweep", tiny_sweep(), "--merge", "--quiet", "--out", path("s")}).code, 1);
  const int fd = ::open(path("s/.gca-sweep.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << "the driver keeps its lock file in the folder";
  ASSERT_EQ(::flock(fd, LOCK_SH), 0);  // as a running shard holds it
  expect_refused(run({"sweep", tiny_sweep(), "--merge", "--out", path("s")}),
                 "another gca-sim sweep");
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // as a whole-sweep driver holds it
  expect_refused(run({"sweep", tiny_sweep(), "--shard", "1/4", "--out", path("s")}),
                 "another gca-sim sweep");
  ::close(fd);
  const int shard = ::open(path("s/.gca-sweep.shard-1-4.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_EQ(::flock(shard, LOCK_EX), 0);  // the same shard already running
  expect_refused(run({"sweep", tiny_sweep(), "--shard", "1/4", "--out", path("s")}),
                 "already running");
  ::close(shard);
}

// A slow host link moves simulated time as much as the arrays do: beyond the kernel's range the
// run is refused up front (it used to finish with rc 0, as if the link were ideal).
TEST_F(Safety, HostLinkTimeIsCheckedUpFront) {
  for (const char* bw : {"1e-20", "1e-14"}) {
    const Result r = run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out",
                          path("o"), "--set", std::string("host_link.bytes_per_ns=") + bw});
    expect_refused(r, "host_link.bytes_per_ns");
    EXPECT_FALSE(fs::exists(path("o")));
  }
  // `head` checks the simulated time too.
  std::vector<double> x(4 * 64, 0.25);
  for (const char* n : {"q.npy", "k.npy", "v.npy"}) gca::tb::write_npy(path(n), {4, 64}, x);
  const Result h = run({"head", "--q", path("q.npy"), "--k", path("k.npy"), "--v", path("v.npy"),
                        "--out", path("h"), "--set", "host_link.bytes_per_ns=1e-14"});
  expect_refused(h, "host_link.bytes_per_ns");
  // A slow link that fits runs.
  EXPECT_EQ(run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out", path("o"),
                 "--set", "host_link.bytes_per_ns=1e-6"})
                .code,
            0);
}

// Values of --scenario-set go through the one bounded JSON parser: 65,000 levels of nesting
// are refused with one line (they used to crash the process).
TEST_F(Safety, ScenarioSetValuesAreParsedWithTheNestingLimit) {
  const std::string deep = std::string(65000, '[') + std::string(65000, ']');
  const Result r = run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out",
                        path("o"), "--scenario-set", "workload.extra=" + deep});
  expect_refused(r, "--scenario-set workload.extra");
  EXPECT_NE(r.err.find("32"), std::string::npos) << r.err;
  // Text that is no JSON stays a string, as before.
  const Result t = run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out",
                        path("o"), "--scenario-set", "workload.mode=[prefill"});
  expect_refused(t, "workload.mode");
}

// A string value of a sweep reaches the run as that very string (it used to be re-read as a
// JSON string literal, so a backslash escape changed it: the run and the CSV disagreed).
TEST(SweepArgs, StringValuesReachTheRunUnchanged) {
  gca::tb::SweepFile sweep;
  sweep.scenario_path = "/s.json";
  gca::tb::SweepPoint p;
  p.tokens = 1;
  const std::string text = "a\\u0041\"b";  // a\u0041"b
  p.values.push_back({"stimulus.kind", text, false});
  const auto args = gca::tb::point_run_args(sweep, p, "/d");
  const auto it =
      std::find(args.begin(), args.end(), "stimulus.kind=" + nlohmann::json(text).dump());
  ASSERT_NE(it, args.end());
  // What the run does with it: the text after '=' read as JSON.
  EXPECT_EQ(nlohmann::json::parse(it->substr(std::string("stimulus.kind=").size())), text);
}

// Fills the file system of `dir` to the last byte (a file that cannot grow any more).
void fill_disk(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char> block(4096, 'x');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  while (::write(fd, block.data(), 1) > 0) {
  }
  ::close(fd);
}

std::vector<std::string> trace_args(const std::string& out, const std::string& vcd) {
  return {"run", scenario("gpt2_layer.json"), "--tokens", "300", "--quiet", "--out", out, "--vcd",
          vcd};
}

// A trace onto a disk that is already full: an error, not a 0-byte trace with rc 0.
TEST_F(Safety, TraceOntoAFullDiskIsAnError) {
  if (!mount_small_disk("size=64k")) GTEST_SKIP() << "needs root to mount a small tmpfs";
  fill_disk(path("small/filler"));
  const Result r = run(trace_args(path("o"), path("small/trace.vcd")));
  expect_refused(r, "cannot write the trace");
  EXPECT_FALSE(fs::exists(path("small/trace.vcd")));
  EXPECT_FALSE(fs::exists(path("o")));
}

// A disk that is full for a while (the filler is removed during the run): the trace would
// have a hole; it is an error, and the earlier results stay.
TEST_F(Safety, TraceOntoADiskFullForAWhileIsAnError) {
  if (!mount_small_disk("size=64k")) GTEST_SKIP() << "needs root to mount a small tmpfs";
  ASSERT_EQ(
      run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out", path("o")})
          .code,
      0);
  const std::string before = slurp(path("o/report.json"));
  fill_disk(path("small/filler"));
  std::thread freer([this] {
    // Space comes back while the run writes its trace (or after: either way writes failed).
    for (int i = 0; i < 400 && !fs::exists(path("small/trace.pipe.vcd")) &&
                    !fs::exists(path("small/trace.vcd"));
         ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fs::remove(path("small/filler"));
  });
  const Result r = run(trace_args(path("o"), path("small/trace.vcd")));
  freer.join();
  expect_refused(r, "cannot write the trace");
  EXPECT_FALSE(fs::exists(path("small/trace.vcd")));
  EXPECT_EQ(slurp(path("o/report.json")), before);
}

// A sweep's resume follows the content, not the paths: a moved folder resumes every point; an
// edited base scenario runs every point again.
TEST_F(Safety, SweepResumeIsKeyedOnContent) {
  fs::copy_file(scenario("gpt2_layer.json"), path("sc.json"));
  auto sweep = nlohmann::json::parse(slurp(tiny_sweep()));
  sweep["scenario"] = "./sc.json";
  std::ofstream(path("sweep.json")) << sweep.dump();
  ASSERT_EQ(run({"sweep", path("sweep.json"), "--jobs", "2", "--out", path("a")}).code, 0);
  fs::rename(path("a"), path("b"));
  Result r = run({"sweep", path("sweep.json"), "--jobs", "2", "--out", path("b")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0 run now, 4 already complete"), std::string::npos) << r.out;
  auto sc = nlohmann::json::parse(slurp(path("sc.json")));
  sc["description"] = "edited";
  std::ofstream(path("sc.json")) << sc.dump();
  r = run({"sweep", path("sweep.json"), "--jobs", "2", "--out", path("b")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("4 run now, 0 already complete"), std::string::npos) << r.out;
}

// A trace never replaces a file that is not a trace (the run's own scenario, a user's data).
TEST_F(Safety, TraceDoesNotOverwriteOtherFiles) {
  fs::copy_file(scenario("gpt2_layer.json"), path("sc.json"));
  const std::string before = slurp(path("sc.json"));
  std::ofstream(path("data.vcd")) << "my data\n";
  const std::vector<std::string> base = {"run",     path("sc.json"), "--tokens", "2",
                                         "--quiet", "--out",         path("o"),  "--vcd"};
  auto with = [&](const std::string& vcd) {
    auto a = base;
    a.push_back(vcd);
    return a;
  };
  expect_refused(run(with(path("data.vcd"))), "is not a VCD trace");
  EXPECT_EQ(slurp(path("data.vcd")), "my data\n");
  // A name without .vcd: the trace is NAME.vcd, the scenario stays.
  ASSERT_EQ(run(with(path("sc.json"))).code, 0);
  EXPECT_EQ(slurp(path("sc.json")), before);
  EXPECT_EQ(slurp(path("sc.json.vcd")).substr(0, 1), "$");
  ASSERT_EQ(run(with(path("sc.json.vcd"))).code, 0);  // an earlier trace is replaced
}

// An --out that is a mount point cannot be replaced as a whole: refused before the run.
TEST_F(Safety, MountPointAsOutputFolderIsRefusedUpFront) {
  if (!mount_small_disk("size=1m")) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const Result r =
      run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out", path("small")});
  expect_refused(r, "is a mount point");
}

// Smaller cases: each error keeps its reason.
TEST_F(Safety, ErrorLinesKeepTheirReason) {
  // A .npy header of 2 GB is refused before it is read.
  std::string npy = std::string("\x93NUMPY\x02\x00", 8) + std::string("\x00\x00\x00\x80", 4);
  std::ofstream(path("q.npy"), std::ios::binary) << npy << std::string(100, ' ');
  const Result h = run({"head", "--q", path("q.npy"), "--k", path("q.npy"), "--v", path("q.npy"),
                        "--out", path("h")});
  expect_refused(h, "header length 2147483648 bytes is too large (allowed: up to 1048576 bytes)");
  // A size one byte over the limit is not shown as the limit itself.
  std::ofstream(path("big.json")) << std::string((4u << 20) + 1, ' ');
  expect_refused(run({"run", path("big.json"), "--out", path("o")}),
                 "of 4194305 bytes is too large (allowed: up to 4 MiB)");
  // Values shown exactly; a subnormal is a number (out of range, not "not a number").
  const std::vector<std::string> quick = {
      "run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out", path("o"), "--set"};
  auto with = [&](const std::string& set) {
    auto a = quick;
    a.push_back(set);
    return a;
  };
  const Result sub = run(with("timing.write_ns=4.9e-324"));
  EXPECT_EQ(sub.err.find("not a number"), std::string::npos) << sub.err;
  expect_refused(sub, "timing.write_ns");
  // A long path is shortened, the reason stays.
  const std::string deep = path(std::string(300, 'd') + "/" + std::string(200, 'e') + ".json");
  const Result l = run({"run", deep, "--out", path("o")});
  expect_refused(l, "cannot open scenario file");
  EXPECT_LE(l.err.size(), 420u);
  // A FIFO or a folder as a sweep's scenario is named as such, not "not found".
  fs::create_directories(path("scdir"));
  std::ofstream(path("sw.json"))
      << R"({"scenario": "./scdir", "tokens": 2, "grid": {"window": [64]}})";
  expect_refused(run({"sweep", path("sw.json"), "--out", path("s")}), "is a folder");
}

// Runs gca-sim under `ulimit -v` (KiB): the address-space limit is one the checks must read.
Result run_limited(Safety& t, long kib, const std::vector<std::string>& args);

// `mc` checks its memory before it starts (it used to end in a bare std::bad_alloc), and `head`
// checks before it reads its inputs.
TEST_F(Safety, McAndHeadCheckMemoryFirst) {
  std::vector<std::string> mc = {"mc",       scenario("gpt2_full.json"),
                                 "--chips",  "8",
                                 "--jobs",   "8",
                                 "--tokens", "2",
                                 "--set",    "variation.cell_gain_sigma=0.05",
                                 "--out",    path("m")};
  expect_refused(run_limited(*this, 600000, mc), "(allowed: reduce --jobs");
  EXPECT_FALSE(fs::exists(path("m")));
  // Inputs of 3 x 400 MB (sparse files): refused before a byte of them is read.
  for (const char* n : {"q.npy", "k.npy", "v.npy"}) {
    gca::tb::write_npy(path(n), {1, 64}, std::vector<double>(64, 0.25));
    fs::resize_file(path(n), 400u << 20);
  }
  const Result h = run_limited(*this, 1000000,
                               {"head", "--q", path("q.npy"), "--k", path("k.npy"), "--v",
                                path("v.npy"), "--out", path("h")});
  expect_refused(h, "--q, --k, --v");
}

// Temporaries belong to whoever holds their lock, not to a process id (ids repeat across PID
// namespaces and nodes): a temporary whose lock a live process holds stays, whatever that
// process is; one whose owner has ended goes with the next run.
TEST_F(Safety, TemporariesAreOwnedByALockNotByAProcessId) {
  const std::vector<std::string> args = {
      "run",    scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--no-plots", "--out",
      path("o")};
  // A live owner: another process (its id means nothing here) holds the lock of its staging.
  int to_child[2], to_parent[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(to_parent), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(to_child[1]);
    ::close(to_parent[0]);
    gca::tb::TempOwner owner(dir_.string(), ".o.gca-", "--out");
    fs::create_directories(owner.path(".partial"));
    std::ofstream(owner.path(".partial") + "/report.json") << "{}\n";
    const std::string token = owner.token();
    if (::write(to_parent[1], token.data(), token.size()) != ssize_t(token.size())) ::_exit(1);
    char c;
    while (::read(to_child[0], &c, 1) < 0) {
    }
    ::_exit(0);  // ends without removing anything, as after kill -9: the kernel drops the lock
  }
  ::close(to_child[0]);
  ::close(to_parent[1]);
  char token[16];
  ASSERT_EQ(::read(to_parent[0], token, sizeof token), ssize_t(sizeof token));
  const std::string live = path(".o.gca-" + std::string(token, sizeof token) + ".partial");
  // A stale one: its lock file is there, nobody holds it.
  const std::string stale = path(".o.gca-0123456789abcdef.partial");
  fs::create_directories(stale);
  std::ofstream(path(".o.gca-0123456789abcdef.lock")).flush();
  ASSERT_EQ(run(args).code, 0);
  EXPECT_TRUE(fs::exists(live + "/report.json")) << "a live run's staging folder was removed";
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(path(".o.gca-0123456789abcdef.lock")));
  // The owner ends: its staging folder and lock go with the next run.
  ::close(to_child[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(to_parent[0]);
  ASSERT_EQ(run(args).code, 0);
  EXPECT_FALSE(fs::exists(live));
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().rfind(".o.gca-", 0), std::string::npos)
        << e.path() << " left behind";
}

// Two output sets of one process on one folder (the same process id): each has its own staging
// folder, and opening the second leaves the first alone.
TEST_F(Safety, OutputSetsOfOneProcessDoNotShareTemporaries) {
  gca::tb::OutputSet first(path("o"));
  std::ofstream(first.path("report.json")) << "{}\n";
  gca::tb::OutputSet second(path("o"));
  EXPECT_NE(first.staging_dir(), second.staging_dir());
  EXPECT_TRUE(fs::exists(first.path("report.json")));
  std::ofstream(second.path("report.json")) << "{\"second\": 1}\n";
  second.commit();
  EXPECT_TRUE(fs::exists(first.path("report.json")));
}

// hardware.set in a scenario file: its errors name the file and hardware.set.<key>, not --set
// (which the user did not give); a --set error still names --set.
TEST_F(Safety, HardwareSetErrorsNameTheScenarioFile) {
  auto with_set = [&](const nlohmann::json& set) {
    auto sc = nlohmann::json::parse(slurp(scenario("gpt2_layer.json")));
    sc["hardware"]["set"] = set;
    std::ofstream(path("sc.json")) << sc.dump(2);
    return run({"run", path("sc.json"), "--tokens", "2", "--quiet", "--out", path("o")});
  };
  const std::string file = path("sc.json") + ": ";
  Result r = with_set({{"array.rows", 1e9}});  // out of range
  expect_refused(r, file + "hardware.set.array.rows: ");
  EXPECT_EQ(r.err.find("--set"), std::string::npos) << r.err;
  r = with_set({{"model.n_layers", 1}, {"model.d_head", 128}});  // consistency, after the checks
  expect_refused(r, file + "hardware.set.model.d_head: 128 features do not fit the array");
  EXPECT_EQ(r.err.find("--set"), std::string::npos) << r.err;
  r = with_set({{"no.such_key", 1}});
  expect_refused(r, file + "hardware.set.no.such_key: unknown parameter");
  r = with_set({{"host_link.format", "f64"}});  // a named choice
  expect_refused(r, file + "hardware.set.host_link.format: 'f64' is not allowed");
  // The same mistake on the command line is the command line's.
  r = run({"run", scenario("gpt2_layer.json"), "--tokens", "2", "--quiet", "--out", path("o"),
           "--set", "array.rows=1e9"});
  expect_refused(r, "--set: array.rows: ");
}

// A sweep's resume keys on every file a point reads: an edited parameter file that the
// scenario's parameter file extends, or edited .npy stimulus data, runs the points again.
TEST_F(Safety, SweepResumeFollowsExtendedFilesAndData) {
  const std::string shipped = std::string(GCA_SCENARIOS) + "/../../rtl_spec/params/gpt2.json";
  std::ofstream(path("parent.json"))
      << nlohmann::json{{"extends", fs::weakly_canonical(shipped).string()},
                        {"timing", {{"phase_digital_ns", {{"value", 15}, {"unit", "ns"}}}}}}
             .dump(2);
  std::ofstream(path("child.json")) << nlohmann::json{{"extends", "parent.json"}}.dump(2);
  auto write_data = [&](double q) {
    gca::tb::write_npy(path("q.npy"), {8, 64}, std::vector<double>(8 * 64, q));
    gca::tb::write_npy(path("k.npy"), {8, 64}, std::vector<double>(8 * 64, 0.5));
    gca::tb::write_npy(path("v.npy"), {8, 64}, std::vector<double>(8 * 64, 0.4));
  };
  write_data(0.5);
  const nlohmann::json sc = {
      {"name", "sc"},
      {"hardware",
       {{"spec", "./child.json"}, {"set", {{"model.n_layers", 1}, {"model.n_heads", 2}}}}},
      {"workload", {{"tokens", 8}}},
      {"stimulus", {{"kind", "npy"}, {"q", "q.npy"}, {"k", "k.npy"}, {"v", "v.npy"}}},
      {"report", {{"plots", false}}}};
  std::ofstream(path("sc.json")) << sc.dump(2);
  const nlohmann::json sweep = {{"name", "data"},
                                {"scenario", "./sc.json"},
                                {"tokens", 8},
                                {"grid", {{"window", {64, 128}}}}};
  std::ofstream(path("sweep.json")) << sweep.dump(2);
  const std::vector<std::string> args = {"sweep", path("sweep.json"), "--jobs", "2",
                                         "--out", path("s")};
  Result r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run(args);
  EXPECT_NE(r.out.find("0 run now, 2 already complete"), std::string::npos) << r.out;
  // The file two steps up the chain changes: every point runs again.
  std::ofstream(path("parent.json"))
      << nlohmann::json{{"extends", fs::weakly_canonical(shipped).string()},
                        {"timing", {{"phase_digital_ns", {{"value", 16}, {"unit", "ns"}}}}}}
             .dump(2);
  r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 run now, 0 already complete"), std::string::npos) << r.out;
  // The stimulus data change (same size): again.
  write_data(0.75);
  r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 run now, 0 already complete"), std::string::npos) << r.out;
  r = run(args);
  EXPECT_NE(r.out.find("0 run now, 2 already complete"), std::string::npos) << r.out;
}

// A PNG cut short (a full disk under gnuplot) is told from a complete one.
TEST(Plots, PngCutShortIsIncomplete) {
  const fs::path dir = fs::temp_directory_path() / ("gca_png_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // The smallest PNG: signature, IHDR (1x1 grey), IDAT, IEND, with their CRCs.
  const unsigned char png[] = {0x89, 'P', 'N', 'G',  0x0d, 0x0a, 0x1a, 0x0a, 0,    0, 0, 0x0d,
                               'I',  'H', 'D', 'R',  0,    0,    0,    1,    0,    0, 0, 1,
                               8,    0,   0,   0,    0,    0x3a, 0x7e, 0x9b, 0x55, 0, 0, 0,
                               0x0a, 'I', 'D', 'A',  'T',  0x78, 0x9c, 0x63, 0x60, 0, 0, 0,
                               2,    0,   1,   0x48, 0xaf, 0xa4, 0x71, 0,    0,    0, 0, 'I',
                               'E',  'N', 'D', 0xae, 0x42, 0x60, 0x82};
  const std::string whole(reinterpret_cast<const char*>(png), sizeof png);
  std::ofstream(dir / "a.png", std::ios::binary) << whole;
  std::ofstream(dir / "b.png", std::ios::binary) << whole.substr(0, whole.size() - 5);
  EXPECT_TRUE(gca::power::png_complete((dir / "a.png").string()));
  EXPECT_FALSE(gca::power::png_complete((dir / "b.png").string()));
  EXPECT_FALSE(gca::power::png_complete((dir / "none.png").string()));
  fs::remove_all(dir);
}

}  // namespace
