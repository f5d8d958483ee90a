// Owner identity and liveness (see owner_identity.h). Linux reads /proc; other
// platforms fall back on kill(pid, 0) and record no start time or namespace.
#include "owner_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ott {
namespace {

uint64_t ReadPidNamespace(const char* path) {
#if defined(__linux__)
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
#else
  (void)path;
  return 0;
#endif
}

thread_local OwnerIdentity cached_identity{};

// The process id, cached for the whole process: glibc no longer caches getpid(), and a
// system call on every row write was the largest part of its cost. A fork() child gets 0
// from the pthread_atfork handler and asks the kernel again on its first write.
std::atomic<uint32_t> cached_pid{0};

void ForgetPidInForkChild() {
  // relaxed: the child is single-threaded at this point; nothing else is published.
  cached_pid.store(0, std::memory_order_relaxed);
}

// Registers the handler once, when the addon is loaded (before any write can cache a pid).
[[maybe_unused]] const int fork_handler_registered =
    pthread_atfork(nullptr, nullptr, &ForgetPidInForkChild);

uint32_t CurrentPid() {
  // relaxed: the pid is a value of its own; every thread that reads 0 stores the same pid.
  uint32_t pid = cached_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = static_cast<uint32_t>(getpid());
    // relaxed: see the load above.
    cached_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

struct ProcessStat {
  char state;           // field 3: R, S, D, Z (zombie), X (dead), ...
  uint64_t threads;     // field 20
  uint64_t start_time;  // field 22
};

// Reads the fields we need from /proc/<pid>/stat; false when it cannot be read.
bool ReadProcessStat(uint32_t pid, ProcessStat* out) {
#if defined(__linux__)
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%u/stat", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  // The command name (field 2) is in parentheses and may contain spaces or ')', so
  // count fields from the last ')'. Field 3 (state) follows it.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return false;
  p++;
  for (int field = 3; field <= 22; ++field) {
    while (*p == ' ') p++;
    if (*p == '\0') return false;
    if (field == 3) out->state = *p;
    if (field == 20) out->threads = std::strtoull(p, nullptr, 10);
    if (field == 22) {
      out->start_time = std::strtoull(p, nullptr, 10);
      return true;
    }
    while (*p != ' ' && *p != '\0') p++;
  }
  return false;
#else
  (void)pid;
  (void)out;
  return false;
#endif
}

}  // namespace

uint64_t ReadProcessStartTime(uint32_t pid) {
  ProcessStat stat{};
  return ReadProcessStat(pid, &stat) ? stat.start_time : 0;
}

bool PidExists(uint32_t pid) {
  return pid != 0 && !(kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
}

const OwnerIdentity& SelfIdentity() {
  const uint32_t pid = CurrentPid();
  if (cached_identity.pid != pid) {  // first call, or we are a forked child
    cached_identity.pid = pid;
    cached_identity.start_time = ReadProcessStartTime(pid);
    cached_identity.pid_namespace = ReadPidNamespace("/proc/self/ns/pid");
  }
  return cached_identity;
}

Liveness CheckOwner(const OwnerIdentity& owner, double lease_ms, double now_ms,
                    double lease_timeout_ms) {
  const OwnerIdentity& self = SelfIdentity();
  if (owner.pid_namespace != 0 && self.pid_namespace != 0 &&
      owner.pid_namespace != self.pid_namespace) {
    if (lease_ms <= 0) return Liveness::kUnknown;
    return now_ms - lease_ms > lease_timeout_ms ? Liveness::kDead : Liveness::kAlive;
  }
  if (owner.pid == 0) return Liveness::kUnknown;
  if (!PidExists(owner.pid)) return Liveness::kDead;
  ProcessStat stat{};
  // Unreadable /proc (the process may just have exited, or another platform): no proof
  // of anything, so the pid check above stands.
  if (!ReadProcessStat(owner.pid, &stat)) return Liveness::kAlive;
  // A zombie has exited and only waits for its parent to reap it, which a busy or careless
  // parent may never do. (A thread-group leader that ended with pthread_exit() while
  // other threads run is also shown as Z, but with more than one thread: alive.)
  if ((stat.state == 'Z' || stat.state == 'X') && stat.threads <= 1) return Liveness::kDead;
  // Pid reuse: the pid now names a process that started at another time.
  if (owner.start_time != 0 && stat.start_time != 0 && stat.start_time != owner.start_time)
    return Liveness::kDead;
  return Liveness::kAlive;
}

Liveness OwnerCheckCache::Check(const OwnerIdentity& owner, double lease_ms, double now_ms,
                                double lease_timeout_ms) {
  const OwnerIdentity& self = SelfIdentity();
  // Another namespace: the row's own lease decides, which costs nothing to check.
  if (owner.pid_namespace != 0 && self.pid_namespace != 0 &&
      owner.pid_namespace != self.pid_namespace) {
    return CheckOwner(owner, lease_ms, now_ms, lease_timeout_ms);
  }
  Entry& entry = entries_[owner.pid % kEntries];
  if (entry.used && entry.owner.pid == owner.pid && entry.owner.start_time == owner.start_time &&
      entry.owner.pid_namespace == owner.pid_namespace) {
    return entry.liveness;
  }
  const Liveness liveness = CheckOwner(owner, lease_ms, now_ms, lease_timeout_ms);
  entry = Entry{owner, liveness, true};
  return liveness;
}

}  // namespace ott
