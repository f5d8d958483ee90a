/**
 * Internal. The only module that touches the `.node` file: loads the addon with
 * node-gyp-build, states its surface once as TypeScript interfaces, and checks on load
 * that the addon's layout constants match lib's (a stale build fails clearly here).
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LIMITS } from './limits.js';

/** Internal. Result codes of native calls (native/core/status.h `Result`). */
export const NativeResult = Object.freeze({
  ok: 0,
  tableFull: 1,
  notOwner: 2,
  dataTooLarge: 3,
  notReady: 4,
  badMagic: 5,
  versionMismatch: 6,
  corruptHeader: 7,
  fileTooSmall: 8,
  noSpace: 9,
  systemError: 10,
  exists: 11,
  notFound: 12,
  invalidSlot: 13,
  readOnly: 14,
});

/** Internal. Status numbers stored in rows (native/core/status.h `TaskStatus`). */
export const STATUS_CODES = Object.freeze({
  pending: 1,
  running: 2,
  finished: 3,
  failed: 4,
  cancelled: 5,
  timed_out: 6,
});

/** Internal. Index = status number. */
export const STATUS_NAMES = Object.freeze([
  undefined,
  'pending',
  'running',
  'finished',
  'failed',
  'cancelled',
  'timed_out',
] as const);

/**
 * Reasons counted in `observable_task_table_dropped_total{reason}`, in the order of
 * native/core/status.h `DropReason` (index = native number). Never reorder.
 */
export const DROP_REASONS = Object.freeze([
  'data_too_large',
  'data_not_serializable',
  'progress_invalid',
  'name_truncated',
  'category_truncated',
  'table_full',
  'categories',
  'owner_died',
  'status_invalid',
] as const);

/** A reason in `observable_task_table_dropped_total{reason}`. */
export type DropReason = (typeof DROP_REASONS)[number];

/** Internal. Native drop-reason number of each reason. */
export const DROP_REASON_INDEX: Readonly<Record<DropReason, number>> = Object.freeze(
  Object.fromEntries(DROP_REASONS.map((reason, i) => [reason, i])) as Record<DropReason, number>,
);

/** Internal. What NativeTable#open returns. */
export interface NativeOpenResult {
  status: number;
  created: boolean;
  errno: number;
  syscall: string;
  field: string;
  existing: number;
  expected: number;
  bytesNeeded: number;
  bytesAvailable: number;
}

/** Internal. The layout of an open table as the addon reports it. */
export interface NativeLayout {
  maxTasks: number;
  dataSize: number;
  maxCategories: number;
  durationBuckets: number[];
  totalBytes: number;
  rowBytes: number;
  categoryBytes: number;
  rowsOffset: number;
  headerBytes: number;
  layoutVersion: number;
  createdAtMs: number;
  creatorPid: number;
  mappedBytes: number;
  readOnly: boolean;
}

/** Internal. native/binding/table_wrap.h as seen from TypeScript. */
export interface NativeTable {
  open(
    path: string,
    readOnly: boolean,
    create: boolean,
    mode: number,
    maxTasks: number,
    dataSize: number,
    maxCategories: number,
    buckets: Float64Array,
  ): NativeOpenResult;
  close(): void;
  layout(): NativeLayout;
  /** scratch[0] = generation of the last claim, [1] = truncation flags, [2..3] snapshot counts. */
  setScratch(scratch: Float64Array): void;
  categoryIndex(category: string): number;
  /** Returns the slot, or minus a NativeResult code. */
  claim(name: string, category: string, categoryIndex: number, inactivityTimeoutMs: number): number;
  update(
    slot: number,
    generation: number,
    status: number,
    data: string | undefined,
    progress: number | undefined,
  ): number;
  progress(slot: number, generation: number, progress: number): number;
  heartbeat(slot: number, generation: number, nowMs: number): void;
  cancelRequested(slot: number, generation: number): boolean;
  /** Cancel requests ever made on the table (owners rescan only when it changes). */
  cancelRequestCount(): number;
  requestCancel(slot: number, generation: number): number;
  addDropped(reason: number, count: number): void;
  readDropped(out: Float64Array): void;
  /** Bytes written, 0 when the slot holds no task, -1 when unreadable or corrupt. */
  readRow(slot: number, out: Uint8Array): number;
  /** Bytes written, or minus the bytes needed when `out` is too small. */
  snapshot(out: Uint8Array): number;
  scanStats(nowMs: number, out: Float64Array): void;
  readCategory(index: number, out: Float64Array): string | undefined;
  reclaimDead(nowMs: number, leaseTimeoutMs: number): number;
  /** Benchmark floor: a bare sequence-locked copy into a claimed slot's data field. */
  floorWrite(slot: number, bytes: Uint8Array): void;
  /** Benchmark helper: the counter and histogram updates of one completion. */
  countForBenchmark(categoryIndex: number, durationSeconds: number): void;
}

/** Internal. The module's exports. */
export interface NativeBinding {
  NativeTable: new () => NativeTable;
  unlink(path: string): { status: number; errno: number; syscall: string };
  pathFor(directory: string, name: string): string;
  constants: typeof LIMITS & {
    headerBytes: number;
    rowHeadBytes: number;
    maxTasksLimit: number;
    maxCategoriesLimit: number;
    isLinux: boolean;
  };
}

const PACKAGE_ROOT = findPackageRoot();

function findPackageRoot(): string {
  // lib/internal/native.ts runs from lib/internal (tests) or dist/lib/internal (built).
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${'/'}dist${'/'}`) ? '../../..' : '../..';
  return resolve(here, up);
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  const binding = nodeGypBuild(PACKAGE_ROOT) as NativeBinding;
  const c = binding.constants;
  const mismatched = (Object.keys(LIMITS) as (keyof typeof LIMITS)[]).filter((key) => {
    const nativeKey =
      key === 'maxTasks' ? 'maxTasksLimit' : key === 'maxCategories' ? 'maxCategoriesLimit' : key;
    return (c as Record<string, unknown>)[nativeKey] !== LIMITS[key];
  });
  if (mismatched.length > 0) {
    throw new Error(
      `observable-task-table: the native addon does not match this version of the library ` +
        `(${mismatched.join(', ')} differ). Rebuild it with: npm rebuild observable-task-table`,
    );
  }
  return binding;
}

/** Internal. The loaded addon (loaded once per thread, on first import). */
export const native: NativeBinding = load();
