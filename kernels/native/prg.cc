#include "prg.h"

#include <cstring>
#include <string>

#include "aes-soft.h"
#include "cpu.h"
#include "napi-args.h"

#if MPC_X86
#include <immintrin.h>
#endif

namespace mpc {

namespace {

// The 16 counter-block bytes for block index (hi:lo), big-endian.
inline void CounterBytes(uint64_t hi, uint64_t lo, uint8_t b[16]) {
  for (int i = 0; i < 8; ++i) {
    b[i] = uint8_t(hi >> (56 - 8 * i));
    b[8 + i] = uint8_t(lo >> (56 - 8 * i));
  }
}

void FillSoft(const uint8_t seed[16], uint64_t counter, uint8_t* out, size_t len) {
  AesSoftKey key;
  AesSoftExpand(seed, &key);
  uint64_t hi = 0, lo = counter;
  uint8_t block[16], ks[16];
  for (size_t off = 0; off < len; off += 16) {
    CounterBytes(hi, lo, block);
    const size_t take = len - off < 16 ? len - off : 16;
    if (take == 16) {
      AesSoftEncrypt(key, block, out + off);
    } else {
      AesSoftEncrypt(key, block, ks);
      std::memcpy(out + off, ks, take);
    }
    if (++lo == 0) ++hi;
  }
}

#if MPC_X86
MPC_TARGET_AESNI inline __m128i ExpandStep(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, _MM_SHUFFLE(3, 3, 3, 3));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

MPC_TARGET_AESNI void ExpandKeyNi(const uint8_t seed[16], __m128i rk[11]) {
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(seed));
  rk[1] = ExpandStep(rk[0], _mm_aeskeygenassist_si128(rk[0], 0x01));
  rk[2] = ExpandStep(rk[1], _mm_aeskeygenassist_si128(rk[1], 0x02));
  rk[3] = ExpandStep(rk[2], _mm_aeskeygenassist_si128(rk[2], 0x04));
  rk[4] = ExpandStep(rk[3], _mm_aeskeygenassist_si128(rk[3], 0x08));
  rk[5] = ExpandStep(rk[4], _mm_aeskeygenassist_si128(rk[4], 0x10));
  rk[6] = ExpandStep(rk[5], _mm_aeskeygenassist_si128(rk[5], 0x20));
  rk[7] = ExpandStep(rk[6], _mm_aeskeygenassist_si128(rk[6], 0x40));
  rk[8] = ExpandStep(rk[7], _mm_aeskeygenassist_si128(rk[7], 0x80));
  rk[9] = ExpandStep(rk[8], _mm_aeskeygenassist_si128(rk[8], 0x1b));
  rk[10] = ExpandStep(rk[9], _mm_aeskeygenassist_si128(rk[9], 0x36));
}

MPC_TARGET_AESNI inline __m128i CounterBlock(uint64_t hi, uint64_t lo) {
  return _mm_set_epi64x(static_cast<long long>(__builtin_bswap64(lo)), static_cast<long long>(__builtin_bswap64(hi)));
}

MPC_TARGET_AESNI void FillNi(const uint8_t seed[16], uint64_t counter, uint8_t* out, size_t len) {
  __m128i rk[11];
  ExpandKeyNi(seed, rk);
  uint64_t hi = 0, lo = counter;
  constexpr int kLanes = 8;
  size_t off = 0;
  for (; off + 16 * kLanes <= len; off += 16 * kLanes) {
    __m128i b[kLanes];
    for (int i = 0; i < kLanes; ++i) {
      b[i] = _mm_xor_si128(CounterBlock(hi, lo), rk[0]);
      if (++lo == 0) ++hi;
    }
    for (int r = 1; r < 10; ++r)
      for (int i = 0; i < kLanes; ++i) b[i] = _mm_aesenc_si128(b[i], rk[r]);
    for (int i = 0; i < kLanes; ++i)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + off + 16 * i), _mm_aesenclast_si128(b[i], rk[10]));
  }
  for (; off < len; off += 16) {
    __m128i b = _mm_xor_si128(CounterBlock(hi, lo), rk[0]);
    if (++lo == 0) ++hi;
    for (int r = 1; r < 10; ++r) b = _mm_aesenc_si128(b, rk[r]);
    b = _mm_aesenclast_si128(b, rk[10]);
    if (len - off >= 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + off), b);
    } else {
      alignas(16) uint8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b);
      std::memcpy(out + off, tmp, len - off);
    }
  }
}
#endif

}  // namespace

PrgImpl BestPrgImpl() {
  static const PrgImpl best = CpuHasAesNi() ? PrgImpl::kAesNi : PrgImpl::kSoft;
  return best;
}

const char* PrgImplName(PrgImpl impl) { return impl == PrgImpl::kAesNi ? "aesni" : "soft"; }

void PrgFill(PrgImpl impl, const uint8_t seed[16], uint64_t counter, uint8_t* out, size_t len) {
#if MPC_X86
  if (impl == PrgImpl::kAesNi) return FillNi(seed, counter, out, len);
#endif
  (void)impl;
  FillSoft(seed, counter, out, len);
}

static Napi::Value RunPrg(const Napi::CallbackInfo& info, size_t base, const char* fn, PrgImpl impl) {
  Napi::Env env = info.Env();
  Span<uint8_t> seed, out;
  uint64_t counter = 0;
  if (!ArgU8(info, base, fn, "seed", &seed) || !ArgBigU64(info, base + 1, fn, "counter", &counter) ||
      !ArgU8(info, base + 2, fn, "out", &out) || !CheckLen(env, fn, "seed", seed.len, 16))
    return env.Undefined();
  if (Overlaps(seed.data, 16, out.data, out.len)) {
    ThrowRange(env, fn, "out must not overlap seed");
    return env.Undefined();
  }
  PrgFill(impl, seed.data, counter, out.data, out.len);
  return env.Undefined();
}

Napi::Value JsPrgFill(const Napi::CallbackInfo& info) { return RunPrg(info, 0, "prgFill", BestPrgImpl()); }

Napi::Value JsPrgFillImpl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    ThrowType(env, "prgFillImpl", "impl", "a string");
    return env.Undefined();
  }
  const std::string s = info[0].As<Napi::String>().Utf8Value();
  PrgImpl impl;
  if (s == "soft") {
    impl = PrgImpl::kSoft;
  } else if (s == "aesni" && CpuHasAesNi()) {
    impl = PrgImpl::kAesNi;
  } else {
    ThrowRange(env, "prgFillImpl", ("impl '" + s + "' is unknown or not supported by this CPU").c_str());
    return env.Undefined();
  }
  return RunPrg(info, 1, "prgFillImpl", impl);
}

}  // namespace mpc
