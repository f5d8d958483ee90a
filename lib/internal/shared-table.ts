/**
 * Internal. The low-level TypeScript layer over the addon: open/attach with the error
 * classes, claim, write, read, iterate, release, close, unlink. ObservableTaskTable builds
 * on it; nothing here knows about tasks or generators.
 */
import {
  SharedMemoryError,
  TaskTableClosedError,
  TaskTableCorruptError,
  TaskTableIncompatibleError,
  TaskTableLayoutMismatchError,
  TaskTableNoSpaceError,
  TaskTableNotFoundError,
  TaskTableNotReadyError,
  TaskTablePermissionError,
  TaskTableReadOnlyError,
} from '../errors.js';
import type { ResolvedTableOptions } from '../options.js';
import { LIMITS } from './limits.js';
import {
  DROP_REASON_INDEX,
  DROP_REASONS,
  native,
  NativeResult,
  type DropReason,
  type NativeLayout,
  type NativeOpenResult,
  type NativeTable,
} from './native.js';
import { decodeRecord, type RawRow } from './row-decoder.js';
import { constants as osConstants } from 'node:os';

/** Internal. Result of a successful claim. */
export interface Claim {
  slot: number;
  generation: number;
  nameTruncated: boolean;
  categoryTruncated: boolean;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value as number, name]),
);

function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** Internal. One open handle on a shared-memory table. */
export class SharedTable {
  readonly name: string;
  readonly path: string;
  readonly created: boolean;
  readonly readOnly: boolean;
  readonly layout: NativeLayout;
  #native: NativeTable | null;
  readonly #scratch = new Float64Array(8);
  readonly #categories = new Map<string, number>();
  #rowBuffer: Buffer;
  #rowView: DataView;
  #snapshotBuffer: Buffer;
  #snapshotView: DataView;
  #stats: Float64Array;
  #counters: Float64Array;
  readonly #dropped = new Float64Array(16);

