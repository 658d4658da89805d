// Checks made before a run starts (limits in gca/spec/limits.hpp): the simulated time fits the
// kernel's 64-bit time, timings are not below its resolution, the memory the model will
// allocate is available, GCA_THREADS is sane. Each failure is a gca::Error naming the keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gca/spec/params.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {

// What a run will hold at its peak, in bytes, by part. Derived, not fitted: the process as it is
// now (/proc/self/status VmRSS), the state of every head as the model's objects count it
// (HeadModel::state_bytes of heads built for the spec), the SystemC modules around each head (the
// heap that building heads of one and three sub-tiles takes in a child process, beyond their
// state), the oracle's state (OracleHead::state_bytes) and the buffers of per-token data.
struct MemoryEstimate {
  double resident = 0.0;   // the process when estimated: program, libraries, what it has read
  double model = 0.0;      // every head's circuit-model state
  double structure = 0.0;  // every head's SystemC modules, power ports and trace sources
  double checker = 0.0;    // the oracle's state of every head (when the run checks)
  double buffers = 0.0;    // inputs and outputs kept per token, score dumps
  double total() const;
};
MemoryEstimate estimate_run_memory(const spec::HardwareSpec& s, long tokens, bool with_checker,
                                   bool dump_scores);
// Bytes of the circuit-model state of one head of `spec`.
double head_state_bytes(const spec::HardwareSpec& spec);

// Memory the process may still use: the smallest of MemAvailable, the room left under the
// memory limit of every cgroup above the process (v2 and v1) and under RLIMIT_AS (ulimit -v);
// 0 when none can be read.
std::uint64_t available_bytes();

// A lower bound of the simulated time of `tokens` tokens (ns): the chain of layers a token
// passes (arrays, host time, link latency; in decode every token after the previous one) and
// the link's bytes at its bandwidth, the larger.
double lower_simulated_ns(const spec::HardwareSpec& spec, long tokens, double host_ns_per_layer,
                          bool decode);

// After a run: throws when its end time is beyond the limit or below the lower bound (the
// kernel's time wrapped, or an interval overflowed on its way into it).
void check_simulated_time(double end_ns, double lower_ns);

// Throws when the run of `scenario` on `spec` breaks a limit; returns the memory estimate.
MemoryEstimate check_run_limits(const spec::HardwareSpec& spec, const Scenario& scenario);
// Same for `gca-sim head` over `tokens` tokens.
void check_head_limits(const spec::HardwareSpec& spec, long tokens, bool dump_scores);
// Before `gca-sim head` reads its inputs: they fit in memory once read (widened to double).
void check_head_input_memory(const std::vector<std::string>& files);
// Same for `gca-sim mc` with `concurrent_chips` chips at a time.
void check_mc_limits(const spec::HardwareSpec& spec, long tokens, int concurrent_chips);
// GCA_THREADS, when set, must be an integer in [1, limits::kMaxThreads].
void check_thread_env();

}  // namespace gca::tb
