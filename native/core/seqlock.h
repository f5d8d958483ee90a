// Single-writer sequence lock over a row body, and the word copies used inside it.
// Pairs with table.cc (every row write and read goes through these functions) and with
// docs/architecture.md ("Sequence lock").
//
// Protocol (Boehm, "Can Seqlocks Get Along with Programming Language Memory Models?"):
// - Exactly one process writes a row: the one whose pid is in the row's claim word. It
//   makes `seq` odd, stores the body with relaxed atomic stores, then makes `seq` even
//   with a release store. Writers never wait for readers.
// - A reader loads `seq` with acquire; if it is odd a write is in progress and it retries.
//   Otherwise it copies the body with relaxed atomic loads, issues an acquire fence and
//   reloads `seq`: if it changed, the copy may be torn and is discarded.
// - A writer that dies mid-write leaves `seq` odd forever. Readers give up after a
//   bounded number of retries and report the row as unreadable; whoever reclaims the row
//   (the dead owner's successor) starts from the odd value, so the next even value
//   publishes a complete body again.
// - The lock protects plain values only: the body holds lengths and indices, never
//   pointers, and every length is bounds-checked after a successful read.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ott {

// Starts a write. Call only from the row's single writer.
inline uint32_t SeqWriteBegin(std::atomic<uint32_t>& seq) {
  // relaxed: only the single writer stores `seq`, and its own last store is visible to it.
  const uint32_t current = seq.load(std::memory_order_relaxed);
  const uint32_t odd = current | 1u;  // already odd if a dead writer was interrupted
  // relaxed: the release fence below orders this store before every body store.
  seq.store(odd, std::memory_order_relaxed);
  // Release fence: a reader whose relaxed body loads see any store made after this fence
  // also sees the odd `seq` at its second load (pairs with the acquire fence in
  // SeqReadValidate), so it cannot accept a half-written body.
  std::atomic_thread_fence(std::memory_order_release);
  return odd;
}

// Ends a write started by SeqWriteBegin, publishing the body.
inline void SeqWriteEnd(std::atomic<uint32_t>& seq, uint32_t odd) {
  // Release: pairs with the acquire load in SeqReadBegin; a reader that sees this even
  // value also sees every body store made before it.
  seq.store(odd + 1, std::memory_order_release);
}

// Starts a read. Returns false while a write is in progress (odd sequence).
inline bool SeqReadBegin(const std::atomic<uint32_t>& seq, uint32_t* out) {
  // Acquire: pairs with the release store in SeqWriteEnd, so the body copied after this
  // load is at least as new as the write that produced this sequence value.
  *out = seq.load(std::memory_order_acquire);
  return (*out & 1u) == 0;
}

// Ends a read. True when nothing was written since SeqReadBegin returned `begin`.
inline bool SeqReadValidate(const std::atomic<uint32_t>& seq, uint32_t begin) {
  // Acquire fence: keeps the relaxed body loads above from moving below the second load
  // of `seq`; without it a torn copy could pass the check. Pairs with the release fence
  // in SeqWriteBegin.
  std::atomic_thread_fence(std::memory_order_acquire);
  // relaxed: ordered after the body loads by the fence above.
  return seq.load(std::memory_order_relaxed) == begin;
}

// Copies `words` 8-byte words out of shared memory. Each load is a relaxed atomic
// (std::atomic_ref) because a writer may be storing concurrently: a plain memcpy racing
// a store is a data race; the seqlock validation discards what a racing copy saw.
inline void LoadWords(uint64_t* dst, const uint64_t* src, size_t words) {
  for (size_t i = 0; i < words; ++i) {
    // relaxed: ordering comes from SeqReadBegin/SeqReadValidate around the whole copy.
    dst[i] = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(src[i])).load(std::memory_order_relaxed);
  }
}

// Copies `bytes` bytes from an arbitrary (possibly unaligned) source into word-aligned
// shared memory. The tail word is zero-padded. Call only inside SeqWriteBegin/End.
inline void StoreBytesAsWords(uint64_t* dst, const uint8_t* src, size_t bytes) {
  const size_t full = bytes / 8;
  for (size_t i = 0; i < full; ++i) {
    uint64_t word;
    std::memcpy(&word, src + 8 * i, 8);
    // relaxed: published by the release store in SeqWriteEnd.
    std::atomic_ref<uint64_t>(dst[i]).store(word, std::memory_order_relaxed);
  }
  const size_t rest = bytes % 8;
  if (rest != 0) {
    uint64_t word = 0;
    std::memcpy(&word, src + 8 * full, rest);
    // relaxed: published by the release store in SeqWriteEnd.
    std::atomic_ref<uint64_t>(dst[full]).store(word, std::memory_order_relaxed);
  }
}

// Stores one body field of the single writer. T is an 8-, 4- or 1-byte plain value.
template <typename T>
inline void StoreField(T& field, T value) {
  // relaxed: published by the release store in SeqWriteEnd.
  std::atomic_ref<T>(field).store(value, std::memory_order_relaxed);
}

// Loads one body field. Inside a read section the seqlock validates it; the owner may
// also read its own row outside a read section, since nobody else writes it.
template <typename T>
inline T LoadField(const T& field) {
  // relaxed: ordering comes from the enclosing seqlock section or from single ownership.
  return std::atomic_ref<T>(const_cast<T&>(field)).load(std::memory_order_relaxed);
}

}  // namespace ott
