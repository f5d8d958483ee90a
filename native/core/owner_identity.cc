// Owner identity and liveness (see owner_identity.h). Linux reads /proc; other
// platforms fall back on kill(pid, 0) and record no start time or namespace.
#include "owner_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace

uint64_t ReadProcessStartTime(uint32_t pid) {
#if defined(__linux__)
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%u/stat", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  // The command name (field 2) is in parentheses and may contain spaces or ')', so
  // count fields from the last ')'. Field 3 (state) follows it; start time is field 22.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return 0;
  p++;
  for (int field = 3; field <= 22; ++field) {
    while (*p == ' ') p++;
    if (*p == '\0') return 0;
    if (field == 22) return std::strtoull(p, nullptr, 10);
    while (*p != ' ' && *p != '\0') p++;
  }
  return 0;
#else
  (void)pid;
  return 0;
#endif
}

const OwnerIdentity& SelfIdentity() {
  const uint32_t pid = static_cast<uint32_t>(getpid());
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
  if (kill(static_cast<pid_t>(owner.pid), 0) != 0 && errno == ESRCH) return Liveness::kDead;
  if (owner.start_time != 0) {
    const uint64_t now_start = ReadProcessStartTime(owner.pid);
    // 0 means /proc could not be read (the process may just have exited): not proof of
    // reuse, so only a different non-zero start time counts.
    if (now_start != 0 && now_start != owner.start_time) return Liveness::kDead;
  }
  return Liveness::kAlive;
}

}  // namespace ott
