// AES-128-CTR keystream PRG. Key = 16-byte seed; the first counter block is 8 zero bytes
// followed by the 64-bit big-endian counter, and the block is incremented as a 128-bit
// big-endian integer. A trailing partial block is truncated. AES-NI when the CPU has it,
// else the portable software AES; both give identical streams.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace mpc {

enum class PrgImpl { kSoft = 0, kAesNi = 1 };

PrgImpl BestPrgImpl();
const char* PrgImplName(PrgImpl impl);
void PrgFill(PrgImpl impl, const uint8_t seed[16], uint64_t counter, uint8_t* out, size_t len);

// JS: (seed: Uint8Array(16), counter: bigint, out: Uint8Array)
Napi::Value JsPrgFill(const Napi::CallbackInfo& info);
// JS: (impl: 'soft' | 'aesni', seed, counter, out) — for tests and benchmarks
Napi::Value JsPrgFillImpl(const Napi::CallbackInfo& info);

}  // namespace mpc
