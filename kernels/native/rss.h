// The replicated-sharing products, elementwise, in one pass:
//   arithmetic: z = x0*y0 + x0*y1 + x1*y0 (+ mask) = x0*(y0+y1) + x1*y0 (+ mask) mod 2^64
//   boolean:    z = (x0&y0) ^ (x0&y1) ^ (x1&y0) (^ mask)
// `out` may be exactly one of the inputs.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "cpu.h"

namespace mpc {

// mask may be null
void RssMulU64(Isa isa, const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1,
               const uint64_t* mask, uint64_t* out, size_t n);
void RssAndU64(const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1, const uint64_t* mask,
               uint64_t* out, size_t n);

// JS: (x0, x1, y0, y1, mask | undefined, out)
Napi::Value JsRssMul(const Napi::CallbackInfo& info);
Napi::Value JsRssAnd(const Napi::CallbackInfo& info);
// JS: (isa: 'scalar'|'avx2'|'avx512', x0, x1, y0, y1, mask | undefined, out) — for tests and benchmarks
Napi::Value JsRssMulIsa(const Napi::CallbackInfo& info);

}  // namespace mpc
