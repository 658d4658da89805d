#include "gca/tb/run_limits.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gca/power/energy_table.hpp"
#include "gca/power/power_tracker.hpp"
#include "gca/power/report.hpp"
#include "gca/sc/attention_head.hpp"
#include "gca/spec/buffer_codes.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/oracle_head.hpp"
#include "gca/spec/register_map.hpp"
#include "gca/tb/oracle_checker.hpp"
#include "gca/tlm/host_link.hpp"

namespace gca::tb {
namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / double(1u << 30));
  return buf;
}

std::uint64_t read_number(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return 0;
  return std::strtoull(word.c_str(), nullptr, 10);
}

std::uint64_t mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

// A "Name:   N kB" line of /proc/self/status, in bytes (0 when missing).
std::uint64_t own_status_bytes(const char* name) {
  std::ifstream in("/proc/self/status");
  const std::size_t n = std::strlen(name);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, n, name) == 0) return std::strtoull(line.c_str() + n, nullptr, 10) * 1024;
  }
  return 0;
}
std::uint64_t vm_size() {
  return own_status_bytes("VmSize:");
}

// `need`: what the run will add to what the process holds now.
void check_memory(double need, const std::string& key, const std::string& keys) {
  const std::uint64_t avail = available_bytes();
  if (avail == 0 || need <= limits::kMaxMemoryFraction * double(avail)) return;
  throw Error("", key,
              "the run needs about " + gib(need) + ", " + gib(double(avail)) +
                  " are available (allowed: reduce " + keys + ")");
}

// Nonzero times below the kernel's resolution would silently become 0.
void check_time_resolution(const spec::HardwareSpec& s) {
  for (const auto& p : spec::param_catalog()) {
    if (p.unit != "ns") continue;
    const double v = spec::get_param(s, p.key);
    if (v > 0 && v < limits::kTimeResolutionNs) {
      std::ostringstream os;
      os << v << " ns is below the simulation's time resolution (allowed: 0, or >= "
         << limits::kTimeResolutionNs << " ns)";
      throw Error("", p.key, os.str());
    }
  }
}

}  // namespace

double MemoryEstimate::total() const {
  return resident + model + structure + checker + buffers;
}

namespace {

// The state of one head of `s` with `subtiles` sub-tiles, as its circuit model counts it after
// one token (some buffers are sized at the first read).
double head_model_bytes(const spec::HardwareSpec& s, int subtiles) {
  spec::HardwareSpec probe = s;
  probe.window = subtiles * s.array.cols;
  spec::HeadModel head(probe);
  const std::vector<double> in(std::size_t(s.model.d_head), 0.5);
  std::vector<double> out(in.size());
  head.step(in.data(), in.data(), in.data(), out.data());
  return double(head.state_bytes());
}

// Bytes the allocator has handed out and not taken back (heap and mmapped blocks).
double heap_in_use() {
  const struct mallinfo2 m = ::mallinfo2();
  return double(m.uordblks) + double(m.hblkhd);
}

// What a head takes beyond its circuit model's state: its SystemC modules, power ports and trace
// sources, and its share of the report (a row and a JSON entry per module, and their text).
// Measured, not assumed: a child process (a copy of this one, so that the simulation here is
// untouched) builds one head of one sub-tile, one of three and two heads of one, each with its
// power report, keeps them, and counts the allocator's bytes in use before and after. Their
// differences give the part per sub-tile, per head and once per run. All zero when the child
// cannot tell (the estimate then holds the state alone).
struct Structure {
  double run = 0.0, head = 0.0, subtile = 0.0;
};
double probe_heads(const spec::HardwareSpec& s, int heads, int subtiles,
                   const power::Baselines& baselines) {
  spec::HardwareSpec probe = s;
  probe.window = subtiles * s.array.cols;
  probe.model.n_layers = 1;
  probe.model.n_heads = heads;
  static int probes = 0;
  const double before = heap_in_use();
  // Kept until the child ends: what a run holds while it writes its report.
  const auto* table = new power::EnergyTable(probe);
  auto* tracker = new power::PowerTracker(*table);
  auto* factory = new sc::PowerFactory(tracker);
  for (int h = 0; h < heads; ++h)
    new sc::AttentionHead(("gca_memory_probe_" + std::to_string(probes++)).c_str(), probe, *factory,
                          nullptr, h);
  power::RunInfo run;
  run.tokens = run.layers = 1;
  run.heads = heads;
  run.latency_per_token_ns = {0.0};
  const auto* report = new power::Report(power::make_report(*tracker, probe, run, baselines));
  const auto* document = new nlohmann::ordered_json(power::report_document(*report));
  new std::string(document->dump(2));
  return heap_in_use() - before - heads * head_model_bytes(s, subtiles);
}
Structure head_structure_bytes(const spec::HardwareSpec& s) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {};
  }
  if (pid == 0) {
    double taken[3] = {0.0, 0.0, 0.0};
    try {
      const power::Baselines baselines = power::load_baselines();
      taken[0] = probe_heads(s, 1, 1, baselines);
      taken[1] = probe_heads(s, 1, 3, baselines);
      taken[2] = probe_heads(s, 2, 1, baselines);
    } catch (...) {
      taken[0] = taken[1] = taken[2] = 0.0;
    }
    const ssize_t ignored = ::write(fds[1], taken, sizeof taken);
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  double taken[3] = {0.0, 0.0, 0.0};
  const bool got = ::read(fds[0], taken, sizeof taken) == static_cast<ssize_t>(sizeof taken);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!got || !(taken[0] > 0.0) || !(taken[1] >= taken[0]) || !(taken[2] >= taken[0])) return {};
  Structure st;
  st.subtile = (taken[1] - taken[0]) / 2.0;
  st.head = std::max(0.0, taken[2] - taken[0] - st.subtile);
  st.run = std::max(0.0, taken[0] - st.head - st.subtile);
  return st;
}

}  // namespace

