// TableWrap: the JS surface of core::Table (see table_wrap.h). Arguments are validated
// in TypeScript before they get here; this file only unpacks them. Hot-path methods
// (update, progress) return a small Result number instead of throwing.
#include "table_wrap.h"

#include <pthread.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstring>

#include "../core/row_io.h"

namespace ott {
namespace {

constexpr size_t kStringScratchBytes = 1024;  // longer names are cut to 255 bytes anyway

inline uint64_t ToGeneration(const Napi::Value& v) {
  const double d = v.As<Napi::Number>().DoubleValue();
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

template <typename T>
T* TypedData(const Napi::Value& v, size_t* length) {
  Napi::TypedArray array = v.As<Napi::TypedArray>();
  *length = array.ByteLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
}

// True on the process's initial thread, where Node runs its main environment: there an
// environment ends only when the process exits.
bool OnMainThread() {
#if defined(__linux__)
  return syscall(SYS_gettid) == getpid();
#elif defined(__APPLE__)
  return pthread_main_np() != 0;
#else
  return false;
#endif
}

// The data of a row ended because its environment went away, in the form lib/ writes at
// a normal exit ({"reason":"process exited","pid":N}). Always fits the smallest dataSize.
size_t TeardownMarker(char (&out)[96]) {
  const int len = std::snprintf(out, sizeof(out), "{\"reason\":\"%s\",\"pid\":%u}",
                                OnMainThread() ? "process exited" : "worker terminated",
                                static_cast<unsigned>(getpid()));
  return len > 0 && static_cast<size_t>(len) < sizeof(out) ? static_cast<size_t>(len) : 0;
}
static_assert(sizeof("{\"reason\":\"worker terminated\",\"pid\":4294967295}") - 1 <= kMinDataSize,
              "the teardown marker must fit the smallest data field");

}  // namespace

Napi::Function TableWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeTable",
                     {
                         InstanceMethod<&TableWrap::JS_open>("open"),
                         InstanceMethod<&TableWrap::JS_close>("close"),
                         InstanceMethod<&TableWrap::JS_layout>("layout"),
                         InstanceMethod<&TableWrap::JS_setScratch>("setScratch"),
                         InstanceMethod<&TableWrap::JS_categoryIndex>("categoryIndex"),
                         InstanceMethod<&TableWrap::JS_claim>("claim"),
                         InstanceMethod<&TableWrap::JS_update>("update"),
                         InstanceMethod<&TableWrap::JS_progress>("progress"),
                         InstanceMethod<&TableWrap::JS_heartbeat>("heartbeat"),
                         InstanceMethod<&TableWrap::JS_cancelRequested>("cancelRequested"),
                         InstanceMethod<&TableWrap::JS_cancelRequestCount>("cancelRequestCount"),
                         InstanceMethod<&TableWrap::JS_requestCancel>("requestCancel"),
                         InstanceMethod<&TableWrap::JS_addDropped>("addDropped"),
                         InstanceMethod<&TableWrap::JS_readDropped>("readDropped"),
                         InstanceMethod<&TableWrap::JS_readRow>("readRow"),
                         InstanceMethod<&TableWrap::JS_snapshot>("snapshot"),
                         InstanceMethod<&TableWrap::JS_scanStats>("scanStats"),
                         InstanceMethod<&TableWrap::JS_readCategory>("readCategory"),
                         InstanceMethod<&TableWrap::JS_reclaimDead>("reclaimDead"),
                         InstanceMethod<&TableWrap::JS_floorWrite>("floorWrite"),
                         InstanceMethod<&TableWrap::JS_countForBenchmark>("countForBenchmark"),
                     });
}

TableWrap::TableWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TableWrap>(info) {
  name_buffer_.resize(kStringScratchBytes);
  category_buffer_.resize(kStringScratchBytes);
}

TableWrap::~TableWrap() {
  // lib/ keeps a handle reachable while it owns rows, and at teardown the cleanup hook
  // runs before the finalizers; a handle collected with rows still claimed ends them too.
  EndOwnedRows();
  CloseTable();
}

bool TableWrap::StartTracking(Napi::Env env) {
  if (owned_ == nullptr) {
    const uint32_t slots = table_.params().max_tasks;
    owned_.reset(static_cast<uint64_t*>(std::calloc(slots, sizeof(uint64_t))));
    if (owned_ == nullptr) return false;  // rows then end only by reclaim, as before
    owned_slots_ = slots;
    owned_count_ = 0;
  }
  if (hook_env_ == nullptr && napi_add_env_cleanup_hook(env, OnEnvironmentTeardown, this) == napi_ok)
    hook_env_ = env;
  return true;
}

