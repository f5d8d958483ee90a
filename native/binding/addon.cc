// Module entry: exports the NativeTable class, the static unlink() and the layout
// constants that lib/internal/native.ts checks on load. node-addon-api modules are
// context-aware, so every worker thread gets its own class and its own mappings.
#include <napi.h>

#include "../core/layout.h"
#include "../core/shm_mapping.h"
#include "table_wrap.h"

namespace {

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ott::SysFailure failure;
  const ott::Result r = ott::ShmMapping::Unlink(info[0].As<Napi::String>().Utf8Value(), &failure);
  Napi::Object out = Napi::Object::New(env);
  out.Set("status", static_cast<int32_t>(r));
  out.Set("errno", failure.error_number);
  out.Set("syscall", failure.syscall);
  return out;
}

Napi::Value PathFor(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(),
                           ott::ShmMapping::PathFor(info[0].As<Napi::String>().Utf8Value(),
                                                    info[1].As<Napi::String>().Utf8Value()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeTable", ott::TableWrap::Define(env));
  exports.Set("unlink", Napi::Function::New(env, Unlink, "unlink"));
  exports.Set("pathFor", Napi::Function::New(env, PathFor, "pathFor"));
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("layoutVersion", ott::kLayoutVersion);
  constants.Set("headerBytes", ott::kHeaderBytes);
  constants.Set("rowHeadBytes", ott::kRowHeadBytes);
  constants.Set("maxNameBytes", ott::kMaxNameBytes);
  constants.Set("maxBuckets", ott::kMaxBuckets);
  constants.Set("maxTasksLimit", ott::kMaxTasksLimit);
  constants.Set("minDataSize", ott::kMinDataSize);
  constants.Set("maxDataSize", ott::kMaxDataSize);
  constants.Set("maxCategoriesLimit", ott::kMaxCategoriesLimit);
  constants.Set("snapshotRecordBytes", static_cast<uint32_t>(sizeof(ott::SnapshotRecord)));
  constants.Set("statsPerCategory", ott::kStatsPerCategory);
  constants.Set("statsTrailer", ott::kStatsTrailer);
  constants.Set("isLinux",
#if defined(__linux__)
                true
#else
                false
#endif
  );
  exports.Set("constants", constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(observable_task_table, Init)