double head_state_bytes(const spec::HardwareSpec& s) {
  // The state of a head grows by whole sub-tiles: heads of one and of two sub-tiles, built and
  // asked for their sizes, give the first sub-tile (with what a head holds whatever its window)
  // and each further one. A partly used last sub-tile counts as a whole one.
  const double one = head_model_bytes(s, 1), two = head_model_bytes(s, 2);
  return one + (two - one) * double(s.subtiles_per_head() - 1);
}

MemoryEstimate estimate_run_memory(const spec::HardwareSpec& s, long tokens, bool with_checker,
                                   bool dump_scores) {
  MemoryEstimate m;
  m.resident = double(own_status_bytes("VmRSS:"));
  const double heads = double(s.model.n_layers) * s.model.n_heads;
  m.model = heads * head_state_bytes(s);
  const Structure st = head_structure_bytes(s);
  // The probes' containers (the tracker's module list, the report's rows and JSON objects) hold
  // a few entries, sized to fit; a whole run's grow by doubling and hold between one and two
  // times their entries, a copy of the old buffer beside the new one while they grow: counted
  // at the middle, 1.5 times.
  constexpr double kGrowthSlack = 1.5;
  m.structure =
      kGrowthSlack * (st.run + heads * (st.head + st.subtile * double(s.subtiles_per_head())));
  if (with_checker)
    m.checker = double(OracleChecker::state_bytes(s, s.model.n_layers, s.model.n_heads));
  m.buffers = double(tokens) * s.model.d_head * 8.0 * 4;  // Q, K, V and outputs of a head run
  if (dump_scores) m.buffers += 2.0 * double(tokens) * s.window * 8.0;  // scores and phi
  return m;
}

namespace {

// The cgroups of this process (/proc/self/cgroup): v2 "0::/path", v1 "N:memory[,...]:/path".
struct CgroupPaths {
  std::string v2, v1_memory;
};
CgroupPaths own_cgroups() {
  CgroupPaths c;
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) c.v2 = path;
    if (("," + controllers + ",").find(",memory,") != std::string::npos) c.v1_memory = path;
  }
  return c;
}

// The tightest memory limit of the cgroups above this process, minus what they use (0: none).
// cgroup v2: memory.max / memory.current; v1: memory.limit_in_bytes / memory.usage_in_bytes
// (v1 writes "no limit" as a number near 2^63). Every level up to the root counts.
std::uint64_t cgroup_room() {
  std::uint64_t room = 0;
  auto take = [&room](const std::string& dir, const char* limit_file, const char* usage_file) {
    const std::uint64_t limit = read_number(dir + "/" + limit_file);
    if (limit == 0 || limit >= (std::uint64_t{1} << 60)) return;
    const std::uint64_t used = read_number(dir + "/" + usage_file);
    const std::uint64_t left = limit > used ? limit - used : 1;
    if (room == 0 || left < room) room = left;
  };
  const CgroupPaths c = own_cgroups();
  for (std::string p = c.v2;; p = p.substr(0, p.rfind('/'))) {
    take("/sys/fs/cgroup" + p, "memory.max", "memory.current");
    if (p.empty() || p == "/") break;
  }
  for (std::string p = c.v1_memory;; p = p.substr(0, p.rfind('/'))) {
    take("/sys/fs/cgroup/memory" + p, "memory.limit_in_bytes", "memory.usage_in_bytes");
    if (p.empty() || p == "/") break;
  }
  return room;
}

}  // namespace

std::uint64_t available_bytes() {
  std::uint64_t avail = mem_available();
  auto take = [&avail](std::uint64_t x) {
    if (x > 0 && (avail == 0 || x < avail)) avail = x;
  };
  take(cgroup_room());
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const std::uint64_t used = vm_size();
    take(rl.rlim_cur > used ? rl.rlim_cur - used : 1);
  }
  return avail;
}

