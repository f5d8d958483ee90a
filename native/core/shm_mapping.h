// RAII ownership of one mapped shared-memory object: create (exclusive, reserved with
// posix_fallocate, published whole), open existing, unmap, unlink. Pairs with
// shm_mapping.cc; table.cc decides what the bytes mean.
//
// Creation on Linux: the object is built under a temporary name next to the table,
// "<directory>/.<name>.creating" (table names never start with '.'), created with O_EXCL
// and held under flock(LOCK_EX) while it is built. Once complete it is renamed to the
// table's name in one step that never replaces a name (renameat2 RENAME_NOREPLACE; link
// where the file system lacks it), so the table's name never names a half-made object.
// A creator killed at any point leaves at most an unlocked temporary (the kernel drops
// the lock with the process), which the next creator, or Unlink(), removes. The fixed
// name also makes concurrent creators take turns: only one reserves the size at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "status.h"

namespace ott {

// What went wrong in a system call, for the error message built in TypeScript.
struct SysFailure {
  int error_number = 0;        // errno
  const char* syscall = "";    // "open", "posix_fallocate", "mmap", ...
  uint64_t bytes_needed = 0;   // for kNoSpace
  uint64_t bytes_available = 0;
};

class ShmMapping {
 public:
  ShmMapping() = default;
  ~ShmMapping();
  ShmMapping(const ShmMapping&) = delete;
  ShmMapping& operator=(const ShmMapping&) = delete;

  // Creates a new object for `path` with exactly `mode` permission bits (umask ignored),
  // reserves `size` bytes so that a full tmpfs fails here and not with SIGBUS later, and
  // maps it read-write, not yet visible under `path` (see the top of this file). kExists
  // when `path` exists; kNotReady while another live creator is building it. On failure
  // nothing is left behind.
  Result CreateExclusive(const std::string& path, uint32_t mode, uint64_t size,
                         SysFailure* failure);

  // Makes the object mapped by CreateExclusive appear under `path`, whole. kExists when
  // another object got there first: this one is then unmapped and removed.
  Result Publish(const std::string& path, SysFailure* failure);

  // True while a live creator is building `path` (Linux; elsewhere always false).
  static bool CreationInProgress(const std::string& path);

  // Maps an existing object whole. kNotFound when it does not exist; kNotReady when its
  // size is still 0 (a creator is between open and posix_fallocate).
  Result OpenExisting(const std::string& path, bool read_only, SysFailure* failure);

  void Unmap();

  uint8_t* base() const { return base_; }
  uint64_t size() const { return size_; }
  bool read_only() const { return read_only_; }

  // Removes the object name; existing mappings stay valid until unmapped. Also removes
  // what a creator of `path` killed mid-creation left behind. kNotFound when `path` did
  // not exist.
  static Result Unlink(const std::string& path, SysFailure* failure);

  // The temporary name a table is built under: "<directory>/.<name>.creating".
  static std::string CreatingPathFor(const std::string& path);

  // Test hook for test/native/create-crash.test.ts: with the environment variable
  // OBSERVABLE_TASK_TABLE_TEST_CREATE_PAUSE=<stage>:<ms>, a creator reaching `stage`
  // ("reserved", "initialized" or "published") says so on stderr and sleeps <ms> ms, so a
  // test can kill it exactly there. Unset, it costs one getenv() per table created.
  static void PauseForTest(const char* stage);

  // Maps a table name to the object path: "<directory>/<name>" on Linux, "/<name>" for
  // shm_open elsewhere.
  static std::string PathFor(const std::string& directory, const std::string& name);

 private:
  // Removes the temporary of an unpublished object and closes its descriptor.
  void AbandonCreation();

  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  bool read_only_ = false;
  int creating_fd_ = -1;       // locked descriptor of the object being built (Linux)
  std::string creating_path_;  // its temporary name
};

}  // namespace ott
