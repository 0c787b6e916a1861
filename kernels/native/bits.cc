#include "bits.h"

#include "arith.h"
#include "cpu.h"
#include "napi-args.h"

namespace mpc {

void XorU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] ^ b[i];
}
void AndU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] & b[i];
}
void OrU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] | b[i];
}
void NotU64(const uint64_t* a, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = ~a[i];
}

template <int>
static MPC_INLINE void PopcountBody(const uint64_t* a, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(__builtin_popcountll(a[i]));
}
static void PopcountPortable(const uint64_t* a, uint8_t* out, size_t n) { PopcountBody<0>(a, out, n); }
#if MPC_X86
MPC_TARGET_AVX2 static void PopcountHw(const uint64_t* a, uint8_t* out, size_t n) { PopcountBody<1>(a, out, n); }
#endif

void PopcountU64(const uint64_t* a, uint8_t* out, size_t n) {
#if MPC_X86
  if (BestIsa() != Isa::kScalar) return PopcountHw(a, out, n);
#endif
  PopcountPortable(a, out, n);
}

void ExtractBitU64(const uint64_t* a, unsigned bit, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>((a[i] >> bit) & 1);
}

void PackBitsU64(const uint64_t* a, size_t n, unsigned bit, uint64_t* out) {
  const size_t words = (n + 63) / 64;
  for (size_t w = 0; w < words; ++w) {
    const size_t base = w * 64, end = n - base < 64 ? n - base : 64;
    uint64_t v = 0;
    for (size_t j = 0; j < end; ++j) v |= ((a[base + j] >> bit) & 1) << j;
    out[w] = v;
  }
}

void UnpackBitsU64(const uint64_t* packed, size_t n, unsigned bit, uint64_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = ((packed[i >> 6] >> (i & 63)) & 1) << bit;
}

using BinFn = void (*)(const uint64_t*, const uint64_t*, uint64_t*, size_t);

static Napi::Value RunBinary(const Napi::CallbackInfo& info, const char* fn, BinFn f) {
  const uint64_t *a, *b;
  uint64_t* o;
  size_t n;
  if (BinaryArgs(info, fn, &a, &b, &o, &n)) f(a, b, o, n);
  return info.Env().Undefined();
}

Napi::Value JsXor(const Napi::CallbackInfo& info) { return RunBinary(info, "xor", XorU64); }
Napi::Value JsAnd(const Napi::CallbackInfo& info) { return RunBinary(info, "and", AndU64); }
Napi::Value JsOr(const Napi::CallbackInfo& info) { return RunBinary(info, "or", OrU64); }

Napi::Value JsNot(const Napi::CallbackInfo& info) {
  const uint64_t* a;
  uint64_t* o;
  size_t n;
  if (UnaryArgs(info, "not", &a, &o, &n)) NotU64(a, o, n);
  return info.Env().Undefined();
}

Napi::Value JsPopcount(const Napi::CallbackInfo& info) {
  Span<uint64_t> a;
  Span<uint8_t> out;
  if (ArgU64(info, 0, "popcount", "a", &a) && ArgU8(info, 1, "popcount", "out", &out) &&
      CheckLen(info.Env(), "popcount", "out", out.len, a.len)) {
    if (Overlaps(a.data, a.len * 8, out.data, out.len)) ThrowRange(info.Env(), "popcount", "out must not overlap a");
    else PopcountU64(a.data, out.data, a.len);
  }
  return info.Env().Undefined();
}

Napi::Value JsExtractBit(const Napi::CallbackInfo& info) {
  Span<uint64_t> a;
  Span<uint8_t> out;
  unsigned bit = 0;
  if (ArgU64(info, 0, "extractBit", "a", &a) && ArgBits(info, 1, "extractBit", "bit", &bit) &&
      ArgU8(info, 2, "extractBit", "out", &out) && CheckLen(info.Env(), "extractBit", "out", out.len, a.len)) {
    if (Overlaps(a.data, a.len * 8, out.data, out.len)) ThrowRange(info.Env(), "extractBit", "out must not overlap a");
    else ExtractBitU64(a.data, bit, out.data, a.len);
  }
  return info.Env().Undefined();
}

Napi::Value JsPackBits(const Napi::CallbackInfo& info) {
  Span<uint64_t> a, out;
  unsigned bit = 0;
  if (ArgU64(info, 0, "packBits", "a", &a) && ArgBits(info, 1, "packBits", "bit", &bit) &&
      ArgU64(info, 2, "packBits", "out", &out) && CheckLen(info.Env(), "packBits", "out", out.len, (a.len + 63) / 64)) {
    if (Overlaps(a.data, a.len * 8, out.data, out.len * 8)) ThrowRange(info.Env(), "packBits", "out must not overlap a");
    else PackBitsU64(a.data, a.len, bit, out.data);
  }
  return info.Env().Undefined();
}

Napi::Value JsUnpackBits(const Napi::CallbackInfo& info) {
  Span<uint64_t> packed, out;
  size_t n = 0;
  unsigned bit = 0;
  if (ArgU64(info, 0, "unpackBits", "packed", &packed) && ArgSize(info, 1, "unpackBits", "n", &n) &&
      ArgBits(info, 2, "unpackBits", "bit", &bit) && ArgU64(info, 3, "unpackBits", "out", &out) &&
      CheckLen(info.Env(), "unpackBits", "packed", packed.len, (n + 63) / 64) &&
      CheckLen(info.Env(), "unpackBits", "out", out.len, n)) {
    if (Overlaps(packed.data, packed.len * 8, out.data, out.len * 8))
      ThrowRange(info.Env(), "unpackBits", "out must not overlap packed");
    else UnpackBitsU64(packed.data, n, bit, out.data);
  }
  return info.Env().Undefined();
}

}  // namespace mpc