double lower_simulated_ns(const spec::HardwareSpec& s, long tokens, double host_ns_per_layer,
                          bool decode) {
  namespace regs = spec::regs;
  const double layers = s.model.n_layers, heads = s.model.n_heads;
  // A token passes every layer in order: the arrays' latency, the host's time and one crossing
  // of the link (its latency) per layer; in decode, a token starts when the previous one ends.
  // (The host's time may be missing after the very last layer.)
  const double passes = (decode ? double(tokens) : 1.0) * layers;
  const double chain_ns = passes * (s.timing.token_latency_ns() + s.host_link.latency_ns) +
                          std::max(0.0, passes - 1.0) * host_ns_per_layer;
  // The link serializes every transaction: per head and token at least K, V, Q, the start and
  // the output read, each for its bytes on the wire (the bytes the link itself counts).
  double link_ns = 0.0;
  if (s.host_link.bytes_per_ns > 0.0) {
    const unsigned values = 8u * static_cast<unsigned>(s.model.d_head);
    const std::uint64_t base = regs::head_base(0, 0);
    const spec::BufferCodes codes(s);
    double bytes = 0.0;
    for (std::uint64_t buffer : {regs::kKBuf, regs::kVBuf, regs::kQBuf})
      bytes += double(
          tlm::wire_bytes(s, codes, ::tlm::TLM_WRITE_COMMAND, base + buffer, values).request);
    bytes +=
        double(tlm::wire_bytes(s, codes, ::tlm::TLM_WRITE_COMMAND, base + regs::kCtrl, 4).request);
    bytes += double(
        tlm::wire_bytes(s, codes, ::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, values).response);
    link_ns = double(tokens) * layers * heads * bytes / s.host_link.bytes_per_ns;
  }
  return std::max(chain_ns, link_ns);
}

namespace {

void check_simulated_ns(double sim_ns, const std::string& file, const std::string& key) {
  if (sim_ns <= limits::kMaxSimulatedNs) return;
  std::ostringstream os;
  os << "the run would simulate at least " << sim_ns << " ns, beyond the limit of "
     << limits::kMaxSimulatedNs
     << " ns (half the kernel's 64-bit time at 1 ps; allowed: fewer tokens or layers, less "
        "time per layer, host_link.latency_ns, or a larger host_link.bytes_per_ns)";
  throw Error(file, key, os.str());
}

}  // namespace

MemoryEstimate check_run_limits(const spec::HardwareSpec& s, const Scenario& sc) {
  check_time_resolution(s);
  check_simulated_ns(lower_simulated_ns(s, sc.host.tokens, sc.host.host_ns_per_layer,
                                        sc.host.workload == tlm::Workload::decode),
                     sc.file, "workload.tokens");
  const MemoryEstimate m = estimate_run_memory(s, 0, sc.check_against_oracle, false);
  check_memory(m.total() - m.resident, "window", "window, model.n_layers or model.n_heads");
  return m;
}

void check_simulated_time(double end_ns, double lower_ns) {
  // The kernel's time wraps silently past 2^64 ps: an end before the lower bound is one sign.
  // A wrapped time is off by orders of magnitude: half the lower bound leaves room for what the
  // bound may count too generously.
  if (end_ns <= limits::kMaxSimulatedNs && end_ns >= 0.5 * lower_ns) return;
  std::ostringstream os;
  os << "the simulated time left the kernel's range: the run ended at " << end_ns
     << " ns, but it takes at least " << lower_ns << " ns (limit " << limits::kMaxSimulatedNs
     << " ns); the results are not valid (allowed: fewer tokens or faster timings)";
  throw Error("", "simulated time", os.str());
}

void check_head_limits(const spec::HardwareSpec& s, long tokens, bool dump_scores) {
  check_time_resolution(s);
  check_simulated_ns(lower_simulated_ns(s, tokens, 0.0, true), "", "tokens of Q, K, V");
  const MemoryEstimate m = estimate_run_memory(s, tokens, false, dump_scores);
  check_memory(m.total() - m.resident, "window",
               dump_scores ? "window or the tokens of Q, K, V (or drop --dump-scores)"
                           : "window or the tokens of Q, K, V");
}

void check_head_input_memory(const std::vector<std::string>& files) {
  // The inputs are read whole and widened to double: up to twice their size on disk (float32).
  double bytes = 0.0;
  std::error_code ec;
  for (const auto& f : files) {
    const auto size = std::filesystem::file_size(f, ec);
    // A file over the .npy limit is refused by the reader with that limit, before any read.
    if (!ec && size <= limits::kMaxNpyFileBytes) bytes += 2.0 * double(size);
  }
  check_memory(bytes, "--q, --k, --v", "the tokens of Q, K, V");
}

void check_mc_limits(const spec::HardwareSpec& s, long tokens, int concurrent_chips) {
  check_time_resolution(s);
  // Each chip running at a time holds its model and the ideal reference of every head.
  const MemoryEstimate m = estimate_run_memory(s, tokens, true, false);
  check_memory((m.total() - m.resident) * std::max(1, concurrent_chips), "--jobs",
               "--jobs, window, model.n_layers or model.n_heads");
}

void check_thread_env() {
  const char* env = std::getenv("GCA_THREADS");
  if (env == nullptr) return;
  errno = 0;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (*env == '\0' || *end != '\0' || errno == ERANGE || n < 1 || n > limits::kMaxThreads) {
    throw Error("", "GCA_THREADS",
                "'" + std::string(env).substr(0, 40) + "' is not an integer in [1, " +
                    std::to_string(limits::kMaxThreads) + "]");
  }
}

}  // namespace gca::tb
