#include "shift.h"

#include "napi-args.h"

namespace mpc {

void SarU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n) {
  // right shift of a negative int64_t is arithmetic in GCC/Clang (and defined so in C++20)
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint64_t>(static_cast<int64_t>(a[i]) >> bits);
}

void ShrU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] >> bits;
}

void ShlU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] << bits;
}

void TruncLoU64(const uint64_t* a, unsigned bits, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = uint64_t(0) - ((uint64_t(0) - a[i]) >> bits);
}

using ShiftFn = void (*)(const uint64_t*, unsigned, uint64_t*, size_t);

static Napi::Value RunShift(const Napi::CallbackInfo& info, const char* fn, ShiftFn f) {
  Span<uint64_t> a, out;
  unsigned bits = 0;
  if (ArgU64(info, 0, fn, "a", &a) && ArgBits(info, 1, fn, "bits", &bits) && ArgU64(info, 2, fn, "out", &out) &&
      CheckLen(info.Env(), fn, "out", out.len, a.len))
    f(a.data, bits, out.data, a.len);
  return info.Env().Undefined();
}

Napi::Value JsSar(const Napi::CallbackInfo& info) { return RunShift(info, "sar", SarU64); }
Napi::Value JsShr(const Napi::CallbackInfo& info) { return RunShift(info, "shr", ShrU64); }
Napi::Value JsShl(const Napi::CallbackInfo& info) { return RunShift(info, "shl", ShlU64); }
Napi::Value JsTruncLo(const Napi::CallbackInfo& info) { return RunShift(info, "truncLo", TruncLoU64); }

}  // namespace mpc
