// Shifts of 64-bit words and the share-truncation helpers. bits in [0, 63].
//   sar: arithmetic (two's complement) shift right; shr: logical; shl: left.
//   truncLo (SecureML trunc_lo): -((-v) >> bits) with a logical shift. trunc_hi is shr.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace mpc {

void SarU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n);
void ShrU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n);
void ShlU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n);
void TruncLoU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n);

// JS: (a, bits, out)
Napi::Value JsSar(const Napi::CallbackInfo& info);
Napi::Value JsShr(const Napi::CallbackInfo& info);
Napi::Value JsShl(const Napi::CallbackInfo& info);
Napi::Value JsTruncLo(const Napi::CallbackInfo& info);

}  // namespace mpc
