// Task statuses, result codes and drop reasons shared by the core and the binding.
// Every numeric value here is stored in shared memory or crosses into TypeScript
// (lib/internal/native.ts mirrors them): never renumber or reuse a value.
#pragma once

#include <cstdint>

namespace ott {

// Stored in RowBody::status. 0 means "no task has ever used this row".
enum class TaskStatus : uint8_t {
  kNone = 0,
  kPending = 1,
  kRunning = 2,
  kFinished = 3,
  kFailed = 4,
  kCancelled = 5,
  kTimedOut = 6,
};
constexpr uint8_t kStatusCount = 7;
constexpr uint8_t kFinalStatusCount = 4;  // finished, failed, cancelled, timed_out

inline bool IsFinalStatus(uint8_t status) {
  return status >= static_cast<uint8_t>(TaskStatus::kFinished) &&
         status <= static_cast<uint8_t>(TaskStatus::kTimedOut);
}
// Index of a final status in the per-category completion arrays (0..3).
inline uint32_t FinalStatusIndex(uint8_t status) {
  return static_cast<uint32_t>(status) - static_cast<uint32_t>(TaskStatus::kFinished);
}

// Outcome of a core call. Named for the condition, not the reaction.
enum class Result : int32_t {
  kOk = 0,
  kTableFull = 1,
  kNotOwner = 2,         // the slot no longer holds this task (stale id or reclaimed)
  kDataTooLarge = 3,     // data did not fit dataSize; the row got no data
  kNotReady = 4,         // the creator has not published the header yet
  kBadMagic = 5,
  kVersionMismatch = 6,
  kCorruptHeader = 7,
  kFileTooSmall = 8,     // the object is shorter than its header says
  kNoSpace = 9,          // posix_fallocate could not reserve the segment
  kSystemError = 10,     // see errno
  kExists = 11,          // internal: O_EXCL create lost the race
  kNotFound = 12,        // attach-only open of a missing table
  kInvalidSlot = 13,
  kReadOnly = 14,
};

// Indices into TableHeader::dropped. Each is a reason in
// observable_task_table_dropped_total{reason}; names live in lib/internal/native.ts.
enum class DropReason : uint32_t {
  kDataTooLarge = 0,
  kDataNotSerializable = 1,
  kProgressInvalid = 2,
  kNameTruncated = 3,
  kCategoryTruncated = 4,
  kTableFull = 5,          // a task ran untracked because every slot was taken
  kCategories = 6,         // a category beyond maxCategories, counted under "other"
  kOwnerDied = 7,          // a row reclaimed from a dead owner
  kStatusInvalid = 8,      // an update with a status the table does not know
};
constexpr uint32_t kDropReasonSlots = 16;  // room reserved in the header

}  // namespace ott
