// Every limit the tools check on their input, in one place (documented in testbench/README.md).
// These are protections of the tools, not hardware facts: each is checked before work starts
// and reported as one line naming the file or key and the allowed range.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gca::limits {

// JSON inputs (parameter files and scenarios).
constexpr int kMaxJsonDepth = 32;                      // nesting of objects and arrays
constexpr std::uint64_t kMaxJsonFileBytes = 4u << 20;  // 4 MiB per file
// A sweep point's report.json, written by gca-sim itself: its power-window series grows with the
// simulated time (a whole GPT-2 at 100 us of host time per layer writes about 4.4 MB).
constexpr std::uint64_t kMaxReportFileBytes = 256u << 20;
// .npy inputs are read whole and widened to double (twice the bytes of float32 data).
constexpr std::uint64_t kMaxNpyFileBytes = std::uint64_t{2} << 30;  // 2 GiB
// The header is a Python dict of three keys; numpy writes a few hundred bytes (more only for
// shapes of thousands of dimensions). 1 MiB: nothing real comes close, and the header is read
// before anything else is checked.
constexpr std::uint64_t kMaxNpyHeaderBytes = std::uint64_t{1} << 20;

// Scenario `name` (it becomes the default output folder out/<name>).
constexpr std::size_t kMaxNameLength = 100;

// Simulated time: SystemC counts time in 64-bit multiples of the resolution (1 ps), so a run
// may last at most 2^64 ps (about 1.84e16 ns). A run is refused when its lower estimate
// exceeds half of that, which leaves room for what the estimate does not count (host link).
constexpr double kTimeResolutionNs = 1e-3;
constexpr double kMaxSimulatedNs = 18446744073709551615.0 * kTimeResolutionNs / 2.0;

// Threads of the model (GCA_THREADS).
constexpr int kMaxThreads = 256;

// Memory: a run is refused when the estimate of what it allocates exceeds this fraction of
// the memory available to the process (MemAvailable, cgroup limit, RLIMIT_AS: the smallest).
constexpr double kMaxMemoryFraction = 0.9;

// Error lines are cut to this many bytes (a message quoting a huge shape or path stays short).
constexpr std::size_t kMaxErrorLineBytes = 400;

}  // namespace gca::limits
