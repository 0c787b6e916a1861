#include "rss.h"

#include "napi-args.h"

namespace mpc {

template <int>
static MPC_INLINE void RssBody(const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1,
                               const uint64_t* mask, uint64_t* out, size_t n) {
  if (mask) {
    for (size_t i = 0; i < n; ++i) out[i] = x0[i] * (y0[i] + y1[i]) + x1[i] * y0[i] + mask[i];
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = x0[i] * (y0[i] + y1[i]) + x1[i] * y0[i];
  }
}

static void RssPortable(const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1,
                        const uint64_t* mask, uint64_t* out, size_t n) {
  RssBody<0>(x0, x1, y0, y1, mask, out, n);
}
#if MPC_X86
MPC_TARGET_AVX2 static void RssAvx2(const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1,
                                    const uint64_t* mask, uint64_t* out, size_t n) {
  RssBody<1>(x0, x1, y0, y1, mask, out, n);
}
MPC_TARGET_AVX512 static void RssAvx512(const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1,
                                        const uint64_t* mask, uint64_t* out, size_t n) {
  RssBody<2>(x0, x1, y0, y1, mask, out, n);
}
#endif

void RssMulU64(Isa isa, const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1,
               const uint64_t* mask, uint64_t* out, size_t n) {
#if MPC_X86
  if (isa == Isa::kAvx512) return RssAvx512(x0, x1, y0, y1, mask, out, n);
  if (isa == Isa::kAvx2) return RssAvx2(x0, x1, y0, y1, mask, out, n);
#endif
  (void)isa;
  RssPortable(x0, x1, y0, y1, mask, out, n);
}

void RssAndU64(const uint64_t* x0, const uint64_t* x1, const uint64_t* y0, const uint64_t* y1, const uint64_t* mask,
               uint64_t* out, size_t n) {
  if (mask) {
    for (size_t i = 0; i < n; ++i) out[i] = (x0[i] & (y0[i] ^ y1[i])) ^ (x1[i] & y0[i]) ^ mask[i];
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = (x0[i] & (y0[i] ^ y1[i])) ^ (x1[i] & y0[i]);
  }
}

struct RssArgs {
  Span<uint64_t> x0, x1, y0, y1, mask, out;
  bool hasMask = false;
};

static bool GetRssArgs(const Napi::CallbackInfo& info, size_t base, const char* fn, RssArgs* r) {
  Napi::Env env = info.Env();
  if (!ArgU64(info, base + 0, fn, "x0", &r->x0) || !ArgU64(info, base + 1, fn, "x1", &r->x1) ||
      !ArgU64(info, base + 2, fn, "y0", &r->y0) || !ArgU64(info, base + 3, fn, "y1", &r->y1) ||
      !ArgOptU64(info, base + 4, fn, "mask", &r->mask, &r->hasMask) || !ArgU64(info, base + 5, fn, "out", &r->out))
    return false;
  size_t n = r->x0.len;
  if (!CheckLen(env, fn, "x1", r->x1.len, n) || !CheckLen(env, fn, "y0", r->y0.len, n) ||
      !CheckLen(env, fn, "y1", r->y1.len, n) || !CheckLen(env, fn, "out", r->out.len, n))
    return false;
  if (r->hasMask && !CheckLen(env, fn, "mask", r->mask.len, n)) return false;
  return true;
}

Napi::Value JsRssMul(const Napi::CallbackInfo& info) {
  RssArgs r;
  if (GetRssArgs(info, 0, "rssMul", &r))
    RssMulU64(BestIsa(), r.x0.data, r.x1.data, r.y0.data, r.y1.data, r.hasMask ? r.mask.data : nullptr, r.out.data,
              r.x0.len);
  return info.Env().Undefined();
}

Napi::Value JsRssAnd(const Napi::CallbackInfo& info) {
  RssArgs r;
  if (GetRssArgs(info, 0, "rssAnd", &r))
    RssAndU64(r.x0.data, r.x1.data, r.y0.data, r.y1.data, r.hasMask ? r.mask.data : nullptr, r.out.data, r.x0.len);
  return info.Env().Undefined();
}

Napi::Value JsRssMulIsa(const Napi::CallbackInfo& info) {
  Isa isa;
  RssArgs r;
  if (ArgIsa(info, 0, "rssMulIsa", &isa) && GetRssArgs(info, 1, "rssMulIsa", &r))
    RssMulU64(isa, r.x0.data, r.x1.data, r.y0.data, r.y1.data, r.hasMask ? r.mask.data : nullptr, r.out.data, r.x0.len);
  return info.Env().Undefined();
}

}  // namespace mpc
