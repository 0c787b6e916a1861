// CPU feature detection and function-target attributes for runtime dispatch.
// The build uses no -march flag: fast paths are compiled per function with target
// attributes and chosen at run time, so the addon runs on any x86-64 (and builds with
// g++ on non-x86, where only the portable paths exist). -DMPC_FORCE_PORTABLE compiles the
// portable paths only (to check that build on x86).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(MPC_FORCE_PORTABLE)
#define MPC_X86 1
#define MPC_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,popcnt")))
#define MPC_TARGET_AVX2 __attribute__((target("avx2,popcnt")))
#define MPC_TARGET_AESNI __attribute__((target("aes,sse4.1")))
#else
#define MPC_X86 0
#endif

#define MPC_INLINE inline __attribute__((always_inline))

namespace mpc {

// Instruction-set levels for the arithmetic kernels, best last.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

bool CpuHasAvx2();
bool CpuHasAvx512();  // F + DQ + VL (vpmullq)
bool CpuHasAesNi();

// Best level this CPU supports.
Isa BestIsa();
// Whether `isa` can run on this CPU.
bool IsaSupported(Isa isa);
const char* IsaName(Isa isa);
// Parses "scalar" | "avx2" | "avx512"; false when unknown.
bool ParseIsa(const char* s, Isa* out);

}  // namespace mpc
