// Argument extraction for the N-API wrappers. The TypeScript layer validates everything
// first; these re-check types and lengths so that native code never reads or writes out of
// bounds whatever JavaScript passes. Each helper throws a JS exception and returns false on
// a bad argument (C++ exceptions are disabled).
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "cpu.h"

namespace mpc {

template <typename T>
struct Span {
  T* data = nullptr;
  size_t len = 0;
};

bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<uint64_t>* out);
// undefined or null -> *present = false
bool ArgOptU64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<uint64_t>* out,
               bool* present);
bool ArgF64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<double>* out);
bool ArgU8(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, Span<uint8_t>* out);
// a non-negative integer number below 2^53
bool ArgSize(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, size_t* out);
// an integer number in [0, 63]
bool ArgBits(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, unsigned* out);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, bool* out);
// a bigint in [0, 2^64)
bool ArgBigU64(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, uint64_t* out);
// throws RangeError unless got == want
bool CheckLen(Napi::Env env, const char* fn, const char* name, size_t got, size_t want);
// a*b*c without overflow; throws RangeError on overflow
bool MulSizes(Napi::Env env, const char* fn, size_t a, size_t b, size_t c, size_t* out);
// true if the byte ranges of two spans intersect
bool Overlaps(const void* a, size_t abytes, const void* b, size_t bbytes);

// a string naming an arithmetic ISA level this CPU supports ("scalar" | "avx2" | "avx512")
bool ArgIsa(const Napi::CallbackInfo& info, size_t i, const char* fn, Isa* isa);

void ThrowType(Napi::Env env, const char* fn, const char* name, const char* what);
void ThrowRange(Napi::Env env, const char* fn, const char* msg);

}  // namespace mpc
