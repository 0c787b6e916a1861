// Boolean 64-bit words: xor, and, or, not, popcount, bit extraction, bit packing.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace mpc {

void XorU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void AndU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void OrU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void NotU64(const uint64_t* a, uint64_t* out, size_t n);
void PopcountU64(const uint64_t* a, uint8_t* out, size_t n);
void ExtractBitU64(const uint64_t* a, unsigned bit, uint8_t* out, size_t n);
// out has ceil(n / 64) words
void PackBitsU64(const uint64_t* a, size_t n, unsigned bit, uint64_t* out);
// packed has ceil(n / 64) words, out has n
void UnpackBitsU64(const uint64_t* packed, size_t n, unsigned bit, uint64_t* out);

// JS: (a, b, out) / (a, out) / (a, out: Uint8Array) / (a, bit, out: Uint8Array) / (a, bit, out) / (packed, n, bit, out)
Napi::Value JsXor(const Napi::CallbackInfo& info);
Napi::Value JsAnd(const Napi::CallbackInfo& info);
Napi::Value JsOr(const Napi::CallbackInfo& info);
Napi::Value JsNot(const Napi::CallbackInfo& info);
Napi::Value JsPopcount(const Napi::CallbackInfo& info);
Napi::Value JsExtractBit(const Napi::CallbackInfo& info);
Napi::Value JsPackBits(const Napi::CallbackInfo& info);
Napi::Value JsUnpackBits(const Napi::CallbackInfo& info);

}  // namespace mpc
