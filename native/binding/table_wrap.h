// Napi::ObjectWrap around core::Table: unpacks arguments already validated by
// lib/internal/native.ts, calls the core and returns plain numbers or objects. Errors are
// returned as Result codes; lib/ turns them into the exported error classes, so this
// file never builds a user-facing message. Pairs with table_wrap.cc.
//
// Each wrap remembers the rows it claimed and has not released yet. When its environment
// is torn down (a worker ends, including by worker.terminate(), which runs no JavaScript
// in the worker and so no 'exit' handler), an environment cleanup hook ends those rows
// `cancelled` and frees their slots; nobody else would, since the process lives on.
#pragma once

#include <napi.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "../core/table.h"

namespace ott {

class TableWrap : public Napi::ObjectWrap<TableWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit TableWrap(const Napi::CallbackInfo& info);
  ~TableWrap() override;

 private:
  Napi::Value JS_open(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_layout(const Napi::CallbackInfo& info);
  Napi::Value JS_setScratch(const Napi::CallbackInfo& info);
  Napi::Value JS_categoryIndex(const Napi::CallbackInfo& info);
  Napi::Value JS_claim(const Napi::CallbackInfo& info);
  Napi::Value JS_update(const Napi::CallbackInfo& info);
  Napi::Value JS_progress(const Napi::CallbackInfo& info);
  Napi::Value JS_heartbeat(const Napi::CallbackInfo& info);
  Napi::Value JS_cancelRequested(const Napi::CallbackInfo& info);
  Napi::Value JS_cancelRequestCount(const Napi::CallbackInfo& info);
  Napi::Value JS_requestCancel(const Napi::CallbackInfo& info);
  Napi::Value JS_addDropped(const Napi::CallbackInfo& info);
  Napi::Value JS_readDropped(const Napi::CallbackInfo& info);
  Napi::Value JS_readRow(const Napi::CallbackInfo& info);
  Napi::Value JS_snapshot(const Napi::CallbackInfo& info);
  Napi::Value JS_scanStats(const Napi::CallbackInfo& info);
  Napi::Value JS_readCategory(const Napi::CallbackInfo& info);
  Napi::Value JS_reclaimDead(const Napi::CallbackInfo& info);
  Napi::Value JS_floorWrite(const Napi::CallbackInfo& info);
  Napi::Value JS_countForBenchmark(const Napi::CallbackInfo& info);

  // Copies a JS string as UTF-8 into `buffer` (capacity bytes, NUL included) and returns
  // the length; a result of capacity - 1 means the string may have been longer.
  size_t CopyUtf8(napi_value value, std::vector<char>& buffer);
  // Throws a plain Error when the table is closed (lib/ checks first; this is a backstop).
  bool EnsureOpen(Napi::Env env);

  // Bookkeeping of claimed rows (see the top of this file). Track() on a claim, Untrack()
  // once the row is released or no longer ours; both are a store and an add.
  bool StartTracking(Napi::Env env);
  void Track(uint32_t slot, uint64_t generation) {
    if (owned_[slot] == 0) ++owned_count_;
    owned_[slot] = generation;
  }
  void Untrack(uint32_t slot, uint64_t generation) {
    if (owned_ != nullptr && slot < owned_slots_ && owned_[slot] == generation) {
      owned_[slot] = 0;
      --owned_count_;
    }
  }
  // Ends every tracked row `cancelled` (counted, slot released), as at environment teardown.
  void EndOwnedRows();
  // Unmaps the table, forgets the tracked rows and removes the cleanup hook.
  void CloseTable();
  static void OnEnvironmentTeardown(void* wrap);

  struct FreeDeleter {
    void operator()(uint64_t* p) const { std::free(p); }
  };

  Table table_;
  // owned_[slot]: generation of the task this wrap claimed in `slot` and has not released
  // (0: none; generations start at 1). Allocated with calloc on the first claim, so a
  // table only read (a collector) pays nothing and untouched pages stay unallocated.
  std::unique_ptr<uint64_t[], FreeDeleter> owned_;
  uint32_t owned_slots_ = 0;
  uint32_t owned_count_ = 0;
  napi_env hook_env_ = nullptr;  // set while OnEnvironmentTeardown is registered
  std::vector<char> data_buffer_;
  std::vector<char> name_buffer_;
  std::vector<char> category_buffer_;
  double* scratch_ = nullptr;  // points into a Float64Array kept alive by scratch_ref_
  Napi::Reference<Napi::Float64Array> scratch_ref_;
};

}  // namespace ott
