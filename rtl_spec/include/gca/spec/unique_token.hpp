// A random name part for temporary files and folders. A process id is not unique where several
// PID namespaces (containers) or nodes (a shared file system) write into one folder; 64 random
// bits are.
#pragma once

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace gca {

// 16 hexadecimal digits from the kernel's random source.
inline std::string unique_token() {
  std::uint64_t x = 0;
  if (::getrandom(&x, sizeof x, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof x)) {
    // No entropy yet (early boot): time, process and a counter still separate the callers.
    static std::atomic<std::uint64_t> counter{0};
    x = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
        (static_cast<std::uint64_t>(::getpid()) << 40) ^ (counter++ * 0x9e3779b97f4a7c15ull);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

}  // namespace gca
