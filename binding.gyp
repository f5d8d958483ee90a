{
  "variables": {
    # -Werror in CI: node-gyp rebuild --werror=1
    "werror%": 0,
    # C++ torture driver for sanitizer runs: node-gyp rebuild --debug --with_stress=1
    "with_stress%": 0,
    # AddressSanitizer build of the addon, loaded with LD_PRELOAD=libasan.so by
    # scripts/asan-check.sh (which builds it in a staged copy): node-gyp rebuild --asan=1
    "asan%": 0,
  },
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++20", "-fvisibility=hidden", "-Wall", "-Wextra", "-O2"],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
      "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra"],
      "MACOSX_DEPLOYMENT_TARGET": "11.0",
    },
    "conditions": [
      ["werror==1", {"cflags_cc": ["-Werror"]}],
      ["asan==1", {
        "cflags_cc": ["-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-O1"],
        "ldflags": ["-fsanitize=address"],
      }],
    ],
  },
  "targets": [
    {
      "target_name": "observable_task_table",
      "sources": [
        "native/binding/addon.cc",
        "native/binding/table_wrap.cc",
        "native/core/owner_identity.cc",
        "native/core/shm_mapping.cc",
        "native/core/table.cc",
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        # NAPI 8 is the lowest version with napi_add_env_cleanup_hook semantics and
        # instance data that we rely on for worker threads; Node 20 provides 9.
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        # worker.terminate() stops a worker's environment from another thread; a call
        # into the addon that races with it finds N-API unable to throw (napi_unwrap
        # fails first), which without this define is a fatal error of the whole process.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
      ],
      "conditions": [
        ["OS=='linux'", {"libraries": ["-lrt"]}],
      ],
    },
  ],
  "conditions": [
    ["with_stress==1", {
      "targets": [
        {
          "target_name": "table_stress",
          "type": "executable",
          "sources": [
            "native/tools/table_stress.cc",
            "native/core/owner_identity.cc",
            "native/core/shm_mapping.cc",
            "native/core/table.cc",
          ],
          "cflags_cc": ["-fsanitize=thread", "-g", "-O1"],
          "ldflags": ["-fsanitize=thread", "-lpthread"],
        },
      ],
    }],
  ],
}