void TableWrap::OnEnvironmentTeardown(void* arg) {
  auto* self = static_cast<TableWrap*>(arg);
  self->hook_env_ = nullptr;  // Node drops a hook before running it
  self->EndOwnedRows();
}

void TableWrap::EndOwnedRows() {
  if (owned_count_ == 0 || !table_.is_open() || table_.read_only()) return;
  char data[96];
  const size_t len = TeardownMarker(data);
  for (uint32_t slot = 0; slot < owned_slots_ && owned_count_ > 0; ++slot) {
    const uint64_t generation = owned_[slot];
    if (generation == 0) continue;
    UpdateArgs args;
    args.slot = slot;
    args.generation = generation;
    args.status = static_cast<uint8_t>(TaskStatus::kCancelled);
    args.data = reinterpret_cast<const uint8_t*>(data);
    args.data_len = len;
    args.set_data = true;
    // Counts the completion and releases the slot, as any final update does. kNotOwner
    // when the row is no longer ours (reclaimed meanwhile): then there is nothing to end.
    table_.Update(args);
    owned_[slot] = 0;
    --owned_count_;
  }
}

void TableWrap::CloseTable() {
  if (hook_env_ != nullptr) {
    napi_remove_env_cleanup_hook(hook_env_, OnEnvironmentTeardown, this);
    hook_env_ = nullptr;
  }
  owned_.reset();
  owned_slots_ = 0;
  owned_count_ = 0;
  table_.Close();
}

bool TableWrap::EnsureOpen(Napi::Env env) {
  if (table_.is_open()) return true;
  Napi::Error::New(env, "native table is closed").ThrowAsJavaScriptException();
  return false;
}

size_t TableWrap::CopyUtf8(napi_value value, std::vector<char>& buffer) {
  size_t length = 0;
  napi_get_value_string_utf8(Env(), value, buffer.data(), buffer.size(), &length);
  return length;
}

Napi::Value TableWrap::JS_open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OpenOptions options;
  options.path = info[0].As<Napi::String>().Utf8Value();
  options.read_only = info[1].As<Napi::Boolean>().Value();
  options.create = info[2].As<Napi::Boolean>().Value();
  options.mode = info[3].As<Napi::Number>().Uint32Value();
  options.params.max_tasks = info[4].As<Napi::Number>().Uint32Value();
  options.params.data_size = info[5].As<Napi::Number>().Uint32Value();
  options.params.max_categories = info[6].As<Napi::Number>().Uint32Value();
  size_t bucket_bytes = 0;
  const double* buckets = TypedData<const double>(info[7], &bucket_bytes);
  const size_t bucket_count = std::min<size_t>(bucket_bytes / sizeof(double), kMaxBuckets);
  options.params.bucket_count = static_cast<uint32_t>(bucket_count);
  std::memcpy(options.bucket_bounds, buckets, bucket_count * sizeof(double));

  CloseTable();
  bool created = false;
  OpenFailure failure;
  const Result r = table_.Open(options, &created, &failure);
  if (r == Result::kOk) {
    // napi_get_value_string_utf8 stops before a character that does not fit, so the
    // buffer has room for data_size bytes plus a whole 4-byte character and the NUL: a
    // string longer than data_size then always fills more than data_size bytes of it.
    data_buffer_.assign(table_.params().data_size + 5, 0);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("status", static_cast<int32_t>(r));
  out.Set("created", created);
  out.Set("errno", failure.error_number);
  out.Set("syscall", failure.syscall);
  out.Set("field", failure.field);
  out.Set("existing", failure.existing);
  out.Set("expected", failure.expected);
  out.Set("bytesNeeded", static_cast<double>(failure.bytes_needed));
  out.Set("bytesAvailable", static_cast<double>(failure.bytes_available));
  return out;
}

Napi::Value TableWrap::JS_close(const Napi::CallbackInfo& info) {
  CloseTable();
  scratch_ = nullptr;
  scratch_ref_.Reset();
  return info.Env().Undefined();
}

