#include "gca/tb/run_limits.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gca/spec/error.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/oracle_head.hpp"

namespace gca::tb {
namespace {

// The model, measured with the default scenario (gain cells of 1 byte, per-column state): about
// 280 bytes per stored token per head with 64-row arrays; 4 bytes per row plus 32 covers it.
// With variation, noise or leakage the arrays keep up to four floats per cell (K and V): 32 per
// row. The oracle's state is what OracleHead::state_bytes says (it depends on the options).
constexpr double kBytesPerRowSlot = 4.0;
constexpr double kBytesPerRowSlotAnalog = 32.0;
constexpr double kBytesPerSlot = 32.0;
constexpr double kBaseBytes = 64.0 * (1 << 20);  // the program, SystemC, buffers

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

std::uint64_t vm_size() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::strtoull(line.c_str() + 7, nullptr, 10) * 1024;
  }
  return 0;
}

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

std::uint64_t estimate_run_bytes(const spec::HardwareSpec& s, long tokens, bool with_checker,
                                 bool dump_scores) {
  const double slots = double(s.subtiles_per_head()) * s.array.cols;
  const bool per_cell_floats = s.non_ideal() || s.retention.leaks();
  const double per_head_model =
      slots * ((per_cell_floats ? kBytesPerRowSlotAnalog : kBytesPerRowSlot) * s.array.rows +
               kBytesPerSlot);
  const double per_head_oracle = double(spec::OracleHead::state_bytes(s));
  const double heads = double(s.model.n_layers) * s.model.n_heads;
  double bytes = kBaseBytes + heads * (per_head_model + (with_checker ? per_head_oracle : 0.0));
  bytes += double(tokens) * s.model.d_head * 8.0 * 4;  // Q, K, V and outputs of a head run
  if (dump_scores) bytes += 2.0 * double(tokens) * s.window * 8.0;  // scores and phi
  return static_cast<std::uint64_t>(std::min(bytes, 1.8e19));
}

std::uint64_t available_bytes() {
  std::uint64_t avail = mem_available();
  auto take = [&avail](std::uint64_t x) {
    if (x > 0 && (avail == 0 || x < avail)) avail = x;
  };
  const std::uint64_t cg_max = read_number("/sys/fs/cgroup/memory.max");
  if (cg_max > 0) {
    const std::uint64_t used = read_number("/sys/fs/cgroup/memory.current");
    take(cg_max > used ? cg_max - used : 1);
  }
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const std::uint64_t used = vm_size();
    take(rl.rlim_cur > used ? rl.rlim_cur - used : 1);
  }
  return avail;
}

void check_run_limits(const spec::HardwareSpec& s, const Scenario& sc) {
  check_time_resolution(s);
  // A lower estimate of the simulated time: every token passes every layer.
  const double per_layer_ns = s.timing.token_latency_ns() + sc.host.host_ns_per_layer;
  const double sim_ns = double(sc.host.tokens) * s.model.n_layers * per_layer_ns;
  if (sim_ns > limits::kMaxSimulatedNs) {
    std::ostringstream os;
    os << "the run would simulate about " << sim_ns << " ns, beyond the limit of "
       << limits::kMaxSimulatedNs
       << " ns (half the range of the kernel's 64-bit time at 1 ps; allowed: workload.tokens x "
          "model.n_layers x "
          "(ns per layer + workload.host_ns_per_layer) <= that)";
    throw Error(sc.file, "workload.tokens", os.str());
  }
  check_memory(double(estimate_run_bytes(s, 0, sc.check_against_oracle, false)), "window",
               "window, model.n_layers or model.n_heads");
}

void check_head_limits(const spec::HardwareSpec& s, long tokens, bool dump_scores) {
  check_time_resolution(s);
  check_memory(double(estimate_run_bytes(s, tokens, false, dump_scores)), "window",
               dump_scores ? "window or the tokens of Q, K, V (or drop --dump-scores)"
                           : "window or the tokens of Q, K, V");
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
