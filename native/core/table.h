// A mapped task table: create/attach with header validation, slot claim and release by
// CAS, row writes under the sequence lock, consistent reads, per-category counters and
// reclaim of dead owners' rows. Plain C++ (no N-API) so that tools/table_stress.cc can
// drive it under sanitizers. Pairs with table.cc, layout.h and seqlock.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "layout.h"
#include "shm_mapping.h"
#include "status.h"

namespace ott {

struct OpenOptions {
  std::string path;
  bool read_only = false;  // attach only, map read-only, never write
  bool create = true;      // create when missing (ignored when read_only)
  uint32_t mode = 0600;
  LayoutParams params{};   // used when creating; already validated by lib/options.ts
  double bucket_bounds[kMaxBuckets] = {};
};

// Details of a failed open, for the TypeScript error classes.
struct OpenFailure : SysFailure {
  const char* field = "";    // header field that failed validation
  double existing = 0;       // its value in the table
  double expected = 0;       // what a valid table would hold there
};

// One row copied out of shared memory (SnapshotRecord + strings). 8-byte aligned;
// decoded by lib/internal/row-decoder.ts, which mirrors this struct.
struct SnapshotRecord {
  double generation;
  double started_at_ms;
  double modified_at_ms;
  double running_at_ms;
  double progress;             // NaN when the task never reported progress
  double inactivity_timeout_ms;
  double lease_ms;
  uint32_t slot;
  uint32_t pid;
  uint32_t category_index;
  uint32_t data_len;
  uint8_t status;
  uint8_t name_len;
  uint8_t category_len;
  uint8_t flags;
  uint32_t claim_pid;          // 0 once the slot was released (the task has ended)
  // followed by name_len + category_len + data_len bytes, padded to 8
};
static_assert(sizeof(SnapshotRecord) == 80, "lib/internal/row-decoder.ts assumes 80 bytes");

// Per-category aggregates filled by ScanStats. Index with StatsIndex().
constexpr uint32_t kStatsPerCategory = 10;
constexpr uint32_t kStatsOldestModified = 7;  // min modifiedAt of non-final rows (+inf if none)
constexpr uint32_t kStatsOverdue = 8;         // non-final rows older than their timeout
constexpr uint32_t kStatsTrailer = 4;         // slots_used, unreadable rows, corrupt rows, rows
inline uint32_t StatsIndex(uint32_t category, uint32_t column) {
  return category * kStatsPerCategory + column;
}

struct UpdateArgs {
  uint32_t slot = 0;
  uint64_t generation = 0;
  uint8_t status = 0;          // TaskStatus; 0 keeps the current one
  const uint8_t* data = nullptr;
  size_t data_len = 0;
  bool set_data = false;       // false keeps the current data
  double progress = 0;
  bool set_progress = false;
};

class Table {
 public:
  Table() = default;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Creates or attaches. `created` tells which happened. The caller compares the
  // resulting params() with what it asked for.
  Result Open(const OpenOptions& options, bool* created, OpenFailure* failure);
  void Close();
  bool is_open() const { return mapping_.base() != nullptr; }
  bool read_only() const { return mapping_.read_only(); }

  const LayoutParams& params() const { return params_; }
  const double* bucket_bounds() const { return bucket_bounds_; }
  const TableHeader& header() const { return *header_; }
  uint64_t mapped_bytes() const { return mapping_.size(); }

  // ---- writer side: call only from the process that will own the row ----

  // Registry index for a category name (bytes already cut to kMaxNameBytes). Returns
  // max_categories ("other") when the registry is full and counts the drop.
  uint32_t CategoryIndex(const uint8_t* name, size_t len);

  // Claims a free slot for a new pending task and counts it as started.
  // kTableFull when every slot is taken.
  Result Claim(const uint8_t* name, size_t name_len, const uint8_t* category, size_t category_len,
               uint32_t category_index, double inactivity_timeout_ms, uint32_t* slot,
               uint64_t* generation);

  // Writes an update. A final status also counts the completion and releases the slot;
  // the row stays readable until the slot is claimed again. kNotOwner when this process
  // no longer owns (slot, generation); kDataTooLarge writes nothing.
  Result Update(const UpdateArgs& args);

  // Progress-only update: no data, no status change.
  Result Progress(uint32_t slot, uint64_t generation, double progress);

  // Refreshes the owner's lease on a row it owns (liveness across pid namespaces).
  void Heartbeat(uint32_t slot, uint64_t generation, double now_ms);

  // True when some process asked to cancel (slot, generation).
  bool CancelRequested(uint32_t slot, uint64_t generation) const;

  // Number of cancel requests ever made on the table: owners poll this one word and look
  // at their rows' cancel flags only when it changed.
  uint64_t CancelRequestCount() const;

