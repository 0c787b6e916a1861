#include "cpu.h"

#include <cstring>

namespace mpc {

#if MPC_X86
bool CpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
bool CpuHasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx2");
}
bool CpuHasAesNi() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
}
#else
bool CpuHasAvx2() { return false; }
bool CpuHasAvx512() { return false; }
bool CpuHasAesNi() { return false; }
#endif

Isa BestIsa() {
  static const Isa best = CpuHasAvx512() ? Isa::kAvx512 : CpuHasAvx2() ? Isa::kAvx2 : Isa::kScalar;
  return best;
}

bool IsaSupported(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return CpuHasAvx2();
    case Isa::kAvx512: return CpuHasAvx512();
  }
  return false;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

bool ParseIsa(const char* s, Isa* out) {
  if (std::strcmp(s, "scalar") == 0) { *out = Isa::kScalar; return true; }
  if (std::strcmp(s, "avx2") == 0) { *out = Isa::kAvx2; return true; }
  if (std::strcmp(s, "avx512") == 0) { *out = Isa::kAvx512; return true; }
  return false;
}

}  // namespace mpc
