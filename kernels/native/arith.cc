#include "arith.h"

#include "napi-args.h"

namespace mpc {

void AddU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void SubU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
}

void NegU64(const uint64_t* a, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = uint64_t(0) - a[i];
}

void AddScalarU64(const uint64_t* a, uint64_t s, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + s;
}

template <int>
static MPC_INLINE void MulBody(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

template <int>
static MPC_INLINE void MulScalarBody(const uint64_t* a, uint64_t s, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] * s;
}

static void MulPortable(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) { MulBody<0>(a, b, out, n); }
static void MulSPortable(const uint64_t* a, uint64_t s, uint64_t* out, size_t n) { MulScalarBody<0>(a, s, out, n); }
#if MPC_X86
MPC_TARGET_AVX2 static void MulAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) { MulBody<1>(a, b, out, n); }
MPC_TARGET_AVX512 static void MulAvx512(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  MulBody<2>(a, b, out, n);
}
MPC_TARGET_AVX2 static void MulSAvx2(const uint64_t* a, uint64_t s, uint64_t* out, size_t n) { MulScalarBody<1>(a, s, out, n); }
MPC_TARGET_AVX512 static void MulSAvx512(const uint64_t* a, uint64_t s, uint64_t* out, size_t n) {
  MulScalarBody<2>(a, s, out, n);
}
#endif

void MulU64(Isa isa, const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
#if MPC_X86
  if (isa == Isa::kAvx512) return MulAvx512(a, b, out, n);
  if (isa == Isa::kAvx2) return MulAvx2(a, b, out, n);
#endif
  (void)isa;
  MulPortable(a, b, out, n);
}

void MulScalarU64(Isa isa, const uint64_t* a, uint64_t s, uint64_t* out, size_t n) {
#if MPC_X86
  if (isa == Isa::kAvx512) return MulSAvx512(a, s, out, n);
  if (isa == Isa::kAvx2) return MulSAvx2(a, s, out, n);
#endif
  (void)isa;
  MulSPortable(a, s, out, n);
}

bool BinaryArgs(const Napi::CallbackInfo& info, const char* fn, const uint64_t** a, const uint64_t** b, uint64_t** out,
                size_t* n) {
  Span<uint64_t> sa, sb, so;
  if (!ArgU64(info, 0, fn, "a", &sa) || !ArgU64(info, 1, fn, "b", &sb) || !ArgU64(info, 2, fn, "out", &so)) return false;
  if (!CheckLen(info.Env(), fn, "b", sb.len, sa.len) || !CheckLen(info.Env(), fn, "out", so.len, sa.len)) return false;
  *a = sa.data;
  *b = sb.data;
  *out = so.data;
  *n = sa.len;
  return true;
}

bool UnaryArgs(const Napi::CallbackInfo& info, const char* fn, const uint64_t** a, uint64_t** out, size_t* n) {
  Span<uint64_t> sa, so;
  if (!ArgU64(info, 0, fn, "a", &sa) || !ArgU64(info, 1, fn, "out", &so)) return false;
  if (!CheckLen(info.Env(), fn, "out", so.len, sa.len)) return false;
  *a = sa.data;
  *out = so.data;
  *n = sa.len;
  return true;
}

static bool ScalarArgs(const Napi::CallbackInfo& info, const char* fn, const uint64_t** a, uint64_t* s, uint64_t** out,
                       size_t* n) {
  Span<uint64_t> sa, so;
  if (!ArgU64(info, 0, fn, "a", &sa) || !ArgBigU64(info, 1, fn, "s", s) || !ArgU64(info, 2, fn, "out", &so)) return false;
  if (!CheckLen(info.Env(), fn, "out", so.len, sa.len)) return false;
  *a = sa.data;
  *out = so.data;
  *n = sa.len;
  return true;
}

Napi::Value JsAdd(const Napi::CallbackInfo& info) {
  const uint64_t *a, *b;
  uint64_t* o;
  size_t n;
  if (BinaryArgs(info, "add", &a, &b, &o, &n)) AddU64(a, b, o, n);
  return info.Env().Undefined();
}

Napi::Value JsSub(const Napi::CallbackInfo& info) {
  const uint64_t *a, *b;
  uint64_t* o;
  size_t n;
  if (BinaryArgs(info, "sub", &a, &b, &o, &n)) SubU64(a, b, o, n);
  return info.Env().Undefined();
}

Napi::Value JsMul(const Napi::CallbackInfo& info) {
  const uint64_t *a, *b;
  uint64_t* o;
  size_t n;
  if (BinaryArgs(info, "mul", &a, &b, &o, &n)) MulU64(BestIsa(), a, b, o, n);
  return info.Env().Undefined();
}

Napi::Value JsNeg(const Napi::CallbackInfo& info) {
  const uint64_t* a;
  uint64_t* o;
  size_t n;
  if (UnaryArgs(info, "neg", &a, &o, &n)) NegU64(a, o, n);
  return info.Env().Undefined();
}

Napi::Value JsMulScalar(const Napi::CallbackInfo& info) {
  const uint64_t* a;
  uint64_t s, *o;
  size_t n;
  if (ScalarArgs(info, "mulScalar", &a, &s, &o, &n)) MulScalarU64(BestIsa(), a, s, o, n);
  return info.Env().Undefined();
}

Napi::Value JsAddScalar(const Napi::CallbackInfo& info) {
  const uint64_t* a;
  uint64_t s, *o;
  size_t n;
  if (ScalarArgs(info, "addScalar", &a, &s, &o, &n)) AddScalarU64(a, s, o, n);
  return info.Env().Undefined();
}

}  // namespace mpc
