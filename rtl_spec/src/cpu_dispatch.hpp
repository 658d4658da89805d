// Run-time choice of a read kernel: its AVX2 version on a processor that has AVX2, its portable
// version elsewhere (and on processors other than x86, where no AVX2 version is compiled). The
// kernels' files define GCA_HAVE_X86_DISPATCH through this header and compile their AVX2
// versions only where it is defined.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GCA_HAVE_X86_DISPATCH 1
#endif

namespace gca::spec {

inline bool cpu_has_avx2() {
#if defined(GCA_HAVE_X86_DISPATCH)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

}  // namespace gca::spec

// The kernel to call: `avx2` where the processor has it, else `portable` (both of one type).
#if defined(GCA_HAVE_X86_DISPATCH)
#define GCA_PICK_KERNEL(avx2, portable) (::gca::spec::cpu_has_avx2() ? (avx2) : (portable))
#else
#define GCA_PICK_KERNEL(avx2, portable) (portable)
#endif
