#!/usr/bin/env bash
# Runs the native-facing fuzzers once with the addon built under AddressSanitizer (issue 6,
# item 3): the hostile-rows and hostile-header fuzzers and a cross-process smoke (forked
# writers updating rows while this process reads them). Fails on any ASan report, crash
# or failed check. Linux only; needs g++ with libasan (Debian: part of g++).
#
# The ASan addon is built in a staged copy of the package (a temporary directory), so the
# normal build/Release is never replaced: other processes keep loading it, and nothing has
# to be rebuilt afterwards. Node itself is not instrumented; libasan is preloaded so that
# its allocator and interceptors are in place before the addon loads.
#
# What it can and cannot see: ASan checks every access the addon makes to heap and stack
# memory (record, scratch and name buffers, N-API arrays) and reports a read or write past
# the end of the mapping with its stack. It cannot see an access that stays inside the
# shared mapping but outside the row it belongs to (mmap memory has no redzones); the
# fuzzers' own invariants (untouched rows read unchanged, bad rows skipped and counted)
# cover that.
#
# Usage: scripts/asan-check.sh [--self-test]
#   --self-test  builds a copy with ReadCategory's name-length check removed and expects
#                ASan to report it (proves the check works; the repository is not touched).
# Environment: ASAN_ROWS_CASES (default 2000), ASAN_HEADER_CASES (default 300),
#              HOSTILE_SEED (default random), ROW_FUZZ_SECONDS (default 30; the libFuzzer
#              harness native/tools/row_fuzz.cc runs only where clang++ can build it),
#              KEEP_ASAN_STAGE=1 to keep the staged copy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "$(uname -s)" != Linux ]; then
  echo "asan-check: Linux only (POSIX shm under /dev/shm, libasan); skipping"
  exit 0
fi

SELF_TEST=0
if [ "${1:-}" = --self-test ]; then SELF_TEST=1; fi

CXX="${CXX:-g++}"
LIBASAN="$("$CXX" -print-file-name=libasan.so)"
if [ ! -f "$LIBASAN" ]; then
  echo "asan-check: $CXX has no libasan.so ($LIBASAN); install g++ (Debian: apt-get install g++)" >&2
  exit 1
fi

ROWS_CASES="${ASAN_ROWS_CASES:-2000}"
HEADER_CASES="${ASAN_HEADER_CASES:-300}"
SEED="${HOSTILE_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
STARTED=$SECONDS

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/ott-asan.XXXXXX")"
SHM_PREFIX="ott-asan-$$"
cleanup() {
  rm -f /dev/shm/"$SHM_PREFIX"-* 2>/dev/null || true
  if [ "${KEEP_ASAN_STAGE:-0}" != 1 ]; then rm -rf "$STAGE"; fi
}
trap cleanup EXIT

step() {
  printf '\n---- asan-check [%ss] %s\n' "$((SECONDS - STARTED))" "$*"
}

# ---------------------------------------------------------------- stage and build

if [ ! -f dist/lib/index.js ]; then
  step "dist/ missing: npm run build:ts"
  npm run build:ts
fi

step "staging a copy in $STAGE"
cp -r package.json binding.gyp native dist "$STAGE"/
mkdir -p "$STAGE/test"
cp -r test/fixtures "$STAGE/test/"
ln -s "$ROOT/node_modules" "$STAGE/node_modules"

if [ "$SELF_TEST" = 1 ]; then
  step "self-test: removing ReadCategory's name-length check in the staged copy"
  CHECK='if (untrusted_len > kMaxNameBytes) return false;  // hostile: would read past name[]'
  if ! grep -qF "$CHECK" "$STAGE/native/core/table.cc"; then
    echo "asan-check: the self-test patch no longer applies; update it to the current check" >&2
    exit 1
  fi
  grep -vF "$CHECK" "$STAGE/native/core/table.cc" >"$STAGE/table.cc" &&
    mv "$STAGE/table.cc" "$STAGE/native/core/table.cc"
fi

step "building the addon with -fsanitize=address"
# Through npx, so that npm's configuration (nodedir, proxies) applies as it does to
# `npm run build:native`.
if ! (cd "$STAGE" && npx --no-install node-gyp rebuild --asan=1 >"$STAGE/build.log" 2>&1); then
  tail -40 "$STAGE/build.log" >&2
  exit 1
fi
ADDON="$STAGE/build/Release/observable_task_table.node"
# (Not `ldd | grep -q`: grep exits at the first match and pipefail then sees SIGPIPE.)
ldd "$ADDON" >"$STAGE/ldd.txt"
if ! grep -q libasan "$STAGE/ldd.txt"; then
  echo "asan-check: $ADDON is not linked against libasan" >&2
  exit 1
fi

# ---------------------------------------------------------------- run

REPORTS="$STAGE/asan-reports"
mkdir -p "$REPORTS"
# detect_leaks=0: node is not instrumented and keeps memory until exit by design.
# log_path: one report file per process (children included), checked below.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:log_path=$REPORTS/asan"
FAILED=0

