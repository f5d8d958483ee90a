// Napi::ObjectWrap around core::Table: unpacks arguments already validated by
// lib/internal/native.ts, calls the core and returns plain numbers or objects. Errors are
// returned as Result codes; lib/ turns them into the exported error classes, so this
// file never builds a user-facing message. Pairs with table_wrap.cc.
#pragma once

#include <napi.h>

#include <vector>

#include "../core/table.h"

namespace ott {

class TableWrap : public Napi::ObjectWrap<TableWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit TableWrap(const Napi::CallbackInfo& info);

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

  Table table_;
  std::vector<char> data_buffer_;
  std::vector<char> name_buffer_;
  std::vector<char> category_buffer_;
  double* scratch_ = nullptr;  // points into a Float64Array kept alive by scratch_ref_
  Napi::Reference<Napi::Float64Array> scratch_ref_;
};

}  // namespace ott