Napi::Value TableWrap::JS_layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  const LayoutParams& p = table_.params();
  const TableHeader& h = table_.header();
  Napi::Object out = Napi::Object::New(env);
  out.Set("maxTasks", p.max_tasks);
  out.Set("dataSize", p.data_size);
  out.Set("maxCategories", p.max_categories);
  Napi::Array buckets = Napi::Array::New(env, p.bucket_count);
  for (uint32_t i = 0; i < p.bucket_count; ++i) buckets.Set(i, table_.bucket_bounds()[i]);
  out.Set("durationBuckets", buckets);
  const LayoutSizes sizes = ComputeLayout(p);
  out.Set("totalBytes", static_cast<double>(sizes.total_bytes));
  out.Set("rowBytes", sizes.row_bytes);
  out.Set("categoryBytes", sizes.category_bytes);
  out.Set("rowsOffset", static_cast<double>(sizes.rows_offset));
  out.Set("headerBytes", kHeaderBytes);
  out.Set("layoutVersion", h.layout_version);
  out.Set("createdAtMs", h.created_at_ms);
  out.Set("creatorPid", h.creator_pid);
  out.Set("mappedBytes", static_cast<double>(table_.mapped_bytes()));
  out.Set("readOnly", table_.read_only());
  return out;
}

Napi::Value TableWrap::JS_setScratch(const Napi::CallbackInfo& info) {
  Napi::Float64Array array = info[0].As<Napi::Float64Array>();
  scratch_ref_ = Napi::Persistent(array);
  scratch_ = array.Data();
  return info.Env().Undefined();
}

Napi::Value TableWrap::JS_categoryIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  const size_t len = CopyUtf8(info[0], category_buffer_);
  const auto* bytes = reinterpret_cast<const uint8_t*>(category_buffer_.data());
  const size_t cut = Utf8PrefixLength(bytes, len, kMaxNameBytes);
  return Napi::Number::New(env, table_.CategoryIndex(bytes, cut));
}

Napi::Value TableWrap::JS_claim(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  const size_t name_len = CopyUtf8(info[0], name_buffer_);
  const size_t category_len = CopyUtf8(info[1], category_buffer_);
  const auto* name = reinterpret_cast<const uint8_t*>(name_buffer_.data());
  const auto* category = reinterpret_cast<const uint8_t*>(category_buffer_.data());
  const size_t name_cut = Utf8PrefixLength(name, name_len, kMaxNameBytes);
  const size_t category_cut = Utf8PrefixLength(category, category_len, kMaxNameBytes);
  const uint32_t category_index = info[2].As<Napi::Number>().Uint32Value();
  const double timeout_ms = info[3].As<Napi::Number>().DoubleValue();
  const bool tracked = owned_ != nullptr || StartTracking(env);
  uint32_t slot = 0;
  uint64_t generation = 0;
  const Result r = table_.Claim(name, name_cut, category, category_cut,
                                std::min(category_index, table_.params().max_categories),
                                timeout_ms, &slot, &generation);
  if (r != Result::kOk) return Napi::Number::New(env, -static_cast<double>(r));
  if (tracked) Track(slot, generation);  // slot < max_tasks == owned_slots_
  if (scratch_ != nullptr) {
    scratch_[0] = static_cast<double>(generation);
    scratch_[1] = (name_cut < name_len ? 1 : 0) + (category_cut < category_len ? 2 : 0);
  }
  return Napi::Number::New(env, slot);
}

Napi::Value TableWrap::JS_update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  UpdateArgs args;
  args.slot = info[0].As<Napi::Number>().Uint32Value();
  args.generation = ToGeneration(info[1]);
  args.status = static_cast<uint8_t>(info[2].As<Napi::Number>().Uint32Value());
  if (info[3].IsString()) {
    const size_t len = CopyUtf8(info[3], data_buffer_);
    // See JS_open: a copy of more than data_size bytes means the string was too long.
    if (len > table_.params().data_size) {
      return Napi::Number::New(env, static_cast<int32_t>(Result::kDataTooLarge));
    }
    args.data = reinterpret_cast<const uint8_t*>(data_buffer_.data());
    args.data_len = len;
    args.set_data = true;
  }
  if (info[4].IsNumber()) {
    args.progress = info[4].As<Napi::Number>().DoubleValue();
    args.set_progress = true;
  }
  const Result r = table_.Update(args);
  // A final status released the slot; kNotOwner: it is no longer ours. Either way the
  // teardown hook has nothing to end there.
  if (r == Result::kNotOwner || (r == Result::kOk && IsFinalStatus(args.status)))
    Untrack(args.slot, args.generation);
  return Napi::Number::New(env, static_cast<int32_t>(r));
}

Napi::Value TableWrap::JS_progress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  const Result r = table_.Progress(info[0].As<Napi::Number>().Uint32Value(), ToGeneration(info[1]),
                                   info[2].As<Napi::Number>().DoubleValue());
  return Napi::Number::New(env, static_cast<int32_t>(r));
}

Napi::Value TableWrap::JS_heartbeat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  table_.Heartbeat(info[0].As<Napi::Number>().Uint32Value(), ToGeneration(info[1]),
                   info[2].As<Napi::Number>().DoubleValue());
  return env.Undefined();
}

