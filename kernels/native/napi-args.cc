#include "napi-args.h"

#include <cmath>
#include <string>

#include "cpu.h"

namespace mpc {

void ThrowType(Napi::Env env, const char* fn, const char* name, const char* what) {
  Napi::TypeError::New(env, std::string(fn) + ": " + name + " must be " + what).ThrowAsJavaScriptException();
}

void ThrowRange(Napi::Env env, const char* fn, const char* msg) {
  Napi::RangeError::New(env, std::string(fn) + ": " + msg).ThrowAsJavaScriptException();
}

template <typename T>
static bool ArgTyped(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, napi_typedarray_type t,
                     const char* what, Span<T>* out) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != t) {
    ThrowType(info.Env(), fn, name, what);
    return false;
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  out->data = a.Data();
  out->len = a.ElementLength();
  return true;
}

bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<uint64_t>* out) {
  return ArgTyped<uint64_t>(info, i, fn, name, napi_biguint64_array, "a BigUint64Array", out);
}

bool ArgOptU64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<uint64_t>* out,
               bool* present) {
  Napi::Value v = info[i];
  if (v.IsUndefined() || v.IsNull()) {
    *present = false;
    return true;
  }
  *present = true;
  return ArgU64(info, i, fn, name, out);
}

bool ArgF64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<double>* out) {
  return ArgTyped<double>(info, i, fn, name, napi_float64_array, "a Float64Array", out);
}

bool ArgU8(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<uint8_t>* out) {
  return ArgTyped<uint8_t>(info, i, fn, name, napi_uint8_array, "a Uint8Array", out);
}

bool ArgSize(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, size_t* out) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) {
    ThrowType(info.Env(), fn, name, "a number");
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0) || std::floor(d) != d) {
    ThrowRange(info.Env(), fn, (std::string(name) + " must be a non-negative integer").c_str());
    return false;
  }
  *out = static_cast<size_t>(d);
  return true;
}

bool ArgBits(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, unsigned* out) {
  size_t s = 0;
  if (!ArgSize(info, i, fn, name, &s)) return false;
  if (s > 63) {
    ThrowRange(info.Env(), fn, (std::string(name) + " must be in [0, 63]").c_str());
    return false;
  }
  *out = static_cast<unsigned>(s);
  return true;
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, bool* out) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) {
    ThrowType(info.Env(), fn, name, "a boolean");
    return false;
  }
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool ArgBigU64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, uint64_t* out) {
  Napi::Value v = info[i];
  if (!v.IsBigInt()) {
    ThrowType(info.Env(), fn, name, "a bigint");
    return false;
  }
  bool lossless = false;
  uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) {
    ThrowRange(info.Env(), fn, (std::string(name) + " must be in [0, 2^64)").c_str());
    return false;
  }
  *out = x;
  return true;
}

bool CheckLen(Napi::Env env, const char* fn, const char* name, size_t got, size_t want) {
  if (got == want) return true;
  ThrowRange(env, fn, (std::string(name) + " has length " + std::to_string(got) + ", expected " + std::to_string(want)).c_str());
  return false;
}

bool MulSizes(Napi::Env env, const char* fn, size_t a, size_t b, size_t c, size_t* out) {
  size_t ab = 0, abc = 0;
  if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) || abc > (size_t(1) << 40)) {
    ThrowRange(env, fn, "shape is too large");
    return false;
  }
  *out = abc;
  return true;
}

bool Overlaps(const void* a, size_t abytes, const void* b, size_t bbytes) {
  if (abytes == 0 || bbytes == 0) return false;
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + bbytes && pb < pa + abytes;
}

bool ArgIsa(const Napi::CallbackInfo& info, size_t i, const char* fn, Isa* isa) {
  if (!info[i].IsString()) {
    ThrowType(info.Env(), fn, "isa", "a string");
    return false;
  }
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (!ParseIsa(s.c_str(), isa) || !IsaSupported(*isa)) {
    ThrowRange(info.Env(), fn, ("isa '" + s + "' is unknown or not supported by this CPU").c_str());
    return false;
  }
  return true;
}

}  // namespace mpc
