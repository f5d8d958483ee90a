// THE shared-memory layout of a task table: header, category registry, slot bitmap, rows.
// Every process that maps a table reads it through these structs; table.cc computes the
// offsets and validates them on attach. Pairs with docs/architecture.md ("Layout").
//
//   offset 0                     TableHeader (4096 bytes, one page)
//     | immutable after creation: magic, version, layout parameters, bucket bounds
//     | mutated at run time:      drop counters, claim hint
//   categories_offset            CategoryEntry[max_categories + 1]   (stride category_bytes)
//     | entry max_categories is the built-in "other" entry
//     | each entry: name, started, completed[4], sums, then buckets (see CategoryBuckets)
//   bitmap_offset                uint64_t[ceil(max_tasks / 64)]  1 = slot probably claimed
//   rows_offset                  Row[max_tasks]                      (stride row_bytes)
//     | RowHead (128 bytes): claim word, sequence, cancel, lease, then the seqlocked body
//     | name[256] | category[256] | data[round_up(data_size, 64)]
//   total_bytes
//
// All sections start on a 64-byte boundary so that no two rows share a cache line.
// Integers are stored in the host's byte order: a table is shared between processes on
// one host, never across hosts, so no conversion is done (little-endian on every
// supported target).
//
// Rule: ANY change to a struct or constant in this file bumps kLayoutVersion. Status and
// drop-reason numbers (status.h) are never renumbered or reused. Zero means free or
// uninitialized everywhere, so a freshly reserved (zero-filled) segment is valid.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "status.h"

namespace ott {

constexpr uint64_t kMagic = 0x31425454534B5354ull;  // "TSKSTTB1" read as little-endian bytes
constexpr uint32_t kLayoutVersion = 1;              // bump on any change to this file

constexpr uint32_t kHeaderBytes = 4096;
constexpr uint32_t kMaxNameBytes = 255;  // name and category, UTF-8, cut on a boundary
constexpr uint32_t kStringFieldBytes = 256;
constexpr uint32_t kMaxBuckets = 32;     // finite histogram bounds; +Inf is implicit
constexpr uint32_t kCacheLine = 64;

// Limits shared with lib/options.ts; attach treats a header outside them as corrupt.
constexpr uint32_t kMaxTasksLimit = 1000000;
constexpr uint32_t kMaxDataSize = 1024 * 1024;
constexpr uint32_t kMinDataSize = 64;  // room for the short markers lib/serialization.ts stores
constexpr uint32_t kMaxCategoriesLimit = 65535;

// The claim word packs the owner pid and the slot generation so that one CAS both
// takes the slot and makes the new task's id unique.
constexpr uint32_t kClaimPidBits = 24;  // Linux PID_MAX_LIMIT is 2^22; macOS pids < 100000
constexpr uint64_t kClaimPidMask = (1ull << kClaimPidBits) - 1;
constexpr uint64_t kMaxGeneration = (1ull << (64 - kClaimPidBits)) - 1;  // 2^40 - 1
inline uint64_t ClaimGeneration(uint64_t claim) { return claim >> kClaimPidBits; }
inline uint32_t ClaimPid(uint64_t claim) { return static_cast<uint32_t>(claim & kClaimPidMask); }
inline uint64_t MakeClaim(uint64_t generation, uint32_t pid) {
  return (generation << kClaimPidBits) | (pid & kClaimPidMask);
}

struct TableHeader {
  // ---- immutable after creation (published by the release store of `magic`) ----
  std::atomic<uint64_t> magic;  // kMagic once the creator has finished; 0 while building
  uint32_t layout_version;      // kLayoutVersion of the creator
  uint32_t header_bytes;        // kHeaderBytes
  uint64_t total_bytes;         // size of the whole segment
  uint32_t max_tasks;           // number of rows
  uint32_t data_size;           // bytes of serialized JSON per row
  uint32_t row_bytes;           // stride between rows
  uint32_t max_categories;      // registry entries, not counting "other"
  uint32_t category_bytes;      // stride between category entries
  uint32_t bucket_count;        // finite bounds in bucket_bounds
  uint64_t categories_offset;   // byte offset of the category registry
  uint64_t bitmap_offset;       // byte offset of the claim bitmap
  uint64_t rows_offset;         // byte offset of row 0
  double created_at_ms;         // epoch milliseconds, written by the creator
  uint32_t creator_pid;         // informational
  uint32_t reserved0;
  uint64_t reserved1;
  double bucket_bounds[kMaxBuckets];  // seconds, strictly ascending; unused tail is 0
  uint8_t reserved_immutable[1024 - 96 - 8 * kMaxBuckets];

