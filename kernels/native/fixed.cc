#include "fixed.h"

#include <cmath>

#include "napi-args.h"

namespace mpc {

EncodeStats EncodeFixed(const double* x, unsigned f, uint64_t* out, size_t n) {
  const double scale = std::ldexp(1.0, static_cast<int>(f));
  const double two63 = 9223372036854775808.0;
  EncodeStats st{0, -1};
  for (size_t i = 0; i < n; ++i) {
    const double r = std::round(x[i] * scale);
    if (r >= -two63 && r < two63) {
      out[i] = static_cast<uint64_t>(static_cast<int64_t>(r));
    } else {
      if (st.outOfRange == 0) st.firstOutOfRange = static_cast<int64_t>(i);
      ++st.outOfRange;
      out[i] = std::isnan(r) ? 0 : r > 0 ? uint64_t(INT64_MAX) : uint64_t(1) << 63;
    }
  }
  return st;
}

void DecodeFixed(const uint64_t* a, unsigned f, double* out, size_t n) {
  const double scale = std::ldexp(1.0, static_cast<int>(f));
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(static_cast<int64_t>(a[i])) / scale;
}

Napi::Value JsEncodeFixed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<double> x;
  Span<uint64_t> out;
  unsigned f = 0;
  if (!ArgF64(info, 0, "encodeFixed", "x", &x) || !ArgBits(info, 1, "encodeFixed", "f", &f) ||
      !ArgU64(info, 2, "encodeFixed", "out", &out) || !CheckLen(env, "encodeFixed", "out", out.len, x.len))
    return env.Undefined();
  if (Overlaps(x.data, x.len * 8, out.data, out.len * 8)) {
    ThrowRange(env, "encodeFixed", "out must not overlap x");
    return env.Undefined();
  }
  EncodeStats st = EncodeFixed(x.data, f, out.data, x.len);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(uint32_t(0), Napi::Number::New(env, static_cast<double>(st.outOfRange)));
  r.Set(uint32_t(1), Napi::Number::New(env, static_cast<double>(st.firstOutOfRange)));
  return r;
}

Napi::Value JsDecodeFixed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<uint64_t> a;
  Span<double> out;
  unsigned f = 0;
  if (ArgU64(info, 0, "decodeFixed", "a", &a) && ArgBits(info, 1, "decodeFixed", "f", &f) &&
      ArgF64(info, 2, "decodeFixed", "out", &out) && CheckLen(env, "decodeFixed", "out", out.len, a.len)) {
    if (Overlaps(a.data, a.len * 8, out.data, out.len * 8)) {
      ThrowRange(env, "decodeFixed", "out must not overlap a");
    } else {
      DecodeFixed(a.data, f, out.data, a.len);
    }
  }
  return env.Undefined();
}

}  // namespace mpc
