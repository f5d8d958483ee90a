// libFuzzer harness for the row and registry decoders of core::Table (issue 6, item 3):
// every input is written over the rows, or over the category registry and claim bitmap,
// of a small real table, which is then read the way the addon reads it (Snapshot, ReadRow
// of every slot, ScanStats, ReadCategory of every entry). Out-of-bounds accesses are left
// to AddressSanitizer; the harness itself traps when a decoded record breaks the contract
// the TypeScript decoder relies on, or when iteration and metrics disagree.
// Pairs with table.cc (CopyRecord, ScanStats, ReadCategory) and
// test/native/hostile-rows.test.ts, which fuzzes the same surface through JavaScript.
//
// Build and run (needs clang; Debian: apt-get install clang):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     native/tools/row_fuzz.cc native/core/table.cc native/core/shm_mapping.cc \
//     native/core/owner_identity.cc -lrt -o build/row_fuzz
//   build/row_fuzz -max_total_time=60 -max_len=8192
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../core/layout.h"
#include "../core/table.h"

namespace {

constexpr ott::LayoutParams kParams{/*max_tasks=*/5, /*data_size=*/64, /*max_categories=*/2,
                                    /*bucket_count=*/3};

// Fails the input: libFuzzer reports the trap with the input that caused it.
inline void Require(bool condition) {
  if (!condition) __builtin_trap();
}

bool ValidTime(double ms) { return ms >= 0 && ms <= 8.64e15; }

struct Fixture {
  ott::Table table;
  ott::LayoutSizes sizes{};
  uint8_t* base = nullptr;
  std::vector<uint8_t> pristine;
  std::vector<uint64_t> snapshot;  // uint64_t: SnapshotRecord needs 8-byte alignment
  std::vector<uint64_t> record;
  std::vector<double> stats;
  std::vector<double> counters;

  Fixture() {
    const std::string path = "/dev/shm/ott-row-fuzz-" + std::to_string(getpid());
    ott::OpenOptions options;
    options.path = path;
    options.params = kParams;
    options.bucket_bounds[0] = 1;
    options.bucket_bounds[1] = 2;
    options.bucket_bounds[2] = 4;
    bool created = false;
    ott::OpenFailure failure;
    if (table.Open(options, &created, &failure) != ott::Result::kOk || !created) std::abort();
    ott::ShmMapping::Unlink(path, &failure);  // our mapping stays; nothing is left behind
    sizes = ott::ComputeLayout(kParams);
    // The header is the first thing in the mapping; the harness writes hostile bytes
    // through it as another process would.
    base = reinterpret_cast<uint8_t*>(const_cast<ott::TableHeader*>(&table.header()));
    pristine.assign(base, base + sizes.total_bytes);
    snapshot.resize(64 * 1024 / 8);
    record.resize(table.RecordCapacity() / 8 + 1);
    stats.resize((kParams.max_categories + 1) * ott::kStatsPerCategory + ott::kStatsTrailer);
    counters.resize(ott::Table::CategoryCounterCount(kParams.bucket_count));
  }
};

// Checks one decoded record and returns its length, as row-decoder.ts walks them.
size_t CheckRecord(const uint8_t* bytes, size_t available) {
  Require(available >= sizeof(ott::SnapshotRecord));
  ott::SnapshotRecord r;
  std::memcpy(&r, bytes, sizeof(r));
  Require(r.generation >= 1 && r.generation <= static_cast<double>(ott::kMaxGeneration));
  Require(r.status >= 1 && r.status < ott::kStatusCount);
  Require(r.slot < kParams.max_tasks && r.category_index <= kParams.max_categories);
  Require(r.data_len <= kParams.data_size);
  Require(ValidTime(r.started_at_ms) && ValidTime(r.modified_at_ms) && ValidTime(r.running_at_ms));
  Require(std::isnan(r.progress) || (r.progress >= 0 && r.progress <= 1));
  Require(ValidTime(r.inactivity_timeout_ms));
  const size_t strings = static_cast<size_t>(r.name_len) + r.category_len + r.data_len;
  const size_t total = sizeof(ott::SnapshotRecord) + ott::RoundUp(strings, 8);
  Require(total <= available);
  return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  if (size == 0) return 0;
  std::memcpy(f->base, f->pristine.data(), f->pristine.size());
  // Byte 0 picks the target, the rest is written over it (cycled to fill it).
  const bool rows = (data[0] & 1) == 0;
  const uint64_t from = rows ? f->sizes.rows_offset : f->sizes.categories_offset;
  const uint64_t to = rows ? f->sizes.total_bytes : f->sizes.rows_offset;
  const size_t payload = size - 1;
  if (payload > 0) {
    for (uint64_t at = from, i = 0; at < to; ++at, ++i) f->base[at] = data[1 + i % payload];
  }

  bool complete = false;
  uint32_t unreadable = 0, corrupt = 0;
  const size_t capacity = f->snapshot.size() * 8;
  const size_t n = f->table.Snapshot(reinterpret_cast<uint8_t*>(f->snapshot.data()), capacity,
                                     &complete, &unreadable, &corrupt);
  Require(complete && n <= capacity);  // 5 rows always fit 64 KiB
  size_t records = 0;
  for (size_t at = 0; at < n; ++records) {
    at += CheckRecord(reinterpret_cast<const uint8_t*>(f->snapshot.data()) + at, n - at);
  }

  for (uint32_t slot = 0; slot < kParams.max_tasks; ++slot) {
    size_t written = 0;
    bool row_unreadable = false;
    const size_t record_capacity = f->record.size() * 8;
    f->table.ReadRow(slot, reinterpret_cast<uint8_t*>(f->record.data()), record_capacity,
                     &written, &row_unreadable);
    if (written > 0) CheckRecord(reinterpret_cast<const uint8_t*>(f->record.data()), written);
  }

  f->table.ScanStats(0, f->stats.data());
  const size_t cells = (kParams.max_categories + 1) * ott::kStatsPerCategory;
  // Iteration and metrics skip and count exactly the same rows (one validity check).
  Require(f->stats[cells + 3] == static_cast<double>(records));
  Require(f->stats[cells + 1] + f->stats[cells + 2] == static_cast<double>(unreadable + corrupt));

  char name[ott::kStringFieldBytes];
  for (uint32_t index = 0; index <= kParams.max_categories + 1; ++index) {
    uint32_t name_len = 0;
    if (f->table.ReadCategory(index, name, &name_len, f->counters.data())) {
      Require(index <= kParams.max_categories && name_len <= ott::kMaxNameBytes);
    }
  }
  return 0;
}