  // ---- mutated at run time ----
  alignas(kCacheLine) std::atomic<uint64_t> dropped[kDropReasonSlots];  // per DropReason
  alignas(kCacheLine) std::atomic<uint32_t> claim_hint;  // slot after the last claim: where scans start
  // Incremented by every cancel request, so owners scan their rows only when it moved.
  alignas(kCacheLine) std::atomic<uint64_t> cancel_requests;
  uint8_t reserved_mutable[kHeaderBytes - 1024 - 8 * kDropReasonSlots - kCacheLine - 8];
};

static_assert(sizeof(TableHeader) == kHeaderBytes, "TableHeader must fill exactly one page");
static_assert(offsetof(TableHeader, magic) == 0, "attachers read the magic at offset 0");
static_assert(offsetof(TableHeader, bucket_bounds) == 96, "immutable header moved");
static_assert(offsetof(TableHeader, dropped) == 1024, "mutable header must start at 1024");
static_assert(offsetof(TableHeader, cancel_requests) == 1216, "cancel counter moved");
static_assert(std::is_standard_layout_v<TableHeader>, "header must be standard layout");

// The seqlocked part of a row head: written only between SeqWriteBegin/End by the row's
// single writer, read by copying its words and validating the sequence (seqlock.h).
struct RowBody {
  uint64_t generation;          // task generation this body describes (matches the claim)
  uint8_t status;               // TaskStatus
  uint8_t name_len;             // bytes used in name[] (<= kMaxNameBytes)
  uint8_t category_len;         // bytes used in category[] (<= kMaxNameBytes)
  uint8_t flags;                // kRowFlag*
  uint32_t category_index;      // registry entry counted for this task
  uint32_t data_len;            // bytes used in data[] (<= data_size); untrusted on read
  uint32_t pid;                 // owner pid in its own pid namespace
  uint64_t start_time;          // owner's process start time (Linux clock ticks since boot)
  uint64_t pid_namespace;       // inode of the owner's /proc/self/ns/pid (0 if unknown)
  double started_at_ms;         // epoch ms when the task was claimed (pending)
  double modified_at_ms;        // epoch ms of the last update
  double running_at_ms;         // epoch ms of the first `running` update; 0 before
  double progress;              // 0..1; meaningful only with kRowFlagHasProgress
  double inactivity_timeout_ms; // 0 = none; lets a collector flag overdue tasks
  uint8_t reserved[16];
};
constexpr uint32_t kRowBodyWords = 12;
static_assert(sizeof(RowBody) == 8 * kRowBodyWords, "RowBody is copied as 12 words");
static_assert(std::is_trivially_copyable_v<RowBody>, "RowBody is copied word by word");

// The first two cache lines of every row: the atomics any process may touch, then the
// seqlocked body. The name, category and data fields follow (also seqlocked).
struct RowHead {
  std::atomic<uint64_t> claim;              // MakeClaim(generation, owner pid); pid 0 = free
  std::atomic<uint32_t> seq;                // sequence lock: odd while the owner writes
  std::atomic<uint32_t> reserved_atomic;
  std::atomic<uint64_t> cancel_generation;  // generation whose cancellation was requested
  std::atomic<uint64_t> lease_ms;           // owner's heartbeat, epoch ms (liveness lease)
  RowBody body;                             // protected by `seq`
};

constexpr uint8_t kRowFlagHasProgress = 1;
constexpr uint8_t kRowFlagReclaimed = 2;  // ended by another process after the owner died

constexpr uint32_t kRowHeadBytes = 128;
constexpr uint32_t kRowBodyOffset = 32;
static_assert(sizeof(RowHead) == kRowHeadBytes, "RowHead must be exactly two cache lines");
static_assert(offsetof(RowHead, body) == kRowBodyOffset, "body offset moved");
static_assert(kRowBodyOffset % 8 == 0 && kRowHeadBytes % 8 == 0,
              "the body is copied in 8-byte words; it must be word aligned");
static_assert(std::is_standard_layout_v<RowHead>, "row head must be standard layout");
static_assert(std::is_trivially_copyable_v<uint64_t>, "body words are copied as uint64_t");

// Category registry entry. The fixed part is followed by histogram buckets:
//   uint64_t duration[kFinalStatusCount][bucket_count + 1]; uint64_t wait[bucket_count + 1]
// (non-cumulative counts; the last of each is the +Inf overflow bucket).
struct CategoryEntry {
  std::atomic<uint32_t> state;  // kCategory*: claimed by CAS, published by release store
  uint32_t name_len;            // immutable once state == kCategoryReady
  uint64_t name_hash;           // FNV-1a of the name; immutable once ready
  char name[kStringFieldBytes];
  std::atomic<uint64_t> started;                             // tasks claimed
  std::atomic<uint64_t> completed[kFinalStatusCount];        // tasks ended, per final status
  std::atomic<uint64_t> duration_sum_us[kFinalStatusCount];  // start to end, microseconds
  std::atomic<uint64_t> wait_sum_us;                         // pending to first running
  std::atomic<uint64_t> wait_count;
  uint8_t reserved[24];
};
constexpr uint32_t kCategoryFree = 0;
constexpr uint32_t kCategoryClaiming = 1;
constexpr uint32_t kCategoryReady = 2;
constexpr uint32_t kCategoryFixedBytes = 384;
static_assert(sizeof(CategoryEntry) == kCategoryFixedBytes, "CategoryEntry size moved");

// Every atomic kept in shared memory must be lock-free: a non-lock-free atomic falls back
// to a process-local lock and silently stops synchronizing across processes.
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "64-bit atomics must be lock-free to work across processes");
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "32-bit atomics must be lock-free to work across processes");
static_assert(sizeof(std::atomic<uint64_t>) == 8 && sizeof(std::atomic<uint32_t>) == 4,
              "atomics must have the size of their value for a fixed layout");

