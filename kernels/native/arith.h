// Elementwise arithmetic mod 2^64: add, sub, neg, mul, mulScalar, addScalar.
// `out` may be exactly one of the inputs (in place); lengths are checked by the wrappers.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "cpu.h"

namespace mpc {

void AddU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void SubU64(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void NegU64(const uint64_t* a, uint64_t* out, size_t n);
void MulU64(Isa isa, const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void MulScalarU64(Isa isa, const uint64_t* a, uint64_t s, uint64_t* out, size_t n);
void AddScalarU64(const uint64_t* a, uint64_t s, uint64_t* out, size_t n);

// JS: (a, b, out), (a, out), (a, s: bigint, out)
Napi::Value JsAdd(const Napi::CallbackInfo& info);
Napi::Value JsSub(const Napi::CallbackInfo& info);
Napi::Value JsNeg(const Napi::CallbackInfo& info);
Napi::Value JsMul(const Napi::CallbackInfo& info);
Napi::Value JsMulScalar(const Napi::CallbackInfo& info);
Napi::Value JsAddScalar(const Napi::CallbackInfo& info);

// Shared by the elementwise wrappers of other files: fetch (a, b, out) / (a, out) with equal lengths.
bool BinaryArgs(const Napi::CallbackInfo& info, const char* fn, const uint64_t** a, const uint64_t** b, uint64_t** out,
                size_t* n);
bool UnaryArgs(const Napi::CallbackInfo& info, const char* fn, const uint64_t** a, uint64_t** out, size_t* n);

}  // namespace mpc
