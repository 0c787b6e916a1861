// Matrix products mod 2^64, cache-blocked (BLIS-style loop nest: packed B panels of KC x NR
// kept in L1, a packed MC x KC block of A in L2, an MR x NR register-tile microkernel).
//   matmul:    C = A B
//   rssMatmul: C = X0 Y0 + X0 Y1 + X1 Y0 (+ mask), computed in one pass as
//              [X0 | X1] [Y0 + Y1 ; Y0] over the concatenated inner dimension 2k.
// Operands are row-major; transA: A stored as (k x m); transB: B stored as (n x k).
// Batched: `batch` independent products stored back to back. `out` must not overlap inputs.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "cpu.h"

namespace mpc {

struct MatmulArgs {
  const uint64_t* x0;  // left operand (matmul: a)
  const uint64_t* x1;  // rss only: second left share, else null
  const uint64_t* y0;  // right operand (matmul: b)
  const uint64_t* y1;  // rss only: second right share, else null
  size_t m, k, n;
  bool transA, transB;
};

// One product (no batch). init (m x n) is added to the result when non-null (the mask).
// Returns false if scratch memory could not be allocated.
bool MatmulU64(Isa isa, const MatmulArgs& args, const uint64_t* init, uint64_t* out);

// JS: (a, b, batch, m, k, n, transA, transB, out)
Napi::Value JsMatmul(const Napi::CallbackInfo& info);
// JS: (x0, x1, y0, y1, batch, m, k, n, transA, transB, mask | undefined, out)
Napi::Value JsRssMatmul(const Napi::CallbackInfo& info);
// Same with a leading isa argument ('scalar' | 'avx2' | 'avx512'), for tests and benchmarks.
Napi::Value JsMatmulIsa(const Napi::CallbackInfo& info);
Napi::Value JsRssMatmulIsa(const Napi::CallbackInfo& info);

}  // namespace mpc