# run <what> <command...>: runs under ASan; a failure is recorded, not fatal, so that
# every part runs and every report is shown.
run() {
  local what="$1"
  shift
  step "$what"
  local status=0
  LD_PRELOAD="$LIBASAN" "$@" >"$STAGE/out.txt" 2>"$STAGE/err.txt" || status=$?
  tail -1 "$STAGE/out.txt"
  if [ "$status" -ne 0 ]; then
    echo "asan-check: $what failed with status $status; last lines:" >&2
    tail -5 "$STAGE/out.txt" >&2
    tail -20 "$STAGE/err.txt" >&2
    FAILED=1
  elif grep -q '"violations":[1-9]' "$STAGE/out.txt"; then
    echo "asan-check: $what reported violations" >&2
    grep '^{"violation"' "$STAGE/out.txt" | head -5 >&2
    FAILED=1
  fi
}

cd "$STAGE"
run "hostile rows: $ROWS_CASES cases, seed $SEED" \
  node test/fixtures/hostile-rows-fuzz.mjs "$SEED" "$ROWS_CASES" 100 \
  "$SHM_PREFIX-rows-a" "$SHM_PREFIX-rows-b" "$SHM_PREFIX-rows-c"
if [ "$SELF_TEST" = 0 ]; then
  run "hostile headers: $HEADER_CASES cases, seed $SEED" \
    node test/fixtures/hostile-header-fuzz.mjs "$SHM_PREFIX-header" "$SEED" "$HEADER_CASES"

  cat >"$STAGE/cross-process-smoke.mjs" <<'EOF'
// Forks writers (test/fixtures/cross-process-writer.mjs) that update checksummed rows as
// fast as they can while this process iterates the table and reads its metrics.
import { fork } from 'node:child_process';
import { once } from 'node:events';

import { ObservableTaskTable } from './dist/lib/index.js';
import { decodeData } from './test/fixtures/checksummed-data.mjs';

const name = process.argv[2];
const WRITERS = 3;
const table = ObservableTaskTable.open({ name, maxTasks: 64 });
const children = [];
for (let w = 0; w < WRITERS; w++) {
  const child = fork('test/fixtures/cross-process-writer.mjs', [name, String(w), '8', '20000']);
  children.push({ child, ready: once(child, 'message'), exit: once(child, 'exit') });
}
await Promise.all(children.map((c) => c.ready));
for (const { child } of children) child.send('go');
let reads = 0;
let running = WRITERS;
for (const c of children) c.exit.then(() => running--);
while (running > 0) {
  for (const [, row] of table) {
    const data = row.observableTaskStatusUpdate.data;
    if (data !== null && decodeData(JSON.stringify(data)).error !== undefined)
      throw new Error(`torn row ${row.id}: ${decodeData(JSON.stringify(data)).error}`);
  }
  table.readMetrics();
  reads++;
  await new Promise((resolve) => setImmediate(resolve));
}
for (const { exit } of children) {
  const [code, signal] = await exit;
  if (code !== 0 || signal !== null) throw new Error(`a writer exited ${code ?? signal}`);
}
table.close();
ObservableTaskTable.unlink(name);
console.log(JSON.stringify({ summary: { writers: WRITERS, reads } }));
EOF
  run "cross-process smoke" node cross-process-smoke.mjs "$SHM_PREFIX-smoke"

  # The C++ row decoder under libFuzzer, when clang with its runtime is installed
  # (Debian: clang libclang-rt-14-dev); skipped otherwise.
  if command -v clang++ >/dev/null 2>&1 &&
    clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
      native/tools/row_fuzz.cc native/core/table.cc native/core/shm_mapping.cc \
      native/core/owner_identity.cc -lrt -o "$STAGE/row_fuzz" >"$STAGE/row_fuzz.log" 2>&1; then
    step "libFuzzer row decoder: ${ROW_FUZZ_SECONDS:-30} s"
    mkdir -p "$STAGE/row_fuzz_corpus"
    if ! "$STAGE/row_fuzz" -max_total_time="${ROW_FUZZ_SECONDS:-30}" -max_len=8192 \
      -artifact_prefix="$STAGE/" "$STAGE/row_fuzz_corpus" >"$STAGE/row_fuzz.out" 2>&1; then
      tail -40 "$STAGE/row_fuzz.out" >&2
      FAILED=1
    fi
    tail -1 "$STAGE/row_fuzz.out"
  else
    step "libFuzzer row decoder: skipped (no clang++ with -fsanitize=fuzzer)"
  fi
fi
cd "$ROOT"

step "reports"
if compgen -G "$REPORTS/asan*" >/dev/null; then
  for report in "$REPORTS"/asan*; do
    echo "== $report" >&2
    head -60 "$report" >&2
  done
  FAILED=1
fi

if [ "$SELF_TEST" = 1 ]; then
  if grep -qs 'ERROR: AddressSanitizer' "$REPORTS"/asan* &&
    grep -qs 'ott::Table::ReadCategory' "$REPORTS"/asan*; then
    step "self-test passed: ASan reported the missing bounds check ($((SECONDS - STARTED)) s)"
    exit 0
  fi
  echo "asan-check: self-test FAILED: no AddressSanitizer report for the broken check" >&2
  exit 1
fi

if [ "$FAILED" -ne 0 ]; then
  echo "asan-check: FAILED (seed $SEED) after $((SECONDS - STARTED)) s" >&2
  exit 1
fi
step "passed: no AddressSanitizer report ($((SECONDS - STARTED)) s)"