  void AddDropped(DropReason reason, uint64_t count);

  // ---- any process ----

  // Records a cancel request. kNotOwner when (slot, generation) is not a live task.
  Result RequestCancel(uint32_t slot, uint64_t generation);

  // Copies one row when it holds a task. kOk and *written > 0 on success; *written == 0
  // when the slot holds no task; kNotOwner never. `out` is 8-byte aligned with at least
  // RecordCapacity() bytes.
  Result ReadRow(uint32_t slot, uint8_t* out, size_t capacity, size_t* written,
                 bool* unreadable);

  // Copies every row holding a task into `out`. Returns the bytes written, or the bytes
  // needed (with *complete = false) when `capacity` is too small.
  size_t Snapshot(uint8_t* out, size_t capacity, bool* complete, uint32_t* unreadable,
                  uint32_t* corrupt);

  // Aggregates rows per category without copying strings (the collector's hot path).
  // `out` holds (max_categories + 1) * kStatsPerCategory + kStatsTrailer doubles.
  void ScanStats(double now_ms, double* out);

  // Largest possible single record (header + strings + data).
  size_t RecordCapacity() const;

  // Copies the counters of category entry `index`: started, completed[4],
  // duration_sum_us[4], wait_sum_us, wait_count, then duration buckets [4][B+1] and wait
  // buckets [B+1]. Returns false when the entry is not (validly) registered.
  bool ReadCategory(uint32_t index, char* name_out, uint32_t* name_len, double* counters_out);
  static uint32_t CategoryCounterCount(uint32_t bucket_count);

  uint64_t Dropped(DropReason reason) const;

  // Benchmark floor: one sequence-locked copy of `len` bytes into the data field of
  // `slot`, with nothing else (no ownership check, no status). Call only on a slot this
  // process claimed. Used by bench/ to measure the cost of the bare mechanism.
  void FloorWrite(uint32_t slot, const uint8_t* bytes, size_t len);

  // Benchmark helper: exactly the counter and histogram updates of one completion and
  // one first-running transition, without touching a row.
  void CountForBenchmark(uint32_t category_index, double duration_seconds);

  // Marks rows whose owner has died as failed (counted), and releases them. Returns how
  // many rows were reclaimed. Never touches a row whose owner is alive.
  uint32_t ReclaimDead(double now_ms, double lease_timeout_ms);

 private:
  RowHead* RowAt(uint32_t slot) const;
  uint8_t* NameField(RowHead* row) const { return reinterpret_cast<uint8_t*>(row) + kRowHeadBytes; }
  uint8_t* CategoryField(RowHead* row) const { return NameField(row) + kStringFieldBytes; }
  uint8_t* DataField(RowHead* row) const { return CategoryField(row) + kStringFieldBytes; }
  CategoryEntry* CategoryAt(uint32_t index) const;
  std::atomic<uint64_t>* Bitmap() const;
  std::atomic<uint64_t>* DurationBuckets(CategoryEntry* entry, uint32_t final_index) const;
  std::atomic<uint64_t>* WaitBuckets(CategoryEntry* entry) const;
  uint32_t BucketFor(double seconds) const;

  // Builds a new table for options.path and publishes it (see ShmMapping).
  Result Create(const OpenOptions& options, OpenFailure* failure);
  Result InitializeHeader(const OpenOptions& options);
  Result ValidateHeader(OpenFailure* failure);
  bool TryClaimSlot(uint32_t slot, uint32_t pid, uint64_t lease_ms, uint64_t* generation);
  void ReleaseSlot(uint32_t slot, uint64_t generation, uint32_t pid);
  void CountCompletion(const RowBody& body, uint8_t status, double now_ms);
  // Reads the row body consistently into `body`; false after bounded retries.
  bool ReadBody(RowHead* row, RowBody* body) const;
  size_t CopyRecord(uint32_t slot, uint8_t* out, size_t capacity, bool* unreadable,
                    bool* corrupt);
  // CopyRecord that waits out a live writer descheduled mid-write (see AwaitWriter).
  size_t CopyRecordPatiently(uint32_t slot, uint8_t* out, size_t capacity, bool* unreadable,
                             bool* corrupt, double* deadline_ms);

  ShmMapping mapping_;
  TableHeader* header_ = nullptr;
  LayoutParams params_{};
  LayoutSizes sizes_{};
  double bucket_bounds_[kMaxBuckets] = {};
  // Registry entries this process found stuck mid-claim (their claimer died before it
  // published a name): waited for once, then skipped while they stay so. Process-local.
  std::vector<bool> stuck_categories_;
};

}  // namespace ott
