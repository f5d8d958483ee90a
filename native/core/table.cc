// Table: header creation and validation, slot claim/release, row writes and reads,
// counters and reclaim (see table.h). Every length, index or offset read from shared
// memory is copied into a local, checked against the layout, then used.
#include "table.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "owner_identity.h"
#include "row_io.h"
#include "seqlock.h"

namespace ott {
namespace {

constexpr int kMaxReadAttempts = 2000;       // then the row is reported unreadable
constexpr int kCategoryClaimSpins = 100000;  // wait for another process to publish a name
constexpr int kNotReadyWaitMs = 1000;        // how long attach waits for a creator
// How old the lease of a slot must be before a reclaimer trusts a bare pid check, when
// the row does not yet (or no longer) name the claim holder: see ReclaimDead().
constexpr double kUnknownOwnerGraceMs = 1000;

double NowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Milliseconds on a clock that never steps, for waits that must stay bounded when the
// wall clock is set back.
double MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// How long, in all, one read call (getRow, one snapshot, one metrics scan) waits for live
// writers that a reader finds mid-write once its spin is over. Such a writer was
// descheduled inside its write (more runnable threads than cores), which lasts a
// scheduler time slice, a few milliseconds; a spin of microseconds cannot outlast it.
constexpr double kWriterWaitBudgetMs = 10;

// Waits, giving up the CPU, for the writer of a row that stayed mid-write through a
// reader's spin. True once its sequence is even again (read the row once more); false
// when the slot's claim holder is gone (a writer that died mid-write is never waited
// for) or the read call's budget is spent. *deadline_ms is 0 until the first wait.
bool AwaitWriter(const RowHead* row, double* deadline_ms) {
  // relaxed: only the holder's pid is needed, to skip waiting for a dead writer.
  const uint32_t holder = ClaimPid(row->claim.load(std::memory_order_relaxed));
  if (!PidExists(holder)) return false;
  if (*deadline_ms == 0) *deadline_ms = MonotonicMs() + kWriterWaitBudgetMs;
  for (int round = 0;; ++round) {
    if (round < 8) {
      sched_yield();  // lets a writer waiting for this CPU run
    } else {
      const timespec pause{0, 50 * 1000};  // 50 us: a writer queued on another CPU
      nanosleep(&pause, nullptr);
    }
    // relaxed: a hint only; the read that follows validates the sequence as usual.
    if ((row->seq.load(std::memory_order_relaxed) & 1u) == 0) return true;
    if (MonotonicMs() >= *deadline_ms) return false;
  }
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

uint64_t NextGeneration(uint64_t generation) {
  return generation >= kMaxGeneration ? 1 : generation + 1;  // 0 means "never used"
}

bool ValidParams(const LayoutParams& p) {
  return p.max_tasks >= 1 && p.max_tasks <= kMaxTasksLimit && p.data_size >= kMinDataSize &&
         p.data_size <= kMaxDataSize && p.max_categories >= 1 &&
         p.max_categories <= kMaxCategoriesLimit && p.bucket_count >= 1 &&
         p.bucket_count <= kMaxBuckets;
}

// A timestamp a real row can hold: epoch ms within the range of a JS Date. Anything else
// (NaN, infinities, 1e300 from a hostile row) would become an Invalid Date in TypeScript
// and make toISOString() throw, failing a whole collection for one bad row.
bool ValidTimeMs(double ms) { return ms >= 0 && ms <= 8.64e15; }

// True when a body read from shared memory holds only values a writer of this layout
// stores. CopyRecord (iteration, getRow) and ScanStats (metrics) both decide with this one
// check, so a row skipped by one is skipped and counted by the other. Hostile values would
// otherwise become a copy past the row (data_len), a counter slot past the registry
// (status, category_index), an Invalid Date (times), a progress outside 0..1 shown as is,
// or an id that getRow() cannot parse back (a generation wider than the claim word's 40
// bits). Writers never store these: lib/ validates the timeout and clamps the progress.
bool PlausibleBody(const RowBody& body, const LayoutParams& p) {
  const bool progress_ok =
      (body.flags & kRowFlagHasProgress) == 0 || (body.progress >= 0 && body.progress <= 1);
  return body.data_len <= p.data_size && body.status < kStatusCount &&
         body.category_index <= p.max_categories && body.generation <= kMaxGeneration &&
         ValidTimeMs(body.started_at_ms) && ValidTimeMs(body.modified_at_ms) &&
         ValidTimeMs(body.running_at_ms) && progress_ok &&
         ValidTimeMs(body.inactivity_timeout_ms);  // a duration; the same bounds apply
}

// The data a reclaimer stores in a dead owner's row: the sentence when it fits the row's
// data field, else the short form, which always fits. Stored unchecked, the sentence
// (about 110 bytes) overran a 64-byte data field into the next row's claim word and
// sequence, or past the end of the object for the last row.
size_t OwnerDiedMarker(char (&out)[192], uint32_t data_size, uint32_t pid, const char* what) {
  int len = std::snprintf(out, sizeof(out),
                          "{\"reason\":\"owner_died\",\"message\":\"the owning process "
                          "(pid %u) died %s\",\"pid\":%u}",
                          pid, what, pid);
  if (len < 0 || static_cast<size_t>(len) >= sizeof(out) || static_cast<uint32_t>(len) > data_size)
    len = std::snprintf(out, sizeof(out), "{\"reason\":\"owner_died\",\"pid\":%u}", pid);
  return static_cast<size_t>(len);
}
static_assert(sizeof("{\"reason\":\"owner_died\",\"pid\":4294967295}") - 1 <= kMinDataSize,
              "the short owner_died marker must fit the smallest data field");

// Packs `len` bytes of a word-aligned row field into `out` (any alignment), loading the
// field one word at a time as the sequence lock requires; returns the end of the copy.
// Each word goes straight from its load to `out`: packing through a word-aligned scratch
// made memcpy read across two just-stored words, a store-forwarding stall that cost about
// a third of a 10,000-row snapshot when names and categories were 9 to 16 bytes long.
uint8_t* CopyFieldBytes(uint8_t* out, const uint8_t* field, size_t len) {
  const uint64_t* words = reinterpret_cast<const uint64_t*>(field);
  const size_t full_words = len / 8;
  for (size_t i = 0; i < full_words; ++i) {
    uint64_t word;
    LoadWords(&word, words + i, 1);
    std::memcpy(out + 8 * i, &word, 8);
  }
  if (len % 8 != 0) {
    uint64_t word;
    LoadWords(&word, words + full_words, 1);
    std::memcpy(out + 8 * full_words, &word, len % 8);
  }
  return out + len;
}

uint64_t DurationMicros(double from_ms, double to_ms) {
  const double micros = (to_ms - from_ms) * 1e3;
  if (!(micros > 0)) return 0;  // clock stepped backwards, or NaN from a corrupt row
  return micros >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(micros);
}

}  // namespace

// ---------------------------------------------------------------- open and validate

Result Table::Open(const OpenOptions& options, bool* created, OpenFailure* failure) {
  *created = false;
  const bool may_create = options.create && !options.read_only;
  const double deadline = NowMs() + kNotReadyWaitMs;
  for (;;) {
    Result r = mapping_.OpenExisting(options.path, options.read_only, failure);
    if (r == Result::kNotFound && may_create) {
      r = Create(options, failure);
      if (r == Result::kOk) {
        *created = true;
        return r;
      }
      if (r == Result::kExists) {  // another creator published first: attach to its table
        if (NowMs() > deadline) return Result::kNotReady;
        continue;
      }
    } else if (r == Result::kNotFound) {
      // Read-only: a table still being built has no name yet; wait for it as for a header
      // not yet published. A dead creator's leftover is not a table: not found.
      if (!ShmMapping::CreationInProgress(options.path)) return r;
      r = Result::kNotReady;
    } else if (r == Result::kOk) {
      if (mapping_.size() < sizeof(TableHeader)) {
        failure->field = "file size";
        failure->existing = static_cast<double>(mapping_.size());
        failure->expected = sizeof(TableHeader);
        mapping_.Unmap();
        return Result::kFileTooSmall;
      }
      header_ = reinterpret_cast<TableHeader*>(mapping_.base());
      // Acquire: pairs with the release store of `magic` in InitializeHeader, so the
      // layout fields read by ValidateHeader are the creator's finished values.
      const uint64_t magic = header_->magic.load(std::memory_order_acquire);
      if (magic != 0) {
        r = ValidateHeader(failure);
        if (r != Result::kOk) {
          mapping_.Unmap();
          header_ = nullptr;
        }
        return r;
      }
      // On Linux this library's creators name only finished tables: this is an older
      // version's creator at work, or something else. On macOS, a creator at work. Wait
      // briefly; never take it over.
      mapping_.Unmap();
      header_ = nullptr;
      r = Result::kNotReady;
    }
    // kNotReady here: a live creator is building the table, or its header is not set yet.
    if (r != Result::kNotReady) return r;
    if (NowMs() > deadline) return Result::kNotReady;
    usleep(1000);
  }
}

Result Table::Create(const OpenOptions& options, OpenFailure* failure) {
  const LayoutSizes sizes = ComputeLayout(options.params);
  Result r = mapping_.CreateExclusive(options.path, options.mode, sizes.total_bytes, failure);
  if (r != Result::kOk) return r;
  ShmMapping::PauseForTest("reserved");
  InitializeHeader(options);
  ShmMapping::PauseForTest("initialized");
  // Only now does the table get its name: whoever opens it finds a whole header.
  r = mapping_.Publish(options.path, failure);
  if (r != Result::kOk) header_ = nullptr;  // Publish dropped our object
  return r;
}

Result Table::InitializeHeader(const OpenOptions& options) {
  header_ = reinterpret_cast<TableHeader*>(mapping_.base());
  params_ = options.params;
  sizes_ = ComputeLayout(params_);
  std::memcpy(bucket_bounds_, options.bucket_bounds, sizeof(bucket_bounds_));
  // The segment is fresh and zero-filled, and has no name other processes open until
  // Publish(); attachers of an object also wait for `magic`, stored last below. Plain
  // stores are enough.
  header_->layout_version = kLayoutVersion;
  header_->header_bytes = kHeaderBytes;
  header_->total_bytes = sizes_.total_bytes;
  header_->max_tasks = params_.max_tasks;
  header_->data_size = params_.data_size;
  header_->row_bytes = sizes_.row_bytes;
  header_->max_categories = params_.max_categories;
  header_->category_bytes = sizes_.category_bytes;
  header_->bucket_count = params_.bucket_count;
  header_->categories_offset = sizes_.categories_offset;
  header_->bitmap_offset = sizes_.bitmap_offset;
  header_->rows_offset = sizes_.rows_offset;
  header_->created_at_ms = NowMs();
  header_->creator_pid = static_cast<uint32_t>(getpid());
  std::memcpy(header_->bucket_bounds, bucket_bounds_, sizeof(bucket_bounds_));
  // The built-in "other" entry, so readers can always resolve the overflow category.
  CategoryEntry* other = CategoryAt(params_.max_categories);
  static constexpr char kOther[] = "other";
  std::memcpy(other->name, kOther, sizeof(kOther) - 1);
  other->name_len = sizeof(kOther) - 1;
  other->name_hash = HashName(reinterpret_cast<const uint8_t*>(kOther), sizeof(kOther) - 1);
  // relaxed: published together with the header by the release store of `magic` below.
  other->state.store(kCategoryReady, std::memory_order_relaxed);
  // Release: publishes every header, registry and bucket field written above; pairs with
  // the acquire load of `magic` in Open(). Until this store, attachers wait.
  header_->magic.store(kMagic, std::memory_order_release);
  return Result::kOk;
}

Result Table::ValidateHeader(OpenFailure* failure) {
  const TableHeader& h = *header_;
  auto fail = [&](Result result, const char* field, double existing, double expected) {
    failure->field = field;
    failure->existing = existing;
    failure->expected = expected;
    return result;
  };
  // relaxed: already acquired in Open(); this re-read only compares the value.
  const uint64_t magic = h.magic.load(std::memory_order_relaxed);
  if (magic != kMagic) return fail(Result::kBadMagic, "magic", static_cast<double>(magic), 0);
  // The immutable fields are read once into locals (untrusted) and checked before use.
  const uint32_t untrusted_version = h.layout_version;
  if (untrusted_version != kLayoutVersion)
    return fail(Result::kVersionMismatch, "layoutVersion", untrusted_version, kLayoutVersion);
  const uint32_t untrusted_header_bytes = h.header_bytes;
  if (untrusted_header_bytes != kHeaderBytes)
    return fail(Result::kCorruptHeader, "headerBytes", untrusted_header_bytes, kHeaderBytes);
  LayoutParams p{h.max_tasks, h.data_size, h.max_categories, h.bucket_count};
  if (!ValidParams(p)) {
    if (p.max_tasks < 1 || p.max_tasks > kMaxTasksLimit)
      return fail(Result::kCorruptHeader, "maxTasks", p.max_tasks, kMaxTasksLimit);
    if (p.data_size < kMinDataSize || p.data_size > kMaxDataSize)
      return fail(Result::kCorruptHeader, "dataSize", p.data_size, kMaxDataSize);
    if (p.max_categories < 1 || p.max_categories > kMaxCategoriesLimit)
      return fail(Result::kCorruptHeader, "maxCategories", p.max_categories, kMaxCategoriesLimit);
    return fail(Result::kCorruptHeader, "bucketCount", p.bucket_count, kMaxBuckets);
  }
  const LayoutSizes s = ComputeLayout(p);
  if (h.row_bytes != s.row_bytes) return fail(Result::kCorruptHeader, "rowBytes", h.row_bytes, s.row_bytes);
  if (h.category_bytes != s.category_bytes)
    return fail(Result::kCorruptHeader, "categoryBytes", h.category_bytes, s.category_bytes);
  if (h.categories_offset != s.categories_offset)
    return fail(Result::kCorruptHeader, "categoriesOffset", static_cast<double>(h.categories_offset),
                static_cast<double>(s.categories_offset));
  if (h.bitmap_offset != s.bitmap_offset)
    return fail(Result::kCorruptHeader, "bitmapOffset", static_cast<double>(h.bitmap_offset),
                static_cast<double>(s.bitmap_offset));
  if (h.rows_offset != s.rows_offset)
    return fail(Result::kCorruptHeader, "rowsOffset", static_cast<double>(h.rows_offset),
                static_cast<double>(s.rows_offset));
  if (h.total_bytes != s.total_bytes)
    return fail(Result::kCorruptHeader, "totalBytes", static_cast<double>(h.total_bytes),
                static_cast<double>(s.total_bytes));
  if (mapping_.size() < s.total_bytes)
    return fail(Result::kFileTooSmall, "file size", static_cast<double>(mapping_.size()),
                static_cast<double>(s.total_bytes));
  double bounds[kMaxBuckets] = {};
  std::memcpy(bounds, h.bucket_bounds, sizeof(bounds));
  for (uint32_t i = 0; i < p.bucket_count; ++i) {
    const bool ascending = i == 0 || bounds[i] > bounds[i - 1];
    if (!std::isfinite(bounds[i]) || bounds[i] <= 0 || !ascending)
      return fail(Result::kCorruptHeader, "durationBuckets", bounds[i], i);
  }
  params_ = p;
  sizes_ = s;
  std::memcpy(bucket_bounds_, bounds, sizeof(bounds));
  return Result::kOk;
}

void Table::Close() {
  mapping_.Unmap();
  header_ = nullptr;
}

// ---------------------------------------------------------------- layout accessors

RowHead* Table::RowAt(uint32_t slot) const {
  return reinterpret_cast<RowHead*>(mapping_.base() + sizes_.rows_offset +
                                    static_cast<uint64_t>(slot) * sizes_.row_bytes);
}

CategoryEntry* Table::CategoryAt(uint32_t index) const {
  return reinterpret_cast<CategoryEntry*>(mapping_.base() + sizes_.categories_offset +
                                          static_cast<uint64_t>(index) * sizes_.category_bytes);
}

std::atomic<uint64_t>* Table::Bitmap() const {
  return reinterpret_cast<std::atomic<uint64_t>*>(mapping_.base() + sizes_.bitmap_offset);
}

std::atomic<uint64_t>* Table::DurationBuckets(CategoryEntry* entry, uint32_t final_index) const {
  auto* first = reinterpret_cast<std::atomic<uint64_t>*>(reinterpret_cast<uint8_t*>(entry) +
                                                         kCategoryFixedBytes);
  return first + static_cast<size_t>(final_index) * CategoryBucketsPerHistogram(params_.bucket_count);
}

std::atomic<uint64_t>* Table::WaitBuckets(CategoryEntry* entry) const {
  return DurationBuckets(entry, kFinalStatusCount);
}

uint32_t Table::BucketFor(double seconds) const {
  for (uint32_t i = 0; i < params_.bucket_count; ++i) {
    if (seconds <= bucket_bounds_[i]) return i;
  }
  return params_.bucket_count;  // +Inf
}

size_t Table::RecordCapacity() const {
  return sizeof(SnapshotRecord) + RoundUp(2 * kMaxNameBytes + params_.data_size, 8) + 8;
}

// ---------------------------------------------------------------- categories

uint32_t Table::CategoryIndex(const uint8_t* name, size_t len) {
  const uint32_t n = params_.max_categories;
  const uint64_t hash = HashName(name, len);
  for (uint32_t probe = 0; probe < n; ++probe) {
    const uint32_t index = static_cast<uint32_t>((hash + probe) % n);
    CategoryEntry* entry = CategoryAt(index);
    // Acquire: pairs with the release store of kCategoryReady below, making the name of a
    // ready entry visible before we compare it.
    uint32_t state = entry->state.load(std::memory_order_acquire);
    if (state == kCategoryFree) {
      // acq_rel on success: we become the entry's only writer until we publish it;
      // acquire on failure: pairs with the winner's release store of its state.
      if (entry->state.compare_exchange_strong(state, kCategoryClaiming, std::memory_order_acq_rel, std::memory_order_acquire)) {  // success acq_rel / failure acquire: see above
        std::memcpy(entry->name, name, len);
        entry->name_len = static_cast<uint32_t>(len);
        entry->name_hash = hash;
        // Release: publishes name, name_len and name_hash; pairs with the acquire loads above
        // and in ReadCategory().
        entry->state.store(kCategoryReady, std::memory_order_release);
        return index;
      }
    }
    if (state == kCategoryClaiming) {
      if (stuck_categories_.size() != n) stuck_categories_.assign(n, false);
      // Found stuck before: skip it without waiting again (it is re-read on every lookup,
      // so it is used as soon as it is ready after all).
      if (stuck_categories_[index]) continue;
    }
    for (int spin = 0; state == kCategoryClaiming && spin < kCategoryClaimSpins; ++spin) {
      if (spin % 64 == 63) sched_yield();
      // Acquire: pairs with the publishing release store of the process that claimed it.
      state = entry->state.load(std::memory_order_acquire);
    }
    // An entry stuck in kCategoryClaiming (its claimer died) is skipped for good.
    if (state == kCategoryClaiming) stuck_categories_[index] = true;
    if (state != kCategoryReady) continue;
    const uint32_t untrusted_len = entry->name_len;
    if (entry->name_hash == hash && untrusted_len == len && std::memcmp(entry->name, name, len) == 0) {
      return index;
    }
  }
  AddDropped(DropReason::kCategories, 1);
  return n;  // "other"
}

uint32_t Table::CategoryCounterCount(uint32_t bucket_count) {
  return 1 + kFinalStatusCount * 2 + 2 +
         (kFinalStatusCount + 1) * CategoryBucketsPerHistogram(bucket_count);
}

bool Table::ReadCategory(uint32_t index, char* name_out, uint32_t* name_len, double* out) {
  if (index > params_.max_categories) return false;
  CategoryEntry* entry = CategoryAt(index);
  // Acquire: pairs with the release store that published the entry's name.
  if (entry->state.load(std::memory_order_acquire) != kCategoryReady) return false;
  const uint32_t untrusted_len = entry->name_len;
  if (untrusted_len > kMaxNameBytes) return false;  // hostile: would read past name[]
  std::memcpy(name_out, entry->name, untrusted_len);
  *name_len = untrusted_len;
  size_t k = 0;
  // relaxed (all loads below): monotonic statistics; no data is published through them.
  out[k++] = static_cast<double>(entry->started.load(std::memory_order_relaxed));
  for (uint32_t s = 0; s < kFinalStatusCount; ++s)
    out[k++] = static_cast<double>(entry->completed[s].load(std::memory_order_relaxed));  // relaxed: statistic only
  for (uint32_t s = 0; s < kFinalStatusCount; ++s)
    out[k++] = static_cast<double>(entry->duration_sum_us[s].load(std::memory_order_relaxed));  // relaxed: statistic only
  out[k++] = static_cast<double>(entry->wait_sum_us.load(std::memory_order_relaxed));  // relaxed: statistic only
  out[k++] = static_cast<double>(entry->wait_count.load(std::memory_order_relaxed));  // relaxed: statistic only
  const uint32_t per = CategoryBucketsPerHistogram(params_.bucket_count);
  for (uint32_t h = 0; h <= kFinalStatusCount; ++h) {
    std::atomic<uint64_t>* buckets = DurationBuckets(entry, h);
    for (uint32_t b = 0; b < per; ++b)
      out[k++] = static_cast<double>(buckets[b].load(std::memory_order_relaxed));  // relaxed: statistics
  }
  return true;
}

void Table::AddDropped(DropReason reason, uint64_t count) {
  // relaxed: a statistic; nothing is published through it.
  header_->dropped[static_cast<uint32_t>(reason)].fetch_add(count, std::memory_order_relaxed);
}

uint64_t Table::Dropped(DropReason reason) const {
  // relaxed: a statistic; nothing is published through it.
  return header_->dropped[static_cast<uint32_t>(reason)].load(std::memory_order_relaxed);
}

// ---------------------------------------------------------------- claim and release

bool Table::TryClaimSlot(uint32_t slot, uint32_t pid, uint64_t lease_ms, uint64_t* generation) {
  RowHead* row = RowAt(slot);
  // relaxed: only a hint for the CAS below, which re-checks the value.
  uint64_t claim = row->claim.load(std::memory_order_relaxed);
  if (ClaimPid(claim) != 0) return false;
  // The lease goes in before the claim, so that a reclaimer that sees the claim never sees
  // the previous task's lease (which may be hours old) and takes a claim whose holder has
  // not written its row yet for a dead one. Storing it on a slot another process claims
  // first only makes that slot's lease a moment fresher. relaxed: published by the release
  // half of the CAS below, which pairs with ReclaimDead's acquire load of the claim word.
  row->lease_ms.store(lease_ms, std::memory_order_relaxed);
  const uint64_t next = MakeClaim(NextGeneration(ClaimGeneration(claim)), pid);
  // acq_rel on success: acquire pairs with the release CAS in ReleaseSlot, so the previous
  // owner's last body writes and `seq` value happen-before ours and we continue its
  // sequence; release orders nothing yet but keeps the claim ordered before our writes.
  // relaxed on failure: we just move on to another slot.
  if (!row->claim.compare_exchange_strong(claim, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
    return false;
  }
  *generation = ClaimGeneration(next);
  return true;
}

Result Table::Claim(const uint8_t* name, size_t name_len, const uint8_t* category,
                    size_t category_len, uint32_t category_index, double inactivity_timeout_ms,
                    uint32_t* out_slot, uint64_t* out_generation) {
  const OwnerIdentity& self = SelfIdentity();
  const uint64_t lease_ms = static_cast<uint64_t>(NowMs());
  const uint32_t words = (params_.max_tasks + 63) / 64;
  std::atomic<uint64_t>* bitmap = Bitmap();
  // relaxed: a shared hint, the slot after the last one claimed; any value is correct.
  // Scanning round-robin from there (instead of taking the lowest free slot) keeps an
  // ended row readable for as long as possible before its slot is reused.
  const uint32_t start_slot = header_->claim_hint.load(std::memory_order_relaxed) % params_.max_tasks;
  const uint32_t start_word = start_slot / 64;
  const uint64_t below_start = (1ull << (start_slot % 64)) - 1;
  uint32_t slot = UINT32_MAX;
  uint64_t generation = 0;
  // Fast path: the bitmap says which slots are probably free (1 = claimed). It is a hint
  // kept next to the authoritative claim words, so a stale bit only costs a retry. The
  // start word is visited twice: its bits from start_slot on first, the rest last.
  for (uint32_t k = 0; k <= words && slot == UINT32_MAX; ++k) {
    const uint32_t w = (start_word + k) % words;
    // relaxed: hint only; TryClaimSlot's CAS decides.
    uint64_t free_bits = ~bitmap[w].load(std::memory_order_relaxed);
    if (w == words - 1 && params_.max_tasks % 64 != 0) free_bits &= (1ull << (params_.max_tasks % 64)) - 1;
    if (k == 0) free_bits &= ~below_start;
    if (k == words) free_bits &= below_start;
    while (free_bits != 0) {
      const uint32_t bit = static_cast<uint32_t>(__builtin_ctzll(free_bits));
      free_bits &= free_bits - 1;
      const uint32_t candidate = w * 64 + bit;
      if (TryClaimSlot(candidate, self.pid, lease_ms, &generation)) {
        slot = candidate;
        break;
      }
      // Taken: repair the hint. relaxed: hint only.
      bitmap[w].fetch_or(1ull << bit, std::memory_order_relaxed);
    }
  }
  // Slow path: the bitmap may hold stale "claimed" bits left by a process killed between
  // releasing a row and clearing its bit. Only the claim words are authoritative.
  for (uint32_t candidate = 0; slot == UINT32_MAX && candidate < params_.max_tasks; ++candidate) {
    if (TryClaimSlot(candidate, self.pid, lease_ms, &generation)) slot = candidate;
  }
  if (slot == UINT32_MAX) return Result::kTableFull;
  // relaxed: hint only.
  bitmap[slot / 64].fetch_or(1ull << (slot % 64), std::memory_order_relaxed);
  // relaxed: hint only; see above.
  header_->claim_hint.store(slot + 1, std::memory_order_relaxed);

  RowHead* row = RowAt(slot);
  const double now = NowMs();
  RowBody body{};
  body.generation = generation;
  body.status = static_cast<uint8_t>(TaskStatus::kPending);
  body.name_len = static_cast<uint8_t>(name_len);
  body.category_len = static_cast<uint8_t>(category_len);
  body.category_index = category_index;
  body.pid = self.pid;
  body.start_time = self.start_time;
  body.pid_namespace = self.pid_namespace;
  body.started_at_ms = now;
  body.modified_at_ms = now;
  body.inactivity_timeout_ms = inactivity_timeout_ms;
  // relaxed: a new generation can never match an old cancel request; ordering not needed.
  row->cancel_generation.store(0, std::memory_order_relaxed);
  // relaxed: liveness lease, compared with the clock only.
  row->lease_ms.store(static_cast<uint64_t>(now), std::memory_order_relaxed);
  const uint32_t seq = SeqWriteBegin(row->seq);
  StoreBytesAsWords(reinterpret_cast<uint64_t*>(&row->body), reinterpret_cast<const uint8_t*>(&body),
                    sizeof(body));
  StoreBytesAsWords(reinterpret_cast<uint64_t*>(NameField(row)), name, name_len);
  StoreBytesAsWords(reinterpret_cast<uint64_t*>(CategoryField(row)), category, category_len);
  StoreField(row->body.data_len, 0u);
  SeqWriteEnd(row->seq, seq);
  // relaxed: a monotonic statistic; nothing is published through it.
  CategoryAt(category_index)->started.fetch_add(1, std::memory_order_relaxed);
  *out_slot = slot;
  *out_generation = generation;
  return Result::kOk;
}

void Table::ReleaseSlot(uint32_t slot, uint64_t generation, uint32_t pid) {
  RowHead* row = RowAt(slot);
  uint64_t expected = MakeClaim(generation, pid);
  // Release: the final body and counter writes above happen-before the next claimer's
  // acquire CAS in TryClaimSlot. relaxed on failure: someone else already released it.
  row->claim.compare_exchange_strong(expected, MakeClaim(generation, 0), std::memory_order_release, std::memory_order_relaxed);  // see above
  // relaxed: hint only; a stale bit is repaired by the next claimer.
  Bitmap()[slot / 64].fetch_and(~(1ull << (slot % 64)), std::memory_order_relaxed);
}

void Table::CountCompletion(const RowBody& body, uint8_t status, double now_ms) {
  const uint32_t untrusted_index = body.category_index;
  const uint32_t index = untrusted_index <= params_.max_categories ? untrusted_index : params_.max_categories;
  CategoryEntry* entry = CategoryAt(index);
  const uint32_t f = FinalStatusIndex(status);
  const uint64_t micros = DurationMicros(body.started_at_ms, now_ms);
  // relaxed (these three adds): monotonic statistics; nothing is published through them.
  entry->completed[f].fetch_add(1, std::memory_order_relaxed);
  entry->duration_sum_us[f].fetch_add(micros, std::memory_order_relaxed);  // relaxed: statistic only
  DurationBuckets(entry, f)[BucketFor(static_cast<double>(micros) / 1e6)].fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic only
}

// ---------------------------------------------------------------- owner writes

Result Table::Update(const UpdateArgs& a) {
  if (a.slot >= params_.max_tasks) return Result::kInvalidSlot;
  const uint32_t pid = SelfIdentity().pid;
  RowHead* row = RowAt(a.slot);
  // relaxed: we are the owner; only a reclaimer could change it, and then we lose the row.
  if (row->claim.load(std::memory_order_relaxed) != MakeClaim(a.generation, pid)) return Result::kNotOwner;
  if (a.set_data && a.data_len > params_.data_size) return Result::kDataTooLarge;
  const double now = NowMs();
  // The owner reads its own body without a read section: nobody else writes it.
  RowBody body{};
  LoadWords(reinterpret_cast<uint64_t*>(&body), reinterpret_cast<const uint64_t*>(&row->body),
            kRowBodyWords);
  const uint8_t status = a.status != 0 ? a.status : body.status;
  const bool first_running =
      status == static_cast<uint8_t>(TaskStatus::kRunning) && body.running_at_ms == 0;
  const uint32_t seq = SeqWriteBegin(row->seq);
  StoreField(row->body.status, status);
  StoreField(row->body.modified_at_ms, now);
  if (first_running) StoreField(row->body.running_at_ms, now);
  if (a.set_progress) {
    StoreField(row->body.progress, a.progress);
    StoreField(row->body.flags, static_cast<uint8_t>(body.flags | kRowFlagHasProgress));
  }
  if (a.set_data) {
    StoreBytesAsWords(reinterpret_cast<uint64_t*>(DataField(row)), a.data, a.data_len);
    StoreField(row->body.data_len, static_cast<uint32_t>(a.data_len));
  }
  SeqWriteEnd(row->seq, seq);
  if (first_running) {
    const uint32_t index = body.category_index <= params_.max_categories ? body.category_index
                                                                        : params_.max_categories;
    CategoryEntry* entry = CategoryAt(index);
    const uint64_t micros = DurationMicros(body.started_at_ms, now);
    // relaxed (these three adds): monotonic statistics; nothing is published through them.
    entry->wait_count.fetch_add(1, std::memory_order_relaxed);
    entry->wait_sum_us.fetch_add(micros, std::memory_order_relaxed);  // relaxed: statistic only
    WaitBuckets(entry)[BucketFor(static_cast<double>(micros) / 1e6)].fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic only
  }
  if (IsFinalStatus(status)) {
    CountCompletion(body, status, now);
    ReleaseSlot(a.slot, a.generation, pid);
  }
  return Result::kOk;
}

Result Table::Progress(uint32_t slot, uint64_t generation, double progress) {
  if (slot >= params_.max_tasks) return Result::kInvalidSlot;
  RowHead* row = RowAt(slot);
  // relaxed: ownership check by the owner itself; see Update().
  if (row->claim.load(std::memory_order_relaxed) != MakeClaim(generation, SelfIdentity().pid))
    return Result::kNotOwner;
  const uint8_t flags = LoadField(row->body.flags);
  const uint32_t seq = SeqWriteBegin(row->seq);
  StoreField(row->body.progress, progress);
  StoreField(row->body.modified_at_ms, NowMs());
  StoreField(row->body.flags, static_cast<uint8_t>(flags | kRowFlagHasProgress));
  SeqWriteEnd(row->seq, seq);
  return Result::kOk;
}

void Table::Heartbeat(uint32_t slot, uint64_t generation, double now_ms) {
  if (slot >= params_.max_tasks) return;
  RowHead* row = RowAt(slot);
  // relaxed: ownership check by the owner itself; see Update().
  if (ClaimGeneration(row->claim.load(std::memory_order_relaxed)) != generation) return;
  // relaxed: the lease is compared with the clock only; nothing is published through it.
  row->lease_ms.store(static_cast<uint64_t>(now_ms), std::memory_order_relaxed);
}

bool Table::CancelRequested(uint32_t slot, uint64_t generation) const {
  if (slot >= params_.max_tasks) return false;
  // relaxed: a flag; the owner acts on it without reading anything published with it.
  return RowAt(slot)->cancel_generation.load(std::memory_order_relaxed) == generation;
}

Result Table::RequestCancel(uint32_t slot, uint64_t generation) {
  if (slot >= params_.max_tasks) return Result::kInvalidSlot;
  RowHead* row = RowAt(slot);
  // relaxed: we only check that the task still runs; storing its generation (not a bare
  // flag) means a request that races with a reuse of the slot cannot hit the new task.
  const uint64_t claim = row->claim.load(std::memory_order_relaxed);
  if (ClaimPid(claim) == 0 || ClaimGeneration(claim) != generation) return Result::kNotOwner;
  // relaxed: ordered before the counter below by its release.
  row->cancel_generation.store(generation, std::memory_order_relaxed);
  // Release: an owner that sees the new count (acquire in CancelRequestCount) also sees
  // the cancel_generation stored above, so one poll of the counter cannot miss it.
  header_->cancel_requests.fetch_add(1, std::memory_order_release);
  return Result::kOk;
}

uint64_t Table::CancelRequestCount() const {
  // Acquire: pairs with the release fetch_add in RequestCancel().
  return header_->cancel_requests.load(std::memory_order_acquire);
}

void Table::FloorWrite(uint32_t slot, const uint8_t* bytes, size_t len) {
  if (slot >= params_.max_tasks || len > params_.data_size) return;
  RowHead* row = RowAt(slot);
  const uint32_t seq = SeqWriteBegin(row->seq);
  StoreBytesAsWords(reinterpret_cast<uint64_t*>(DataField(row)), bytes, len);
  SeqWriteEnd(row->seq, seq);
}

void Table::CountForBenchmark(uint32_t category_index, double duration_seconds) {
  RowBody body{};
  body.category_index = category_index;
  const double now = NowMs();
  body.started_at_ms = now - duration_seconds * 1e3;
  CountCompletion(body, static_cast<uint8_t>(TaskStatus::kFinished), now);
  CategoryEntry* entry = CategoryAt(category_index <= params_.max_categories ? category_index : params_.max_categories);
  // relaxed (these three adds): monotonic statistics, as in Update().
  entry->wait_count.fetch_add(1, std::memory_order_relaxed);
  entry->wait_sum_us.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic only
  WaitBuckets(entry)[0].fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic only
}

// ---------------------------------------------------------------- reads

bool Table::ReadBody(RowHead* row, RowBody* body) const {
  for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
    uint32_t begin;
    if (SeqReadBegin(row->seq, &begin)) {
      LoadWords(reinterpret_cast<uint64_t*>(body), reinterpret_cast<const uint64_t*>(&row->body),
                kRowBodyWords);
      if (SeqReadValidate(row->seq, begin)) return true;
    }
    CpuRelax();
  }
  return false;
}

size_t Table::CopyRecord(uint32_t slot, uint8_t* out, size_t capacity, bool* unreadable,
                         bool* corrupt) {
  RowHead* row = RowAt(slot);
  auto* record = reinterpret_cast<SnapshotRecord*>(out);
  for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
    uint32_t begin;
    if (!SeqReadBegin(row->seq, &begin)) {
      CpuRelax();
      continue;
    }
    RowBody body{};
    LoadWords(reinterpret_cast<uint64_t*>(&body), reinterpret_cast<const uint64_t*>(&row->body),
              kRowBodyWords);
    // The lengths are untrusted until checked: a hostile or torn value could point past
    // the row. name_len and category_len are uint8_t, so at most 255 < kStringFieldBytes.
    const uint32_t untrusted_data_len = body.data_len;
    if (!PlausibleBody(body, params_)) {
      if (!SeqReadValidate(row->seq, begin)) continue;  // torn: retry
      *corrupt = true;
      return 0;
    }
    if (body.generation == 0 || body.status == 0) {
      if (!SeqReadValidate(row->seq, begin)) continue;
      return 0;  // never used
    }
    const size_t strings = body.name_len + body.category_len + untrusted_data_len;
    const size_t total = sizeof(SnapshotRecord) + RoundUp(strings, 8);
    if (total > capacity) return total;  // caller grows the buffer and retries
    uint8_t* p = out + sizeof(SnapshotRecord);
    p = CopyFieldBytes(p, NameField(row), body.name_len);
    p = CopyFieldBytes(p, CategoryField(row), body.category_len);
    CopyFieldBytes(p, DataField(row), untrusted_data_len);
    if (!SeqReadValidate(row->seq, begin)) continue;
    record->generation = static_cast<double>(body.generation);
    record->started_at_ms = body.started_at_ms;
    record->modified_at_ms = body.modified_at_ms;
    record->running_at_ms = body.running_at_ms;
    record->progress = (body.flags & kRowFlagHasProgress) ? body.progress
                                                          : std::numeric_limits<double>::quiet_NaN();
    record->inactivity_timeout_ms = body.inactivity_timeout_ms;
    // relaxed: informational lease; not covered by the row's sequence.
    record->lease_ms = static_cast<double>(row->lease_ms.load(std::memory_order_relaxed));
    record->slot = slot;
    record->pid = body.pid;
    record->category_index = body.category_index;
    record->data_len = untrusted_data_len;
    record->status = body.status;
    record->name_len = body.name_len;
    record->category_len = body.category_len;
    record->flags = body.flags;
    // relaxed: whether the slot is still claimed; a hint for "still running".
    const uint64_t claim = row->claim.load(std::memory_order_relaxed);
    record->claim_pid = ClaimGeneration(claim) == body.generation ? ClaimPid(claim) : 0;
    return total;
  }
  *unreadable = true;
  return 0;
}

size_t Table::CopyRecordPatiently(uint32_t slot, uint8_t* out, size_t capacity,
                                  bool* unreadable, bool* corrupt, double* deadline_ms) {
  size_t n = CopyRecord(slot, out, capacity, unreadable, corrupt);
  while (*unreadable && AwaitWriter(RowAt(slot), deadline_ms)) {
    *unreadable = false;
    n = CopyRecord(slot, out, capacity, unreadable, corrupt);
  }
  return n;
}

Result Table::ReadRow(uint32_t slot, uint8_t* out, size_t capacity, size_t* written,
                      bool* unreadable) {
  if (slot >= params_.max_tasks) return Result::kInvalidSlot;
  bool corrupt = false;
  *unreadable = false;
  double deadline_ms = 0;
  *written = CopyRecordPatiently(slot, out, capacity, unreadable, &corrupt, &deadline_ms);
  if (*written > capacity) *written = 0;  // cannot happen with RecordCapacity() bytes
  if (corrupt) *unreadable = true;
  return Result::kOk;
}

size_t Table::Snapshot(uint8_t* out, size_t capacity, bool* complete, uint32_t* unreadable,
                       uint32_t* corrupt) {
  size_t used = 0;
  size_t needed = 0;
  *complete = true;
  *unreadable = 0;
  *corrupt = 0;
  double deadline_ms = 0;  // one wait budget for the whole snapshot
  for (uint32_t slot = 0; slot < params_.max_tasks; ++slot) {
    bool row_unreadable = false;
    bool row_corrupt = false;
    const size_t room = *complete ? capacity - used : 0;
    const size_t n = CopyRecordPatiently(slot, *complete ? out + used : nullptr, room,
                                         &row_unreadable, &row_corrupt, &deadline_ms);
    if (row_unreadable) ++*unreadable;
    if (row_corrupt) ++*corrupt;
    if (n == 0) continue;
    if (*complete && n <= room) {
      used += n;
      needed += n;
    } else {
      // Out of room: keep measuring so the caller can allocate once.
      *complete = false;
      needed += n;
    }
  }
  return *complete ? used : needed + RecordCapacity();
}

void Table::ScanStats(double now_ms, double* out) {
  const uint32_t categories = params_.max_categories + 1;
  const size_t cells = static_cast<size_t>(categories) * kStatsPerCategory;
  for (size_t i = 0; i < cells; ++i) out[i] = 0;
  for (uint32_t c = 0; c < categories; ++c)
    out[StatsIndex(c, kStatsOldestModified)] = std::numeric_limits<double>::infinity();
  double slots_used = 0, unreadable = 0, corrupt = 0, rows = 0;
  double deadline_ms = 0;  // one wait budget for the whole scan
  for (uint32_t slot = 0; slot < params_.max_tasks; ++slot) {
    RowHead* row = RowAt(slot);
    // relaxed: a count of claimed slots at some moment during the scan.
    if (ClaimPid(row->claim.load(std::memory_order_relaxed)) != 0) slots_used++;
    RowBody body{};
    bool readable = ReadBody(row, &body);
    while (!readable && AwaitWriter(row, &deadline_ms)) readable = ReadBody(row, &body);
    if (!readable) {
      unreadable++;
      continue;
    }
    if (!PlausibleBody(body, params_)) {
      corrupt++;
      continue;
    }
    if (body.generation == 0 || body.status == 0) continue;
    const uint32_t untrusted_index = body.category_index;  // < categories: checked above
    rows++;
    out[StatsIndex(untrusted_index, body.status)] += 1;
    if (!IsFinalStatus(body.status)) {
      double& oldest = out[StatsIndex(untrusted_index, kStatsOldestModified)];
      if (body.modified_at_ms < oldest) oldest = body.modified_at_ms;
      if (body.inactivity_timeout_ms > 0 && now_ms - body.modified_at_ms > body.inactivity_timeout_ms)
        out[StatsIndex(untrusted_index, kStatsOverdue)] += 1;
    }
  }
  out[cells + 0] = slots_used;
  out[cells + 1] = unreadable;
  out[cells + 2] = corrupt;
  out[cells + 3] = rows;
}

// ---------------------------------------------------------------- reclaim

uint32_t Table::ReclaimDead(double now_ms, double lease_timeout_ms) {
  if (read_only()) return 0;
  const OwnerIdentity& self = SelfIdentity();
  const uint32_t self_pid = self.pid;
  uint32_t reclaimed = 0;
  OwnerCheckCache owners;
  for (uint32_t slot = 0; slot < params_.max_tasks; ++slot) {
    RowHead* row = RowAt(slot);
    // Acquire: pairs with the claimer's acq_rel CAS so the body it wrote after claiming
    // is visible (when it got that far) to the reads below.
    uint64_t claim = row->claim.load(std::memory_order_acquire);
    const uint32_t owner_pid = ClaimPid(claim);
    if (owner_pid == 0) continue;
    const uint64_t generation = ClaimGeneration(claim);
    RowBody body{};
    const bool readable = ReadBody(row, &body);
    // relaxed: the lease is compared with the clock only. Claims store it before their
    // CAS (see TryClaimSlot), so it is never older than the claim we loaded above.
    const double lease = static_cast<double>(row->lease_ms.load(std::memory_order_relaxed));
    // A row left mid-write cannot be read consistently. Its identity words (pid, start
    // time, namespace) stay put while an owner updates its row, but a claim writes them
    // one by one after the generation: a row caught inside its claim's first write can
    // pair the new generation and pid with the previous owner's start time. Such a claim
    // has a lease younger than kUnknownOwnerGraceMs, so a mid-write row is judged only
    // once its lease is older than that; then its words are read as they are, trusted
    // only when they match the claim word below.
    if (!readable) {
      if (now_ms - lease < kUnknownOwnerGraceMs) continue;
      LoadWords(reinterpret_cast<uint64_t*>(&body), reinterpret_cast<const uint64_t*>(&row->body),
                kRowBodyWords);
    }
    const bool body_current = readable && body.generation == generation;
    // The body names the claim holder only when it describes the claimed generation and
    // the same pid. Otherwise the holder is an owner that has not written its row yet, or
    // a reclaimer taking the row over from the owner the body still names.
    const bool identity_known =
        body.generation == generation && (body.pid & kClaimPidMask) == owner_pid;
    if (identity_known && body.pid == self.pid && body.start_time == self.start_time &&
        body.pid_namespace == self.pid_namespace) {
      continue;  // our own row
    }
    // An earlier process with our pid is dead (its identity differs: checked below); with
    // the identity unknown, this may be our own row between its claim and its first write.
    if (!identity_known && owner_pid == (self_pid & kClaimPidMask)) continue;
    if (identity_known) {
      const OwnerIdentity owner{body.pid, body.start_time, body.pid_namespace};
      if (owners.Check(owner, lease, now_ms, lease_timeout_ms) != Liveness::kDead) continue;
    } else {
      // Only the claim word's pid is known, and it names the holder only if that holder
      // is in our pid namespace. A claim stores the lease before its CAS, so a live
      // holder of any namespace that has not written its row yet has a lease younger
      // than kUnknownOwnerGraceMs; only past that is the pid check trusted.
      if (now_ms - lease < kUnknownOwnerGraceMs) continue;
      if (owners.Check(OwnerIdentity{owner_pid, 0, 0}, lease, now_ms, lease_timeout_ms) !=
          Liveness::kDead) {
        continue;
      }
    }
    // Take over the row: after this CAS we are its single writer. acq_rel: acquire pairs
    // with the dead owner's last release so we continue from its `seq`; relaxed on
    // failure: the row changed under us (released or taken by another reclaimer).
    const uint64_t ours = MakeClaim(generation, self_pid);
    if (!row->claim.compare_exchange_strong(claim, ours, std::memory_order_acq_rel, std::memory_order_relaxed)) {  // see above
      continue;
    }
    if (body_current && !IsFinalStatus(body.status)) {
      char data[192];
      const size_t len =
          OwnerDiedMarker(data, params_.data_size, body.pid,
                          body.status == 1 ? "while the task was pending" : "while the task was running");
      const double now = NowMs();
      const uint32_t seq = SeqWriteBegin(row->seq);
      StoreField(row->body.status, static_cast<uint8_t>(TaskStatus::kFailed));
      StoreField(row->body.modified_at_ms, now);
      StoreField(row->body.flags, static_cast<uint8_t>(body.flags | kRowFlagReclaimed));
      StoreBytesAsWords(reinterpret_cast<uint64_t*>(DataField(row)),
                        reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
      StoreField(row->body.data_len, static_cast<uint32_t>(len));
      SeqWriteEnd(row->seq, seq);
      CountCompletion(body, static_cast<uint8_t>(TaskStatus::kFailed), now);
      AddDropped(DropReason::kOwnerDied, 1);
      reclaimed++;
    } else if (!readable) {
      // The owner died inside a write: the sequence is stuck odd. Close it so readers see
      // the row again, as a task of the claimed generation that failed with the reason.
      // Name and category are whatever the owner managed to store. Its completion is not
      // counted: whether the claim had counted the start is unknown.
      char data[192];
      const size_t len =
          OwnerDiedMarker(data, params_.data_size, owner_pid, "while writing the task's row");
      const uint32_t seq = SeqWriteBegin(row->seq);
      StoreField(row->body.generation, generation);
      StoreField(row->body.pid, owner_pid);
      StoreField(row->body.status, static_cast<uint8_t>(TaskStatus::kFailed));
      StoreField(row->body.modified_at_ms, NowMs());
      StoreField(row->body.flags, static_cast<uint8_t>(LoadField(row->body.flags) | kRowFlagReclaimed));
      StoreBytesAsWords(reinterpret_cast<uint64_t*>(DataField(row)),
                        reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
      StoreField(row->body.data_len, static_cast<uint32_t>(len));
      SeqWriteEnd(row->seq, seq);
      AddDropped(DropReason::kOwnerDied, 1);
      reclaimed++;
    }
    ReleaseSlot(slot, generation, self_pid);
  }
  return reclaimed;
}

}  // namespace ott
