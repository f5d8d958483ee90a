// Who owns a row: pid, process start time and pid namespace, and the liveness check
// used to reclaim rows of dead owners. Pairs with owner_identity.cc and table.cc.
#pragma once

#include <cstdint>

namespace ott {

struct OwnerIdentity {
  uint32_t pid;
  uint64_t start_time;     // Linux: field 22 of /proc/<pid>/stat (clock ticks since boot)
  uint64_t pid_namespace;  // Linux: inode of /proc/<pid>/ns/pid; 0 when unknown
};

// The calling process, read once per fork (the pid is re-checked on every call).
const OwnerIdentity& SelfIdentity();

// False only when no process has this pid in our pid namespace (kill(pid, 0) fails with
// ESRCH); a pid of another namespace may name anything here.
bool PidExists(uint32_t pid);

// Start time of `pid` as seen from this pid namespace; 0 when it cannot be read.
uint64_t ReadProcessStartTime(uint32_t pid);

enum class Liveness { kAlive, kDead, kUnknown };

// Decides whether the owner recorded in a row still runs.
// - Same pid namespace: dead when the pid does not exist, when it is a zombie (exited,
//   not yet reaped by its parent), or when it now belongs to a process with another start
//   time (pid reuse).
// - Another pid namespace (a container sharing /dev/shm): pids mean nothing here, so the
//   owner is alive while its lease (heartbeat) is younger than `lease_timeout_ms`.
// - Namespace unknown (0, as on macOS): as "same namespace"; without a start time the pid
//   alone decides. ReclaimDead() also asks about a bare pid for a claim holder that its
//   row does not name yet, and only once that slot's lease is older than a second.
// - Another namespace and no lease (0): kUnknown, never reclaimed.
Liveness CheckOwner(const OwnerIdentity& owner, double lease_ms, double now_ms,
                    double lease_timeout_ms);

// CheckOwner for one reclaim pass over many rows. A pass meets the same few owners again
// and again (every task of a worker), and their check costs a kill() and a read of
// /proc/<pid>/stat: this remembers each owner's answer for the rest of the pass, so a
// pass makes about one check per process instead of one per row. Use a new one per pass:
// an owner that dies during the pass is found dead by the next one.
class OwnerCheckCache {
 public:
  Liveness Check(const OwnerIdentity& owner, double lease_ms, double now_ms,
                 double lease_timeout_ms);

 private:
  struct Entry {
    OwnerIdentity owner;
    Liveness liveness;
    bool used;
  };
  static constexpr uint32_t kEntries = 256;  // direct-mapped by pid; a collision re-checks
  Entry entries_[kEntries] = {};
};

}  // namespace ott
