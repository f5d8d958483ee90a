// Bounded helpers for the strings kept in shared memory: UTF-8 boundary truncation and
// the category-name hash. Pairs with table.cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ott {

// Largest length <= max_bytes that does not split a UTF-8 character of `bytes`
// (`len` bytes long). A cut never lands on a continuation byte (10xxxxxx).
inline size_t Utf8PrefixLength(const uint8_t* bytes, size_t len, size_t max_bytes) {
  if (len <= max_bytes) return len;
  size_t cut = max_bytes;
  while (cut > 0 && (bytes[cut] & 0xC0) == 0x80) cut--;
  return cut;
}

// FNV-1a, 64-bit: a fast, stable hash for the category registry's open addressing.
inline uint64_t HashName(const uint8_t* bytes, size_t len) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace ott