Napi::Value TableWrap::JS_cancelRequested(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  return Napi::Boolean::New(
      env, table_.CancelRequested(info[0].As<Napi::Number>().Uint32Value(), ToGeneration(info[1])));
}

Napi::Value TableWrap::JS_cancelRequestCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(table_.CancelRequestCount()));
}

Napi::Value TableWrap::JS_requestCancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  const Result r =
      table_.RequestCancel(info[0].As<Napi::Number>().Uint32Value(), ToGeneration(info[1]));
  return Napi::Number::New(env, static_cast<int32_t>(r));
}

Napi::Value TableWrap::JS_addDropped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  const uint32_t reason = info[0].As<Napi::Number>().Uint32Value();
  if (reason < kDropReasonSlots && !table_.read_only()) {
    table_.AddDropped(static_cast<DropReason>(reason), info[1].As<Napi::Number>().Uint32Value());
  }
  return env.Undefined();
}

Napi::Value TableWrap::JS_readDropped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  size_t bytes = 0;
  double* out = TypedData<double>(info[0], &bytes);
  const size_t n = std::min<size_t>(bytes / sizeof(double), kDropReasonSlots);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(table_.Dropped(static_cast<DropReason>(i)));
  return env.Undefined();
}

Napi::Value TableWrap::JS_readRow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  size_t capacity = 0;
  uint8_t* out = TypedData<uint8_t>(info[1], &capacity);
  if (capacity < table_.RecordCapacity() || reinterpret_cast<uintptr_t>(out) % 8 != 0) {
    Napi::RangeError::New(env, "readRow buffer too small or misaligned").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t written = 0;
  bool unreadable = false;
  const Result r =
      table_.ReadRow(info[0].As<Napi::Number>().Uint32Value(), out, capacity, &written, &unreadable);
  if (r != Result::kOk) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, unreadable ? -1.0 : static_cast<double>(written));
}

Napi::Value TableWrap::JS_snapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  size_t capacity = 0;
  uint8_t* out = TypedData<uint8_t>(info[0], &capacity);
  if (reinterpret_cast<uintptr_t>(out) % 8 != 0) {
    Napi::RangeError::New(env, "snapshot buffer misaligned").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool complete = false;
  uint32_t unreadable = 0, corrupt = 0;
  const size_t n = table_.Snapshot(out, capacity, &complete, &unreadable, &corrupt);
  if (scratch_ != nullptr) {
    scratch_[2] = unreadable;
    scratch_[3] = corrupt;
  }
  return Napi::Number::New(env, complete ? static_cast<double>(n) : -static_cast<double>(n));
}

Napi::Value TableWrap::JS_scanStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  size_t bytes = 0;
  double* out = TypedData<double>(info[1], &bytes);
  const size_t needed =
      (static_cast<size_t>(table_.params().max_categories) + 1) * kStatsPerCategory + kStatsTrailer;
  if (bytes / sizeof(double) < needed) {
    Napi::RangeError::New(env, "scanStats buffer too small").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  table_.ScanStats(info[0].As<Napi::Number>().DoubleValue(), out);
  return env.Undefined();
}

Napi::Value TableWrap::JS_readCategory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  size_t bytes = 0;
  double* out = TypedData<double>(info[1], &bytes);
  if (bytes / sizeof(double) < Table::CategoryCounterCount(table_.params().bucket_count)) {
    Napi::RangeError::New(env, "readCategory buffer too small").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  char name[kStringFieldBytes];
  uint32_t name_len = 0;
  if (!table_.ReadCategory(info[0].As<Napi::Number>().Uint32Value(), name, &name_len, out)) {
    return env.Undefined();
  }
  return Napi::String::New(env, name, name_len);
}

Napi::Value TableWrap::JS_reclaimDead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env)) return env.Undefined();
  return Napi::Number::New(env, table_.ReclaimDead(info[0].As<Napi::Number>().DoubleValue(),
                                                   info[1].As<Napi::Number>().DoubleValue()));
}

Napi::Value TableWrap::JS_floorWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env) || table_.read_only()) return env.Undefined();
  size_t len = 0;
  const uint8_t* bytes = TypedData<const uint8_t>(info[1], &len);
  table_.FloorWrite(info[0].As<Napi::Number>().Uint32Value(), bytes, len);
  return env.Undefined();
}

Napi::Value TableWrap::JS_countForBenchmark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnsureOpen(env) || table_.read_only()) return env.Undefined();
  table_.CountForBenchmark(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().DoubleValue());
  return env.Undefined();
}

}  // namespace ott