  private constructor(name: string, path: string, handle: NativeTable, created: boolean) {
    this.name = name;
    this.path = path;
    this.#native = handle;
    this.created = created;
    this.layout = handle.layout();
    this.readOnly = this.layout.readOnly;
    handle.setScratch(this.#scratch);
    const record = LIMITS.snapshotRecordBytes + 2 * LIMITS.maxNameBytes + this.layout.dataSize + 16;
    this.#rowBuffer = Buffer.alloc(record);
    this.#rowView = new DataView(
      this.#rowBuffer.buffer,
      this.#rowBuffer.byteOffset,
      this.#rowBuffer.byteLength,
    );
    this.#snapshotBuffer = Buffer.alloc(64 * 1024);
    this.#snapshotView = new DataView(this.#snapshotBuffer.buffer);
    this.#stats = new Float64Array(
      (this.layout.maxCategories + 1) * LIMITS.statsPerCategory + LIMITS.statsTrailer,
    );
    this.#counters = new Float64Array(1 + 4 * 2 + 2 + 5 * (this.layout.durationBuckets.length + 1));
  }

  /** Creates or attaches; throws the package's error classes. */
  static open(options: ResolvedTableOptions): SharedTable {
    const path = native.pathFor(options.directory, options.name);
    const handle = new native.NativeTable();
    const result = handle.open(
      path,
      options.readOnly,
      !options.readOnly,
      options.mode,
      options.maxTasks,
      options.dataSize,
      options.maxCategories,
      Float64Array.from(options.durationBuckets),
    );
    if (result.status !== NativeResult.ok) throw openError(options.name, path, result);
    const table = new SharedTable(options.name, path, handle, result.created);
    if (!result.created) {
      try {
        checkLayout(table.layout, options);
      } catch (error) {
        table.close();
        throw error;
      }
    }
    return table;
  }

  /** Removes the shared-memory object. False when it did not exist. */
  static unlink(name: string, directory: string): boolean {
    const path = native.pathFor(directory, name);
    const result = native.unlink(path);
    if (result.status === NativeResult.ok) return true;
    if (result.status === NativeResult.notFound) return false;
    throw systemError(name, path, result.errno, result.syscall);
  }

  get closed(): boolean {
    return this.#native === null;
  }

  /** The native handle, or the closed error naming `method`. */
  handle(method: string): NativeTable {
    if (this.#native === null) throw new TaskTableClosedError(this.name, method);
    return this.#native;
  }

  writable(method: string): NativeTable {
    const handle = this.handle(method);
    if (this.readOnly) throw new TaskTableReadOnlyError(this.name, method);
    return handle;
  }

  close(): void {
    this.#native?.close();
    this.#native = null;
  }

  /** Registry index of a category, cached per process (indices never change). */
  categoryIndex(category: string): number {
    let index = this.#categories.get(category);
    if (index === undefined) {
      index = this.writable('categoryIndex').categoryIndex(category);
      if (index !== this.layout.maxCategories) this.#categories.set(category, index);
    }
    return index;
  }

  /** Claims a slot for a pending task; null when the table is full. */
  claim(name: string, category: string, inactivityTimeoutMs: number): Claim | null {
    const handle = this.writable('claim');
    const index = this.categoryIndex(category);
    const slot = handle.claim(name, category, index, inactivityTimeoutMs);
    if (slot < 0) {
      if (-slot === NativeResult.tableFull) return null;
      throw new Error(`native claim failed with result ${-slot}`);
    }
    const flags = this.#scratch[1] as number;
    return {
      slot,
      generation: this.#scratch[0] as number,
      nameTruncated: (flags & 1) !== 0,
      categoryTruncated: (flags & 2) !== 0,
    };
  }

  /** Writes an update; a final status releases the slot. Returns a NativeResult code. */
  update(
    slot: number,
    generation: number,
    status: number,
    data: string | undefined,
    progress?: number,
  ): number {
    return this.writable('update').update(slot, generation, status, data, progress);
  }

  progress(slot: number, generation: number, value: number): number {
    return this.writable('progress').progress(slot, generation, value);
  }

  heartbeat(slot: number, generation: number, nowMs: number): void {
    this.writable('heartbeat').heartbeat(slot, generation, nowMs);
  }

  cancelRequested(slot: number, generation: number): boolean {
    return this.handle('cancelRequested').cancelRequested(slot, generation);
  }

  /** Cancel requests ever made on the table; changes whenever someone cancels a task. */
  cancelRequestCount(): number {
    return this.handle('cancelRequestCount').cancelRequestCount();
  }

  /** True when (slot, generation) was a live task and now carries a cancel request. */
  requestCancel(slot: number, generation: number): boolean {
    return this.writable('cancel').requestCancel(slot, generation) === NativeResult.ok;
  }

  addDropped(reason: DropReason, count = 1): void {
    if (!this.readOnly && this.#native !== null)
      this.#native.addDropped(DROP_REASON_INDEX[reason], count);
  }

  readDropped(): Record<DropReason, number> {
    this.handle('readDropped').readDropped(this.#dropped);
    const out = {} as Record<DropReason, number>;
    DROP_REASONS.forEach((reason, i) => {
      out[reason] = this.#dropped[i] as number;
    });
    return out;
  }

  /** One row, or null when the slot holds no task; 'unreadable' for a stuck or bad row. */
  readRow(slot: number): RawRow | null | 'unreadable' {
    const handle = this.handle('readRow');
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.layout.maxTasks) return null;
    const n = handle.readRow(slot, this.#rowBuffer);
    if (n === 0) return null;
    if (n < 0) return 'unreadable';
    return decodeRecord(this.#rowBuffer, this.#rowView, 0).row;
  }

  /**
   * Copies every row holding a task in one native call (consistent row by row), then
   * decodes them. `unreadable` counts rows skipped because they stayed torn or corrupt.
   */
  snapshot(): { rows: RawRow[]; unreadable: number; corrupt: number } {
    const handle = this.handle('snapshot');
    let n = handle.snapshot(this.#snapshotBuffer);
    while (n < 0) {
      this.#snapshotBuffer = Buffer.alloc(Math.ceil((-n * 1.25) / 8) * 8);
      this.#snapshotView = new DataView(this.#snapshotBuffer.buffer);
      n = handle.snapshot(this.#snapshotBuffer);
    }
    const rows: RawRow[] = [];
    let offset = 0;
    while (offset < n) {
      const { row, next } = decodeRecord(this.#snapshotBuffer, this.#snapshotView, offset);
      rows.push(row);
      offset = next;
    }
    return { rows, unreadable: this.#scratch[2] as number, corrupt: this.#scratch[3] as number };
  }

  /** Aggregates per category without copying strings; returns a reused array. */
  scanStats(nowMs: number): Float64Array {
    this.handle('scanStats').scanStats(nowMs, this.#stats);
    return this.#stats;
  }

  /** Counters of a category entry (a reused array), or undefined when it is not registered. */
  readCategory(index: number): { name: string; counters: Float64Array } | undefined {
    const name = this.handle('readCategory').readCategory(index, this.#counters);
    return name === undefined ? undefined : { name, counters: this.#counters };
  }

  /** Ends rows whose owner died (see native ReclaimDead). Returns how many. */
  reclaimDead(nowMs: number, leaseTimeoutMs: number): number {
    if (this.readOnly) return 0;
    return this.handle('reclaimDead').reclaimDead(nowMs, leaseTimeoutMs);
  }
}

function checkLayout(layout: NativeLayout, options: ResolvedTableOptions): void {
  for (const option of ['maxTasks', 'dataSize', 'maxCategories'] as const) {
    if (options.explicit.has(option) && layout[option] !== options[option]) {
      throw new TaskTableLayoutMismatchError(options.name, option, layout[option], options[option]);
    }
  }
  if (options.explicit.has('durationBuckets')) {
    const same =
      layout.durationBuckets.length === options.durationBuckets.length &&
      layout.durationBuckets.every((bound, i) => bound === options.durationBuckets[i]);
    if (!same) {
      throw new TaskTableLayoutMismatchError(
        options.name,
        'durationBuckets',
        layout.durationBuckets,
        [...options.durationBuckets],
      );
    }
  }
}

function systemError(
  table: string,
  path: string,
  errno: number,
  syscall: string,
): SharedMemoryError {
  const fields = { errno: errnoName(errno), syscall, path };
  if (fields.errno === 'EACCES' || fields.errno === 'EPERM')
    return new TaskTablePermissionError(table, fields);
  return new SharedMemoryError(table, fields);
}

function openError(table: string, path: string, r: NativeOpenResult): Error {
  switch (r.status) {
    case NativeResult.notFound:
      return new TaskTableNotFoundError(table, { errno: 'ENOENT', syscall: 'open', path });
    case NativeResult.notReady:
      return new TaskTableNotReadyError(table);
    case NativeResult.noSpace:
      return new TaskTableNoSpaceError(
        table,
        { errno: errnoName(r.errno), syscall: r.syscall, path },
        r.bytesNeeded,
        r.bytesAvailable,
      );
    case NativeResult.badMagic:
      return new TaskTableIncompatibleError(
        table,
        'magic',
        r.existing,
        0,
        `(${path}) is not an observable-task-table (wrong magic number). Pick another name, or ` +
          `remove the object if nothing else uses it: task-table rm --force ${table}`,
      );
    case NativeResult.versionMismatch:
      return new TaskTableIncompatibleError(
        table,
        'layoutVersion',
        r.existing,
        r.expected,
        `has layout version ${r.existing}, but this version of observable-task-table reads ` +
          `version ${r.expected}. Run every process with the same package version, or remove ` +
          `the table when no process uses it: task-table rm ${table}`,
      );
    case NativeResult.corruptHeader:
      return new TaskTableCorruptError(
        table,
        r.field,
        r.existing,
        r.expected,
        `its header field ${r.field} holds ${r.existing}, which no valid table has (expected ${r.expected})`,
      );
    case NativeResult.fileTooSmall:
      return new TaskTableCorruptError(
        table,
        r.field,
        r.existing,
        r.expected,
        `the object is ${r.existing} bytes long but its header needs ${r.expected}`,
      );
    case NativeResult.systemError:
      return systemError(table, path, r.errno, r.syscall);
    default:
      return new Error(`observable-task-table: unexpected native open result ${r.status}`);
  }
}
