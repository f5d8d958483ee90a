// RAII ownership of one mapped shared-memory object: create (exclusive, reserved with
// posix_fallocate), open existing, unmap, unlink. Pairs with shm_mapping.cc; table.cc
// decides what the bytes mean.
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

  // Creates `path` exclusively with exactly `mode` permission bits (umask ignored),
  // reserves `size` bytes so that a full tmpfs fails here and not with SIGBUS later, and
  // maps it read-write. kExists when the object already exists. On failure nothing is
  // left behind.
  Result CreateExclusive(const std::string& path, uint32_t mode, uint64_t size,
                         SysFailure* failure);

  // Maps an existing object whole. kNotFound when it does not exist; kNotReady when its
  // size is still 0 (a creator is between open and posix_fallocate).
  Result OpenExisting(const std::string& path, bool read_only, SysFailure* failure);

  void Unmap();

  uint8_t* base() const { return base_; }
  uint64_t size() const { return size_; }
  bool read_only() const { return read_only_; }

  // Removes the object name; existing mappings stay valid until unmapped.
  static Result Unlink(const std::string& path, SysFailure* failure);

  // Maps a table name to the object path: "<directory>/<name>" on Linux, "/<name>" for
  // shm_open elsewhere.
  static std::string PathFor(const std::string& directory, const std::string& name);

 private:
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  bool read_only_ = false;
};

}  // namespace ott
