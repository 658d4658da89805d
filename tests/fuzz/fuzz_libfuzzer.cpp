// libFuzzer entry (clang -fsanitize=fuzzer): the target is chosen at build time.
#include <cstdlib>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gca::fuzz::setup(GCA_PARAMS_DIR);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gca::fuzz::Target target = gca::fuzz::find_target(GCA_FUZZ_TARGET);
  try {
    return target(data, size);
  } catch (...) {
    std::abort();  // a finding: libFuzzer saves the input
  }
}