constexpr uint64_t RoundUp(uint64_t value, uint64_t to) { return (value + to - 1) / to * to; }

// Offsets and sizes derived from the layout parameters. Computed in 64-bit arithmetic;
// with the limits above nothing can overflow (max total is about 1.1 TB).
struct LayoutParams {
  uint32_t max_tasks;
  uint32_t data_size;
  uint32_t max_categories;
  uint32_t bucket_count;
};

struct LayoutSizes {
  uint32_t row_bytes;
  uint32_t category_bytes;
  uint64_t categories_offset;
  uint64_t bitmap_offset;
  uint64_t rows_offset;
  uint64_t total_bytes;
};

inline uint32_t CategoryBucketsPerHistogram(uint32_t bucket_count) { return bucket_count + 1; }

inline LayoutSizes ComputeLayout(const LayoutParams& p) {
  LayoutSizes s{};
  s.row_bytes = static_cast<uint32_t>(
      kRowHeadBytes + 2 * kStringFieldBytes + RoundUp(p.data_size, kCacheLine));
  const uint64_t bucket_words =
      static_cast<uint64_t>(kFinalStatusCount + 1) * CategoryBucketsPerHistogram(p.bucket_count);
  s.category_bytes = static_cast<uint32_t>(RoundUp(kCategoryFixedBytes + 8 * bucket_words, kCacheLine));
  s.categories_offset = kHeaderBytes;
  s.bitmap_offset =
      s.categories_offset + static_cast<uint64_t>(s.category_bytes) * (p.max_categories + 1ull);
  const uint64_t bitmap_words = (p.max_tasks + 63ull) / 64;
  s.rows_offset = RoundUp(s.bitmap_offset + 8 * bitmap_words, kCacheLine);
  s.total_bytes = s.rows_offset + static_cast<uint64_t>(s.row_bytes) * p.max_tasks;
  return s;
}

}  // namespace ott
