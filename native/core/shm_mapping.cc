// POSIX shared-memory objects (see shm_mapping.h). On Linux a table is a file in a tmpfs
// directory (/dev/shm by default, which is where shm_open puts it too), so a test or an
// operator can point a table at another tmpfs, and a new table is built under a
// temporary name and then renamed. macOS uses shm_open, which has neither directories
// nor rename, nor posix_fallocate: there the object is created under its own
// name and its size is set with ftruncate, not reserved up front.
#include "shm_mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>

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

#if defined(__linux__)
// A creator retries this often when another process takes its fresh temporary for a dead
// creator's in the instant between its O_EXCL open and its flock (see CreateExclusive).
constexpr int kCreateAttempts = 16;

// rename(from, to) that fails with EEXIST rather than replace `to`. Called through
// syscall() so that it needs no particular C library; -1 with ENOSYS where unavailable.
int RenameNoReplace(const std::string& from, const std::string& to) {
#if defined(SYS_renameat2)
  constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE, <linux/fs.h>
  return static_cast<int>(
      syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), kRenameNoReplace));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// True when `path` names the file open as `fd`.
bool NamesFile(const std::string& path, int fd) {
  struct stat by_fd, by_name;
  return fstat(fd, &by_fd) == 0 && lstat(path.c_str(), &by_name) == 0 &&
         by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino;
}

// Removes the temporary `creating` when no live creator holds it. kOk: removed (or it
// vanished meanwhile); kNotReady: a live creator holds its lock. Only a holder of the
// lock removes the name, and only after checking that the name still is the locked
// file, so this never removes a temporary that a live creator is building.
Result RemoveIfAbandoned(const std::string& creating, SysFailure* failure) {
  const int fd = OpenObject(creating, O_RDONLY, 0);  // flock needs no write access
  if (fd < 0) {
    if (errno == ENOENT) return Result::kOk;
    return Fail(failure, "open", errno);
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) return Result::kNotReady;
    return Fail(failure, "flock", err);
  }
  // Ours now: its creator died (or has just published it and is removing the name).
  Result r = Result::kOk;
  if (NamesFile(creating, fd) && unlink(creating.c_str()) != 0 && errno != ENOENT)
    r = Fail(failure, "unlink", errno);
  close(fd);  // drops the lock
  return r;
}
#endif

}  // namespace

