// Registers the ring kernels (one feature per .cc/.h pair) as the addon's exports.
// kernels/native-loader.ts checks abiVersion against NATIVE_ABI_VERSION: bump both on any change
// of an exported function's signature.
#include <napi.h>

#include "arith.h"
#include "bits.h"
#include "cpu.h"
#include "fixed.h"
#include "matmul.h"
#include "prg.h"
#include "rss.h"
#include "shift.h"

namespace {

constexpr int kMpcacheKernelsAbi = 1;

Napi::Value JsCpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("arith", Napi::String::New(env, mpc::IsaName(mpc::BestIsa())));
  o.Set("prg", Napi::String::New(env, mpc::PrgImplName(mpc::BestPrgImpl())));
  o.Set("avx2", Napi::Boolean::New(env, mpc::CpuHasAvx2()));
  o.Set("avx512", Napi::Boolean::New(env, mpc::CpuHasAvx512()));
  o.Set("aesni", Napi::Boolean::New(env, mpc::CpuHasAesNi()));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  static const Entry entries[] = {
      {"add", mpc::JsAdd},
      {"sub", mpc::JsSub},
      {"neg", mpc::JsNeg},
      {"mul", mpc::JsMul},
      {"mulScalar", mpc::JsMulScalar},
      {"addScalar", mpc::JsAddScalar},
      {"matmul", mpc::JsMatmul},
      {"rssMul", mpc::JsRssMul},
      {"rssMatmul", mpc::JsRssMatmul},
      {"sar", mpc::JsSar},
      {"shr", mpc::JsShr},
      {"shl", mpc::JsShl},
      {"truncLo", mpc::JsTruncLo},
      {"encodeFixed", mpc::JsEncodeFixed},
      {"decodeFixed", mpc::JsDecodeFixed},
      {"xor", mpc::JsXor},
      {"and", mpc::JsAnd},
      {"or", mpc::JsOr},
      {"not", mpc::JsNot},
      {"rssAnd", mpc::JsRssAnd},
      {"popcount", mpc::JsPopcount},
      {"extractBit", mpc::JsExtractBit},
      {"packBits", mpc::JsPackBits},
      {"unpackBits", mpc::JsUnpackBits},
      {"prgFill", mpc::JsPrgFill},
      // variants with an explicit instruction set, for tests and benchmarks
      {"matmulIsa", mpc::JsMatmulIsa},
      {"rssMatmulIsa", mpc::JsRssMatmulIsa},
      {"rssMulIsa", mpc::JsRssMulIsa},
      {"prgFillImpl", mpc::JsPrgFillImpl},
      {"cpuInfo", JsCpuInfo},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  exports.Set("abiVersion", Napi::Number::New(env, kMpcacheKernelsAbi));
  return exports;
}

}  // namespace

NODE_API_MODULE(mpcache_kernels, Init)
