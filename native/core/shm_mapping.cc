// POSIX shared-memory objects (see shm_mapping.h). On Linux a table is a file in a tmpfs
// directory (/dev/shm by default, which is where shm_open puts it too), so a test or an
// operator can point a table at another tmpfs. macOS uses shm_open and has no
// posix_fallocate: there the size is set with ftruncate and is not reserved up front.
#include "shm_mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace ott {
namespace {

int OpenObject(const std::string& path, int flags, mode_t mode) {
#if defined(__linux__)
  return open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
#else
  return shm_open(path.c_str(), flags, mode);
#endif
}

int UnlinkObject(const std::string& path) {
#if defined(__linux__)
  return unlink(path.c_str());
#else
  return shm_unlink(path.c_str());
#endif
}

// Reserves the whole object. Returns 0 or an errno value.
int Reserve(int fd, uint64_t size) {
#if defined(__linux__)
  return posix_fallocate(fd, 0, static_cast<off_t>(size));
#else
  return ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
#endif
}

Result Fail(SysFailure* failure, const char* syscall, int error_number) {
  failure->syscall = syscall;
  failure->error_number = error_number;
  return Result::kSystemError;
}

}  // namespace

ShmMapping::~ShmMapping() { Unmap(); }

void ShmMapping::Unmap() {
  if (base_ != nullptr) {
    munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
  }
}

std::string ShmMapping::PathFor(const std::string& directory, const std::string& name) {
#if defined(__linux__)
  return directory + "/" + name;
#else
  (void)directory;
  return "/" + name;
#endif
}

Result ShmMapping::CreateExclusive(const std::string& path, uint32_t mode, uint64_t size,
                                   SysFailure* failure) {
  const int fd = OpenObject(path, O_RDWR | O_CREAT | O_EXCL, static_cast<mode_t>(mode));
  if (fd < 0) {
    if (errno == EEXIST) return Result::kExists;
    return Fail(failure, "open", errno);
  }
  // open() applied the umask; the caller asked for exact bits.
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    const int err = errno;
    close(fd);
    UnlinkObject(path);
    return Fail(failure, "fchmod", err);
  }
  const int reserve_error = Reserve(fd, size);
  if (reserve_error != 0) {
    struct statvfs vfs;
    failure->bytes_needed = size;
    failure->bytes_available =
        fstatvfs(fd, &vfs) == 0 ? static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize : 0;
    close(fd);
    UnlinkObject(path);
    failure->syscall = "posix_fallocate";
    failure->error_number = reserve_error;
    return reserve_error == ENOSPC || reserve_error == EFBIG ? Result::kNoSpace
                                                             : Result::kSystemError;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int map_error = errno;
  close(fd);  // the mapping keeps the object alive; no descriptor is held per table
  if (base == MAP_FAILED) {
    UnlinkObject(path);
    return Fail(failure, "mmap", map_error);
  }
  base_ = static_cast<uint8_t*>(base);
  size_ = size;
  read_only_ = false;
  return Result::kOk;
}

Result ShmMapping::OpenExisting(const std::string& path, bool read_only, SysFailure* failure) {
  const int fd = OpenObject(path, read_only ? O_RDONLY : O_RDWR, 0);
  if (fd < 0) {
    if (errno == ENOENT) return Result::kNotFound;
    return Fail(failure, "open", errno);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return Fail(failure, "fstat", err);
  }
  if (st.st_size == 0) {
    close(fd);
    return Result::kNotReady;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  void* base = mmap(nullptr, size, read_only ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED,
                    fd, 0);
  const int map_error = errno;
  close(fd);
  if (base == MAP_FAILED) return Fail(failure, "mmap", map_error);
  base_ = static_cast<uint8_t*>(base);
  size_ = size;
  read_only_ = read_only;
  return Result::kOk;
}

Result ShmMapping::Unlink(const std::string& path, SysFailure* failure) {
  if (UnlinkObject(path) != 0) {
    if (errno == ENOENT) return Result::kNotFound;
    return Fail(failure, "unlink", errno);
  }
  return Result::kOk;
}

}  // namespace ott
