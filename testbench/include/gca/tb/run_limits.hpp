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

// What a run allocates, in bytes (a deliberate over-estimate): the model's and the checker's
// gain-cell arrays, per-token outputs kept, score dumps.
std::uint64_t estimate_run_bytes(const spec::HardwareSpec& s, long tokens, bool with_checker,
                                 bool dump_scores);

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

// Throws when the run of `scenario` on `spec` breaks a limit.
void check_run_limits(const spec::HardwareSpec& spec, const Scenario& scenario);
// Same for `gca-sim head` over `tokens` tokens.
void check_head_limits(const spec::HardwareSpec& spec, long tokens, bool dump_scores);
// Before `gca-sim head` reads its inputs: they fit in memory once read (widened to double).
void check_head_input_memory(const std::vector<std::string>& files);
// Same for `gca-sim mc` with `concurrent_chips` chips at a time.
void check_mc_limits(const spec::HardwareSpec& spec, long tokens, int concurrent_chips);
// GCA_THREADS, when set, must be an integer in [1, limits::kMaxThreads].
void check_thread_env();

}  // namespace gca::tb
