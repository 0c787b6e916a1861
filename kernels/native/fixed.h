// Fixed-point encode/decode between doubles and ring elements with f fractional bits.
// encode: round(x * 2^f) to nearest, ties away from zero (C round()); results outside
// [-2^63, 2^63) and non-finite inputs are counted and clamped (NaN -> 0, +big -> 2^63-1,
// -big -> -2^63), never wrapped. decode: (double)(int64)v / 2^f.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace mpc {

struct EncodeStats {
  size_t outOfRange;
  int64_t firstOutOfRange;  // -1 when none
};

EncodeStats EncodeFixed(const double* x, unsigned f, uint64_t* out, size_t n);
void DecodeFixed(const uint64_t* a, unsigned f, double* out, size_t n);

// JS: (x: Float64Array, f, out: BigUint64Array) -> [outOfRange, firstOutOfRange]
Napi::Value JsEncodeFixed(const Napi::CallbackInfo& info);
// JS: (a, f, out: Float64Array)
Napi::Value JsDecodeFixed(const Napi::CallbackInfo& info);

}  // namespace mpc
