// Portable software AES-128 (encryption only), table-based, for machines without AES-NI.
// Not constant-time with respect to cache timing; the AES-NI path is used whenever present.
#pragma once

#include <cstdint>

namespace mpc {

struct AesSoftKey {
  uint32_t rk[44];  // round keys as big-endian words (FIPS-197 key expansion)
};

void AesSoftExpand(const uint8_t key[16], AesSoftKey* k);
void AesSoftEncrypt(const AesSoftKey& k, const uint8_t in[16], uint8_t out[16]);

}  // namespace mpc