void ShmMapping::PauseForTest(const char* stage) {
  const char* spec = std::getenv("OBSERVABLE_TASK_TABLE_TEST_CREATE_PAUSE");
  if (spec == nullptr) return;
  const size_t n = std::strlen(stage);
  if (std::strncmp(spec, stage, n) != 0 || spec[n] != ':') return;
  const long ms = std::strtol(spec + n + 1, nullptr, 10);
  if (ms <= 0 || ms > 600000) return;
  std::fprintf(stderr, "observable-task-table: test pause at %s for %ld ms\n", stage, ms);
  std::fflush(stderr);
  timespec ts{static_cast<time_t>(ms / 1000), (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string ShmMapping::CreatingPathFor(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t base = slash == std::string::npos ? 0 : slash + 1;
  return path.substr(0, base) + "." + path.substr(base) + ".creating";
}

ShmMapping::~ShmMapping() { Unmap(); }

void ShmMapping::Unmap() {
  if (base_ != nullptr) {
    munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
  }
  AbandonCreation();  // an object never published is removed with its mapping
}

void ShmMapping::AbandonCreation() {
  if (creating_fd_ < 0) return;
  // We still hold the lock, and the name is still our file (nobody else removes a locked
  // temporary), so this removes exactly what we created.
  unlink(creating_path_.c_str());
  close(creating_fd_);
  creating_fd_ = -1;
  creating_path_.clear();
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
#if defined(__linux__)
  const std::string creating = CreatingPathFor(path);
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    if (attempt == kCreateAttempts) return Result::kNotReady;  // the caller waits and retries
    fd = OpenObject(creating, O_RDWR | O_CREAT | O_EXCL, static_cast<mode_t>(mode));
    if (fd < 0) {
      if (errno != EEXIST) return Fail(failure, "open", errno);
      // Another creator's temporary: wait for a live one, remove a dead one's.
      const Result r = RemoveIfAbandoned(creating, failure);
      if (r != Result::kOk) return r;
      continue;
    }
    // Between the open and this lock, another process may have taken our temporary for a
    // dead creator's and removed it: then the name is no longer our file. Start over.
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err != EWOULDBLOCK) {  // no flock on this file system: nobody could hold it
        unlink(creating.c_str());
        close(fd);
        return Fail(failure, "flock", err);
      }
      close(fd);
      fd = -1;
    } else if (!NamesFile(creating, fd)) {
      close(fd);
      fd = -1;
    }
  }
  // From here on the temporary is ours until we publish or remove it.
  creating_fd_ = fd;
  creating_path_ = creating;
  struct stat existing;
  if (lstat(path.c_str(), &existing) == 0) {  // published meanwhile: attach to that one
    AbandonCreation();
    return Result::kExists;
  }
  auto fail = [&](const char* syscall, int err) {
    AbandonCreation();
    return Fail(failure, syscall, err);
  };
#else
  const int fd = OpenObject(path, O_RDWR | O_CREAT | O_EXCL, static_cast<mode_t>(mode));
  if (fd < 0) {
    if (errno == EEXIST) return Result::kExists;
    return Fail(failure, "open", errno);
  }
  auto fail = [&](const char* syscall, int err) {
    close(fd);
    UnlinkObject(path);
    return Fail(failure, syscall, err);
  };
#endif
  // open() applied the umask; the caller asked for exact bits.
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("fchmod", errno);
  const int reserve_error = Reserve(fd, size);
  if (reserve_error != 0) {
    struct statvfs vfs;
    failure->bytes_needed = size;
    failure->bytes_available =
        fstatvfs(fd, &vfs) == 0 ? static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize : 0;
    fail("posix_fallocate", reserve_error);
    return reserve_error == ENOSPC || reserve_error == EFBIG ? Result::kNoSpace
                                                             : Result::kSystemError;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return fail("mmap", errno);
#if !defined(__linux__)
  close(fd);  // the mapping keeps the object alive; no descriptor is held per table
#endif
  base_ = static_cast<uint8_t*>(base);
  size_ = size;
  read_only_ = false;
  return Result::kOk;
}

Result ShmMapping::Publish(const std::string& path, SysFailure* failure) {
#if defined(__linux__)
  if (creating_fd_ < 0) return Result::kOk;
  // One step that never replaces an existing name, so exactly one creator's object
  // becomes the table, and it appears whole: its header was written before this call.
  // Renaming moves the temporary's name, so none is left behind and the creator's own
  // mapping is listed under the table's name (/proc/<pid>/maps, lsof). A file system
  // without RENAME_NOREPLACE gets link() then unlink() of the temporary instead.
  const char* syscall_name = "rename";
  bool renamed = RenameNoReplace(creating_path_, path) == 0;
  int err = renamed ? 0 : errno;
  // EINVAL: the file system lacks the flag; ENOSYS, EPERM: the kernel, or a seccomp
  // policy, refuses renameat2.
  if (!renamed && (err == EINVAL || err == ENOSYS || err == EPERM)) {
    syscall_name = "link";
    err = link(creating_path_.c_str(), path.c_str()) == 0 ? 0 : errno;
  }
  if (err != 0) {
    Unmap();  // and removes our temporary
    if (err == EEXIST) return Result::kExists;
    return Fail(failure, syscall_name, err);
  }
  if (!renamed) unlink(creating_path_.c_str());
  // The temporary's name is gone (another creator may already use it again): from here
  // on it must not be touched. Closing the descriptor drops the lock.
  creating_path_.clear();
  PauseForTest("published");
  close(creating_fd_);
  creating_fd_ = -1;
#else
  (void)path;
  (void)failure;
#endif
  return Result::kOk;
}

bool ShmMapping::CreationInProgress(const std::string& path) {
#if defined(__linux__)
  const int fd = OpenObject(CreatingPathFor(path), O_RDONLY, 0);
  if (fd < 0) return false;
  // A shared lock is refused exactly while a creator holds its exclusive one.
  const bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return held;
#else
  (void)path;
  return false;
#endif
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
  const int unlinked = UnlinkObject(path);
  const int err = errno;
#if defined(__linux__)
  // What a creator killed mid-creation left: a half-made object, or a second name of the
  // table. A live creator's temporary stays (its lock is held).
  SysFailure ignored;
  RemoveIfAbandoned(CreatingPathFor(path), &ignored);
#endif
  if (unlinked != 0) {
    if (err == ENOENT) return Result::kNotFound;
    return Fail(failure, "unlink", err);
  }
  return Result::kOk;
}

}  // namespace ott
