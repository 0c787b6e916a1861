#include "matmul.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "napi-args.h"

namespace mpc {

namespace {

constexpr size_t kMR = 6;     // rows of the register tile
constexpr size_t kNR = 16;    // columns of the register tile (two 8-lane vectors)
constexpr size_t kKC = 256;   // inner-dimension block: a KC x NR panel of B is 32 KiB (L1)
constexpr size_t kMC = 96;    // rows of A per block: MC x KC is 192 KiB (L2)
constexpr size_t kNC = 2048;  // columns of B per block

typedef uint64_t V8 __attribute__((vector_size(64), may_alias));
typedef uint64_t V8U __attribute__((vector_size(64), aligned(8), may_alias));

struct FreeDeleter {
  void operator()(uint64_t* p) const { std::free(p); }
};
using Buf = std::unique_ptr<uint64_t, FreeDeleter>;

Buf AllocAligned(size_t words) {
  size_t bytes = std::max<size_t>(64, (words * sizeof(uint64_t) + 63) / 64 * 64);
  return Buf(static_cast<uint64_t*>(std::aligned_alloc(64, bytes)));
}

// Logical element (i, q) of the left operand, q in [0, K).
inline uint64_t LeftAt(const MatmulArgs& a, size_t i, size_t q) {
  const uint64_t* src = a.x0;
  if (q >= a.k) {
    src = a.x1;
    q -= a.k;
  }
  return a.transA ? src[q * a.m + i] : src[i * a.k + q];
}

inline uint64_t RightOf(const uint64_t* y, const MatmulArgs& a, size_t q, size_t j) {
  return a.transB ? y[j * a.k + q] : y[q * a.n + j];
}

// Logical element (q, j) of the right operand: plain B, or [Y0 + Y1 ; Y0] for rss.
inline uint64_t RightAt(const MatmulArgs& a, size_t q, size_t j) {
  if (a.y1 == nullptr) return RightOf(a.y0, a, q, j);
  if (q < a.k) return RightOf(a.y0, a, q, j) + RightOf(a.y1, a, q, j);
  return RightOf(a.y0, a, q - a.k, j);
}

// Pack rows [i0, i0+mc) x columns [p0, p0+kc) of the left operand into MR-row panels
// (panel-major, then p, then r), zero-padding the last panel.
void PackLeft(const MatmulArgs& a, size_t i0, size_t mc, size_t p0, size_t kc, uint64_t* dst) {
  for (size_t ir = 0; ir < mc; ir += kMR) {
    size_t rows = std::min(kMR, mc - ir);
    uint64_t* panel = dst + (ir / kMR) * kc * kMR;
    for (size_t p = 0; p < kc; ++p) {
      for (size_t r = 0; r < kMR; ++r) panel[p * kMR + r] = r < rows ? LeftAt(a, i0 + ir + r, p0 + p) : 0;
    }
  }
}

// Pack rows [p0, p0+kc) x columns [j0, j0+nc) of the right operand into NR-column panels.
void PackRight(const MatmulArgs& a, size_t p0, size_t kc, size_t j0, size_t nc, uint64_t* dst) {
  for (size_t jr = 0; jr < nc; jr += kNR) {
    size_t cols = std::min(kNR, nc - jr);
    uint64_t* panel = dst + (jr / kNR) * kc * kNR;
    for (size_t p = 0; p < kc; ++p) {
      for (size_t c = 0; c < kNR; ++c) panel[p * kNR + c] = c < cols ? RightAt(a, p0 + p, j0 + jr + c) : 0;
    }
  }
}

// C[MR x NR] += Ap (kc x MR panel) * Bp (kc x NR panel). Written once with GCC vector
// extensions; each instantiation below compiles it for one instruction set (vpmullq on AVX-512).
template <int>
MPC_INLINE void MicroBody(size_t kc, const uint64_t* Ap, const uint64_t* Bp, uint64_t* C, size_t ldc) {
  V8 c[kMR][2];
  for (size_t r = 0; r < kMR; ++r) c[r][0] = c[r][1] = V8{};
  for (size_t p = 0; p < kc; ++p) {
    const V8 b0 = *reinterpret_cast<const V8*>(Bp + p * kNR);
    const V8 b1 = *reinterpret_cast<const V8*>(Bp + p * kNR + 8);
    const uint64_t* ap = Ap + p * kMR;
#pragma GCC unroll 6
    for (size_t r = 0; r < kMR; ++r) {
      c[r][0] += ap[r] * b0;
      c[r][1] += ap[r] * b1;
    }
  }
  for (size_t r = 0; r < kMR; ++r) {
    *reinterpret_cast<V8U*>(C + r * ldc) += c[r][0];
    *reinterpret_cast<V8U*>(C + r * ldc + 8) += c[r][1];
  }
}

using MicroFn = void (*)(size_t, const uint64_t*, const uint64_t*, uint64_t*, size_t);

// Without a 64-bit vector multiply (SSE2, AVX2, non-x86) scalar imul is faster than emulated
// vector products: walk the MR x NR tile in 2 x 4 sub-tiles of general-register accumulators.
template <int>
MPC_INLINE void MicroScalarBody(size_t kc, const uint64_t* Ap, const uint64_t* Bp, uint64_t* C, size_t ldc) {
  for (size_t r0 = 0; r0 < kMR; r0 += 2) {
    for (size_t c0 = 0; c0 < kNR; c0 += 4) {
      uint64_t c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      const uint64_t* ap = Ap + r0;
      const uint64_t* bp = Bp + c0;
      for (size_t p = 0; p < kc; ++p, ap += kMR, bp += kNR) {
        const uint64_t a0 = ap[0], a1 = ap[1];
        const uint64_t b0 = bp[0], b1 = bp[1], b2 = bp[2], b3 = bp[3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
      }
      uint64_t* c = C + r0 * ldc + c0;
      c[0] += c00; c[1] += c01; c[2] += c02; c[3] += c03;
      c[ldc] += c10; c[ldc + 1] += c11; c[ldc + 2] += c12; c[ldc + 3] += c13;
    }
  }
}

void MicroPortable(size_t kc, const uint64_t* Ap, const uint64_t* Bp, uint64_t* C, size_t ldc) {
  MicroScalarBody<0>(kc, Ap, Bp, C, ldc);
}
#if MPC_X86
MPC_TARGET_AVX2 void MicroAvx2(size_t kc, const uint64_t* Ap, const uint64_t* Bp, uint64_t* C, size_t ldc) {
  MicroScalarBody<1>(kc, Ap, Bp, C, ldc);
}
MPC_TARGET_AVX512 void MicroAvx512(size_t kc, const uint64_t* Ap, const uint64_t* Bp, uint64_t* C, size_t ldc) {
  MicroBody<2>(kc, Ap, Bp, C, ldc);
}
#endif

MicroFn MicroFor(Isa isa) {
#if MPC_X86
  if (isa == Isa::kAvx512) return MicroAvx512;
  if (isa == Isa::kAvx2) return MicroAvx2;
#endif
  (void)isa;
  return MicroPortable;
}

// Small-m path (decode steps multiply one or a few rows by a large matrix): no packing, B is
// read in place once. transB (B stored n x k, e.g. weights [out][in]): dot products of
// contiguous rows; otherwise (B stored k x n): row updates c += a(q) * B[q][:]. For rss the
// logical product is [X0 | X1] [Y0 + Y1 ; Y0]. Plain loops that GCC vectorises per target.
constexpr size_t kSmallM = 4;

template <int>
MPC_INLINE void SmallBody(const MatmulArgs& a, size_t rows, const uint64_t* __restrict A0, const uint64_t* __restrict A1,
                          uint64_t* __restrict out) {
  const size_t k = a.k, n = a.n;
  if (a.transB) {
    for (size_t j = 0; j < n; ++j) {
      const uint64_t* __restrict b0 = a.y0 + j * k;
      const uint64_t* __restrict b1 = a.y1 ? a.y1 + j * k : nullptr;
      for (size_t r = 0; r < rows; ++r) {
        const uint64_t* __restrict p0 = A0 + r * k;
        uint64_t s = 0;
        if (b1) {
          const uint64_t* __restrict p1 = A1 + r * k;
          for (size_t q = 0; q < k; ++q) s += p0[q] * (b0[q] + b1[q]) + p1[q] * b0[q];
        } else {
          for (size_t q = 0; q < k; ++q) s += p0[q] * b0[q];
        }
        out[r * n + j] += s;
      }
    }
  } else {
    for (size_t q = 0; q < k; ++q) {
      const uint64_t* __restrict b0 = a.y0 + q * n;
      const uint64_t* __restrict b1 = a.y1 ? a.y1 + q * n : nullptr;
      for (size_t r = 0; r < rows; ++r) {
        const uint64_t s0 = A0[r * k + q];
        uint64_t* __restrict c = out + r * n;
        if (b1) {
          const uint64_t s1 = A1[r * k + q];
          for (size_t j = 0; j < n; ++j) c[j] += s0 * (b0[j] + b1[j]) + s1 * b0[j];
        } else {
          for (size_t j = 0; j < n; ++j) c[j] += s0 * b0[j];
        }
      }
    }
  }
}

using SmallFn = void (*)(const MatmulArgs&, size_t, const uint64_t*, const uint64_t*, uint64_t*);

void SmallPortable(const MatmulArgs& a, size_t rows, const uint64_t* A0, const uint64_t* A1, uint64_t* out) {
  SmallBody<0>(a, rows, A0, A1, out);
}
#if MPC_X86
MPC_TARGET_AVX2 void SmallAvx2(const MatmulArgs& a, size_t rows, const uint64_t* A0, const uint64_t* A1, uint64_t* out) {
  SmallBody<1>(a, rows, A0, A1, out);
}
MPC_TARGET_AVX512 void SmallAvx512(const MatmulArgs& a, size_t rows, const uint64_t* A0, const uint64_t* A1, uint64_t* out) {
  SmallBody<2>(a, rows, A0, A1, out);
}
#endif

SmallFn SmallFor(Isa isa) {
#if MPC_X86
  if (isa == Isa::kAvx512) return SmallAvx512;
  if (isa == Isa::kAvx2) return SmallAvx2;
#endif
  (void)isa;
  return SmallPortable;
}

// out (m x n, already holding init or zeros) += the product, for m <= kSmallM.
bool SmallMatmul(Isa isa, const MatmulArgs& a, uint64_t* out) {
  const size_t m = a.m, k = a.k;
  const bool rss = a.x1 != nullptr;
  Buf rows = AllocAligned((rss ? 2 : 1) * m * k);
  if (!rows) return false;
  uint64_t* A0 = rows.get();
  uint64_t* A1 = rss ? A0 + m * k : nullptr;
  for (size_t i = 0; i < m; ++i) {
    for (size_t q = 0; q < k; ++q) {
      A0[i * k + q] = a.transA ? a.x0[q * m + i] : a.x0[i * k + q];
      if (rss) A1[i * k + q] = a.transA ? a.x1[q * m + i] : a.x1[i * k + q];
    }
  }
  SmallFor(isa)(a, m, A0, A1, out);
  return true;
}

}  // namespace

bool MatmulU64(Isa isa, const MatmulArgs& a, const uint64_t* init, uint64_t* out) {
  const size_t m = a.m, n = a.n, K = a.x1 ? 2 * a.k : a.k;
  if (init) {
    std::memcpy(out, init, m * n * sizeof(uint64_t));
  } else if (m != 0 && n != 0) {
    std::memset(out, 0, m * n * sizeof(uint64_t));
  }
  if (m == 0 || n == 0 || K == 0) return true;
  if (m <= kSmallM) return SmallMatmul(isa, a, out);
  const MicroFn micro = MicroFor(isa);
  const size_t kcMax = std::min(kKC, K);
  const size_t mcMax = (std::min(kMC, m) + kMR - 1) / kMR * kMR;
  const size_t ncMax = (std::min(kNC, n) + kNR - 1) / kNR * kNR;
  Buf ap = AllocAligned(mcMax * kcMax), bp = AllocAligned(ncMax * kcMax);
  if (!ap || !bp) return false;
  alignas(64) uint64_t tile[kMR * kNR];
  for (size_t jc = 0; jc < n; jc += kNC) {
    const size_t nc = std::min(kNC, n - jc);
    for (size_t pc = 0; pc < K; pc += kKC) {
      const size_t kc = std::min(kKC, K - pc);
      PackRight(a, pc, kc, jc, nc, bp.get());
      for (size_t ic = 0; ic < m; ic += kMC) {
        const size_t mc = std::min(kMC, m - ic);
        PackLeft(a, ic, mc, pc, kc, ap.get());
        for (size_t jr = 0; jr < nc; jr += kNR) {
          const size_t cols = std::min(kNR, nc - jr);
          const uint64_t* bpanel = bp.get() + (jr / kNR) * kc * kNR;
          for (size_t ir = 0; ir < mc; ir += kMR) {
            const size_t rows = std::min(kMR, mc - ir);
            const uint64_t* apanel = ap.get() + (ir / kMR) * kc * kMR;
            uint64_t* c = out + (ic + ir) * n + jc + jr;
            if (rows == kMR && cols == kNR) {
              micro(kc, apanel, bpanel, c, n);
            } else {
              std::memset(tile, 0, sizeof(tile));
              micro(kc, apanel, bpanel, tile, kNR);
              for (size_t r = 0; r < rows; ++r)
                for (size_t q = 0; q < cols; ++q) c[r * n + q] += tile[r * kNR + q];
            }
          }
        }
      }
    }
  }
  return true;
}

namespace {

// Parses (x0, [x1,] y0, [y1,] batch, m, k, n, transA, transB, [mask,] out) starting at `base`
// and runs the batched product with `isa`.
Napi::Value RunMatmul(const Napi::CallbackInfo& info, size_t base, const char* fn, bool rss, Isa isa) {
  Napi::Env env = info.Env();
  Span<uint64_t> x0, x1, y0, y1, mask, out;
  bool hasMask = false, transA = false, transB = false;
  size_t batch = 0, m = 0, k = 0, n = 0, i = base;
  if (!ArgU64(info, i++, fn, rss ? "x0" : "a", &x0)) return env.Undefined();
  if (rss && !ArgU64(info, i++, fn, "x1", &x1)) return env.Undefined();
  if (!ArgU64(info, i++, fn, rss ? "y0" : "b", &y0)) return env.Undefined();
  if (rss && !ArgU64(info, i++, fn, "y1", &y1)) return env.Undefined();
  if (!ArgSize(info, i++, fn, "batch", &batch) || !ArgSize(info, i++, fn, "m", &m) || !ArgSize(info, i++, fn, "k", &k) ||
      !ArgSize(info, i++, fn, "n", &n) || !ArgBool(info, i++, fn, "transA", &transA) ||
      !ArgBool(info, i++, fn, "transB", &transB))
    return env.Undefined();
  if (rss && !ArgOptU64(info, i++, fn, "mask", &mask, &hasMask)) return env.Undefined();
  if (!ArgU64(info, i++, fn, "out", &out)) return env.Undefined();
  size_t na, nb, no;
  if (!MulSizes(env, fn, batch, m, k, &na) || !MulSizes(env, fn, batch, k, n, &nb) || !MulSizes(env, fn, batch, m, n, &no))
    return env.Undefined();
  if (!CheckLen(env, fn, rss ? "x0" : "a", x0.len, na) || !CheckLen(env, fn, rss ? "y0" : "b", y0.len, nb) ||
      !CheckLen(env, fn, "out", out.len, no))
    return env.Undefined();
  if (rss && (!CheckLen(env, fn, "x1", x1.len, na) || !CheckLen(env, fn, "y1", y1.len, nb))) return env.Undefined();
  if (hasMask && !CheckLen(env, fn, "mask", mask.len, no)) return env.Undefined();
  const size_t ob = out.len * 8;
  if (Overlaps(out.data, ob, x0.data, x0.len * 8) || Overlaps(out.data, ob, y0.data, y0.len * 8) ||
      (rss && (Overlaps(out.data, ob, x1.data, x1.len * 8) || Overlaps(out.data, ob, y1.data, y1.len * 8)))) {
    ThrowRange(env, fn, "out must not overlap an input");
    return env.Undefined();
  }
  // the mask may alias out exactly (it is copied into out first), but not partly
  if (hasMask && mask.data != out.data && Overlaps(out.data, ob, mask.data, mask.len * 8)) {
    ThrowRange(env, fn, "out must not partially overlap mask");
    return env.Undefined();
  }
  for (size_t t = 0; t < batch; ++t) {
    MatmulArgs a{x0.data + t * m * k, rss ? x1.data + t * m * k : nullptr,
                 y0.data + t * k * n, rss ? y1.data + t * k * n : nullptr,
                 m, k, n, transA, transB};
    const uint64_t* init = hasMask ? mask.data + t * m * n : nullptr;
    if (!MatmulU64(isa, a, init, out.data + t * m * n)) {
      Napi::Error::New(env, std::string(fn) + ": out of memory for packing buffers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  return env.Undefined();
}

}  // namespace

Napi::Value JsMatmul(const Napi::CallbackInfo& info) { return RunMatmul(info, 0, "matmul", false, BestIsa()); }

Napi::Value JsRssMatmul(const Napi::CallbackInfo& info) { return RunMatmul(info, 0, "rssMatmul", true, BestIsa()); }

Napi::Value JsMatmulIsa(const Napi::CallbackInfo& info) {
  Isa isa;
  if (!ArgIsa(info, 0, "matmulIsa", &isa)) return info.Env().Undefined();
  return RunMatmul(info, 1, "matmulIsa", false, isa);
}

Napi::Value JsRssMatmulIsa(const Napi::CallbackInfo& info) {
  Isa isa;
  if (!ArgIsa(info, 0, "rssMatmulIsa", &isa)) return info.Env().Undefined();
  return RunMatmul(info, 1, "rssMatmulIsa", true, isa);
}

}  // namespace mpc
