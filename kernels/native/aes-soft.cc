#include "aes-soft.h"

namespace mpc {

namespace {

struct Tables {
  uint8_t sbox[256];
  uint32_t te[4][256];  // te[0][x] = S[x]*{02,01,01,03} (big-endian), te[i] = te[0] rotated right by 8i
  Tables() {
    // S-box from the GF(2^8) inverse and the affine map (p runs over the powers of 3, q = p^-1)
    uint8_t p = 1, q = 1;
    do {
      p = static_cast<uint8_t>(p ^ (p << 1) ^ ((p & 0x80) ? 0x1b : 0));
      q = static_cast<uint8_t>(q ^ (q << 1));
      q = static_cast<uint8_t>(q ^ (q << 2));
      q = static_cast<uint8_t>(q ^ (q << 4));
      if (q & 0x80) q ^= 0x09;
      auto rotl = [](uint8_t v, int s) { return static_cast<uint8_t>((v << s) | (v >> (8 - s))); };
      sbox[p] = static_cast<uint8_t>(q ^ rotl(q, 1) ^ rotl(q, 2) ^ rotl(q, 3) ^ rotl(q, 4) ^ 0x63);
    } while (p != 1);
    sbox[0] = 0x63;
    for (int x = 0; x < 256; ++x) {
      const uint32_t s = sbox[x];
      const uint32_t s2 = ((s << 1) ^ ((s & 0x80) ? 0x1b : 0)) & 0xff;
      const uint32_t s3 = s2 ^ s;
      const uint32_t t = (s2 << 24) | (s << 16) | (s << 8) | s3;
      te[0][x] = t;
      te[1][x] = (t >> 8) | (t << 24);
      te[2][x] = (t >> 16) | (t << 16);
      te[3][x] = (t >> 24) | (t << 8);
    }
  }
};

const Tables& T() {
  static const Tables tables;  // thread-safe one-time initialisation
  return tables;
}

inline uint32_t LoadBe(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

inline void StoreBe(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

}  // namespace

void AesSoftExpand(const uint8_t key[16], AesSoftKey* k) {
  const uint8_t* S = T().sbox;
  uint32_t* w = k->rk;
  for (int i = 0; i < 4; ++i) w[i] = LoadBe(key + 4 * i);
  uint32_t rcon = 0x01;
  for (int i = 4; i < 44; ++i) {
    uint32_t t = w[i - 1];
    if (i % 4 == 0) {
      t = (t << 8) | (t >> 24);  // RotWord
      t = (uint32_t(S[t >> 24]) << 24) | (uint32_t(S[(t >> 16) & 0xff]) << 16) | (uint32_t(S[(t >> 8) & 0xff]) << 8) |
          uint32_t(S[t & 0xff]);  // SubWord
      t ^= rcon << 24;
      rcon = ((rcon << 1) ^ ((rcon & 0x80) ? 0x1b : 0)) & 0xff;
    }
    w[i] = w[i - 4] ^ t;
  }
}

void AesSoftEncrypt(const AesSoftKey& k, const uint8_t in[16], uint8_t out[16]) {
  const Tables& tb = T();
  const uint32_t* rk = k.rk;
  uint32_t s0 = LoadBe(in) ^ rk[0], s1 = LoadBe(in + 4) ^ rk[1], s2 = LoadBe(in + 8) ^ rk[2], s3 = LoadBe(in + 12) ^ rk[3];
  for (int r = 1; r < 10; ++r) {
    const uint32_t* q = rk + 4 * r;
    const uint32_t t0 = tb.te[0][s0 >> 24] ^ tb.te[1][(s1 >> 16) & 0xff] ^ tb.te[2][(s2 >> 8) & 0xff] ^ tb.te[3][s3 & 0xff] ^ q[0];
    const uint32_t t1 = tb.te[0][s1 >> 24] ^ tb.te[1][(s2 >> 16) & 0xff] ^ tb.te[2][(s3 >> 8) & 0xff] ^ tb.te[3][s0 & 0xff] ^ q[1];
    const uint32_t t2 = tb.te[0][s2 >> 24] ^ tb.te[1][(s3 >> 16) & 0xff] ^ tb.te[2][(s0 >> 8) & 0xff] ^ tb.te[3][s1 & 0xff] ^ q[2];
    const uint32_t t3 = tb.te[0][s3 >> 24] ^ tb.te[1][(s0 >> 16) & 0xff] ^ tb.te[2][(s1 >> 8) & 0xff] ^ tb.te[3][s2 & 0xff] ^ q[3];
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  const uint8_t* S = tb.sbox;
  const uint32_t* q = rk + 40;
  auto last = [&](uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t key) {
    return ((uint32_t(S[a >> 24]) << 24) | (uint32_t(S[(b >> 16) & 0xff]) << 16) | (uint32_t(S[(c >> 8) & 0xff]) << 8) |
            uint32_t(S[d & 0xff])) ^ key;
  };
  StoreBe(out, last(s0, s1, s2, s3, q[0]));
  StoreBe(out + 4, last(s1, s2, s3, s0, q[1]));
  StoreBe(out + 8, last(s2, s3, s0, s1, q[2]));
  StoreBe(out + 12, last(s3, s0, s1, s2, q[3]));
}

}  // namespace mpc
