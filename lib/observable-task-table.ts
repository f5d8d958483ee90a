import { TaskTableFullError } from './errors.js';
import { ObservableTask } from './observable-task.js';
import { ObservableTaskStatusUpdate } from './observable-task-status-update.js';
import {
  isFinalStatus,
  isObservableTaskStatus,
  type ObservableTaskStatus,
} from './observable-task-status.js';
import { ObservableTaskTableRow, parseTaskId, taskId } from './observable-task-table-row.js';
import { toAsyncIterator, inactivityTimeoutError } from './observable-task-timeout-iterator.js';
import {
  resolveTableOptions,
  validateTableName,
  DEFAULT_TABLE_OPTIONS,
  type ObservableTaskTableOptions,
  type ResolvedTableOptions,
} from './options.js';
import { serializeData } from './serialization.js';
import { collectMetrics, type TaskTableMetrics } from './table-metrics.js';
import { reportDrop } from './warnings.js';
import { NativeResult, STATUS_CODES, type DropReason } from './internal/native.js';
import { SharedTable, type Claim } from './internal/shared-table.js';
import {
  checkFunction,
  describe,
  checkObject,
  checkString,
  invalidType,
  outOfRange,
} from './internal/validate.js';

/** Options of `table.run()`. */
export interface RunOptions {
  /** Shown in the table; cut to 255 bytes of UTF-8. */
  name: string;
  /** Groups tasks in metrics; cut to 255 bytes of UTF-8. */
  category: string;
  /**
   * Seconds without a `report` call after which the task ends `timed_out` and its signal
   * is aborted. Optional; no timeout by default.
   */
  inactivityTimeout?: number;
}

/** What `table.run()` hands to the function it runs. Never throws. */
export interface TaskReport {
  /** The task's id (as `observe()` returns), for `getStatus()` or `cancel()` elsewhere. */
  readonly id: string;
  /** Records a status (and data). A final status ends the row; later reports are ignored. */
  status(status: ObservableTaskStatus, data?: unknown): void;
  /**
   * Records progress, a fraction from 0 to 1, with optional data. Without data this is
   * the cheap path: no JSON is serialized.
   */
  progress(fraction: number, data?: unknown): void;
}

/** Static facts about an open table. */
export interface TaskTableLayout {
  name: string;
  path: string;
  maxTasks: number;
  dataSize: number;
  maxCategories: number;
  durationBuckets: readonly number[];
  totalBytes: number;
  rowBytes: number;
  layoutVersion: number;
  createdAt: Date;
  readOnly: boolean;
  /** True when this `open()` created the table. */
  created: boolean;
}

/** A task this process owns and drives. */
interface OwnedTask {
  readonly slot: number;
  readonly generation: number;
  readonly controller: AbortController;
  ended: boolean;
  /** Incremented by every report; the watch compares it to detect inactivity. */
  activity: number;
  seenActivity: number;
  idleSinceMs: number;
  readonly inactivityTimeoutMs: number;
}

const KEEP = Symbol('keep');
const HEARTBEAT_INTERVAL_MS = 1000;
/** Dead owners in another pid namespace are recognised by a lease this old. */
const LEASE_TIMEOUT_MS = 15000;

/** Tables with tasks running in this thread, ended on a normal exit. */
const openTables = new Set<ObservableTaskTable>();
let exitHookInstalled = false;

/**
 * A table of observable tasks in POSIX shared memory: one row per task, written by the
 * process that runs it and readable from every process on the host.
 */
export class ObservableTaskTable implements Iterable<[string, ObservableTaskTableRow]> {
  readonly #shared: SharedTable;
  readonly #options: ResolvedTableOptions;
  readonly #owned = new Map<number, OwnedTask>();
  #watch: NodeJS.Timeout | undefined;
  #lastHeartbeatMs = 0;
  #seenCancelRequests = -1;
  #untracked = 0;

  private constructor(shared: SharedTable, options: ResolvedTableOptions) {
    this.#shared = shared;
    this.#options = options;
  }

  /**
   * Creates the table, or attaches to the existing one of the same name.
   * @throws {TypeError|RangeError} for invalid options, before anything is created.
   * @throws {TaskTableLayoutMismatchError} when the table exists with other explicit options.
   * @throws {TaskTableCorruptError|TaskTableIncompatibleError|TaskTableNoSpaceError|TaskTablePermissionError|TaskTableNotFoundError|TaskTableNotReadyError}
   */
  static open(options: ObservableTaskTableOptions = {}): ObservableTaskTable {
    const resolved = resolveTableOptions(options);
    const table = new ObservableTaskTable(SharedTable.open(resolved), resolved);
    // Rows of processes that died since the last collector pass end here at the latest.
    if (!resolved.readOnly) table.#shared.reclaimDead(Date.now(), LEASE_TIMEOUT_MS);
    return table;
  }

  /**
   * Removes a table's shared memory. Processes that have it open keep their mapping.
   * Returns false when there was no such table.
   */
  static unlink(name: string, options: { directory?: string } = {}): boolean {
    validateTableName(name, 'name');
    const directory = options.directory ?? DEFAULT_TABLE_OPTIONS.directory;
    checkString('options.directory', directory);
    return SharedTable.unlink(name, directory);
  }

  /** The table's name. */
  get name(): string {
    return this.#shared.name;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#shared.closed;
  }

  /** Layout parameters and facts of the open table. */
  get layout(): TaskTableLayout {
    this.#shared.handle('layout');
    const l = this.#shared.layout;
    return {
      name: this.name,
      path: this.#shared.path,
      maxTasks: l.maxTasks,
      dataSize: l.dataSize,
      maxCategories: l.maxCategories,
      durationBuckets: l.durationBuckets,
      totalBytes: l.totalBytes,
      rowBytes: l.rowBytes,
      layoutVersion: l.layoutVersion,
      // Informational and not validated on attach: a value no Date can hold (NaN from a
      // damaged header) reads as the epoch rather than an Invalid Date, whose
      // toISOString() throws in `task-table inspect` and the exporters.
      createdAt: new Date(l.createdAtMs >= 0 && l.createdAtMs <= 8.64e15 ? l.createdAtMs : 0),
      readOnly: l.readOnly,
      created: this.#shared.created,
    };
  }

  /**
   * Starts `task` in the background and returns its id at once. The row is `pending`
   * until the task's first update.
   * @throws {TaskTableFullError} when every slot is taken (unless `onFull: 'run-untracked'`).
   */
  observe(task: ObservableTask): string {
    if (!(task instanceof ObservableTask)) throw invalidType('task', 'an ObservableTask', task);
    const claim = this.#claim('observe', task.name, task.category, task.inactivityTimeout);
    if (claim === null) {
      void this.#driveUntracked(task);
      return `untracked:${++this.#untracked}`;
    }
    const owned = this.#own(claim, task.inactivityTimeout);
    void this.#drive(task, owned);
    return taskId(claim.slot, claim.generation);
  }

  /**
   * Runs `fn` as an observed task: the row goes pending → running → finished, or failed
   * with the error, which is re-thrown. Resolves with fn's result. Rejects (never throws)
   * for invalid options or a full table.
   */
  run<T>(
    options: RunOptions,
    fn: (report: TaskReport, signal: AbortSignal) => T | PromiseLike<T>,
  ): Promise<T> {
    let claim: Claim | null;
    let timeout: number | null;
    try {
      const o = checkObject('options', options);
      const name = checkString('options.name', o.name);
      const category = checkString('options.category', o.category);
      timeout = o.inactivityTimeout === undefined ? null : checkTimeout(o.inactivityTimeout);
      checkFunction('fn', fn);
      claim = this.#claim('run', name, category, timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    if (claim === null) return this.#runUntracked(fn);
    const owned = this.#own(claim, timeout);
    this.#write(owned, 'running', null);
    return this.#runOwned(owned, fn);
  }

  async #runOwned<T>(
    owned: OwnedTask,
    fn: (report: TaskReport, signal: AbortSignal) => T | PromiseLike<T>,
  ): Promise<T> {
    const report = this.#reportFor(owned);
    try {
      const result = await fn(report, owned.controller.signal);
      if (!owned.ended) this.#write(owned, 'finished', KEEP);
      return result;
    } catch (error) {
      if (!owned.ended) this.#write(owned, 'failed', error);
      throw error;
    }
  }

  /**
   * The latest status update of task `id`, or null when there is no such task or its
   * slot now holds another task.
   */
  getStatus(id: string): ObservableTaskStatusUpdate | null {
    return this.getRow(id)?.observableTaskStatusUpdate ?? null;
  }

  /** The row of task `id`, or null (as for `getStatus()`). */
  getRow(id: string): ObservableTaskTableRow | null {
    this.#shared.handle('getRow');
    const parsed = parseTaskId(id);
    if (parsed === null) return null;
    const raw = this.#shared.readRow(parsed.slot);
    if (raw === null || raw === 'unreadable' || raw.generation !== parsed.generation) return null;
    return new ObservableTaskTableRow(raw);
  }

  /**
   * Asks the process that runs task `id` to cancel it; that process aborts the task's
   * signal and the row ends `cancelled`. Works from any process. Returns false when the
   * task does not exist or has already ended.
   */
  cancel(id: string): boolean {
    this.#shared.writable('cancel');
    const parsed = parseTaskId(id);
    if (parsed === null || parsed.slot >= this.#shared.layout.maxTasks) return false;
    const requested = this.#shared.requestCancel(parsed.slot, parsed.generation);
    if (requested) this.#checkOwned();
    return requested;
  }

  /** Every row holding a task, running or ended (until its slot is reused), as [id, row]. */
  *[Symbol.iterator](): IterableIterator<[string, ObservableTaskTableRow]> {
    const { rows } = this.#shared.snapshot();
    for (const raw of rows) {
      const row = new ObservableTaskTableRow(raw);
      yield [row.id, row];
    }
  }

  /**
   * One consistent collection for exporters: rows per category and status, stuck-task
   * signals, and the shared counters and histograms.
   */
  readMetrics(now: number = Date.now()): TaskTableMetrics {
    return collectMetrics(this.#shared, now);
  }

  /**
   * Ends rows whose owning process has died: each becomes `failed` with a reason, is
   * counted, and its slot is freed. Rows of live owners are never touched. Returns how
   * many rows were reclaimed. A running collector calls this every second.
   */
  reclaim(): number {
    this.#shared.writable('reclaim');
    return this.#shared.reclaimDead(Date.now(), LEASE_TIMEOUT_MS);
  }

  /**
   * Closes the table. Tasks this process still runs on it end `cancelled` and their
   * signals are aborted. Every later call throws TaskTableClosedError. Idempotent.
   */
  close(): void {
    if (this.#shared.closed) return;
    this.#endOwned('table closed');
    this.#shared.close();
  }

  /** Ends every task this thread runs on the table as `cancelled` with `reason`. */
  #endOwned(reason: string): void {
    for (const owned of [...this.#owned.values()]) {
      this.#write(owned, 'cancelled', { reason, pid: process.pid });
      owned.controller.abort(new DOMException(`observation ended: ${reason}`, 'AbortError'));
    }
    this.#owned.clear();
    this.#stopWatch();
  }

  /** On a normal exit, tasks still running end `cancelled`, not `running` forever. */
  static #installExitHook(): void {
    if (exitHookInstalled) return;
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const table of [...openTables]) table.#endOwned('process exited');
    });
  }

  // ------------------------------------------------------------------ internals

  #claim(
    method: string,
    name: string,
    category: string,
    timeoutSeconds: number | null,
  ): Claim | null {
    this.#shared.writable(method);
    const timeoutMs = timeoutSeconds === null ? 0 : timeoutSeconds * 1000;
    let claim = this.#shared.claim(name, category, timeoutMs);
    if (claim === null && this.#shared.reclaimDead(Date.now(), LEASE_TIMEOUT_MS) > 0) {
      claim = this.#shared.claim(name, category, timeoutMs);
    }
    if (claim === null) {
      if (this.#options.onFull === 'throw')
        throw new TaskTableFullError(this.name, this.#shared.layout.maxTasks);
      this.#drop('table_full', `table "${this.name}" is full; task "${name}" runs untracked`);
      return null;
    }
    if (claim.nameTruncated)
      this.#drop('name_truncated', `a task name longer than 255 bytes was cut`);
    if (claim.categoryTruncated)
      this.#drop('category_truncated', `a task category longer than 255 bytes was cut`);
    return claim;
  }

  #own(claim: Claim, timeoutSeconds: number | null): OwnedTask {
    const owned: OwnedTask = {
      slot: claim.slot,
      generation: claim.generation,
      controller: new AbortController(),
      ended: false,
      activity: 0,
      seenActivity: 0,
      idleSinceMs: Date.now(),
      inactivityTimeoutMs: timeoutSeconds === null ? 0 : timeoutSeconds * 1000,
    };
    this.#owned.set(claim.slot, owned);
    if (this.#watch === undefined) this.#startWatch();
    return owned;
  }

  #reportFor(owned: OwnedTask): TaskReport {
    return {
      id: taskId(owned.slot, owned.generation),
      status: (status, data) => {
        owned.activity++;
        if (!isObservableTaskStatus(status)) {
          this.#drop('status_invalid', `report.status() got an unknown status ${describe(status)}`);
          return;
        }
        this.#write(owned, status, data === undefined ? null : data);
      },
      progress: (fraction, data) => {
        owned.activity++;
        if (owned.ended) return;
        const value = this.#checkProgress(fraction);
        if (data === undefined) {
          if (value === undefined) return;
          const r = this.#shared.closed
            ? NativeResult.notOwner
            : this.#shared.progress(owned.slot, owned.generation, value);
          if (r !== NativeResult.ok) this.#lost(owned);
          return;
        }
        this.#write(owned, KEEP, data, value);
      },
    };
  }

  #checkProgress(fraction: unknown): number | undefined {
    if (typeof fraction !== 'number' || Number.isNaN(fraction)) {
      this.#drop(
        'progress_invalid',
        `progress must be a number from 0 to 1 (received ${describe(fraction)}); ignored`,
      );
      return undefined;
    }
    if (fraction < 0 || fraction > 1) {
      this.#drop(
        'progress_invalid',
        `progress must be from 0 to 1 (received ${fraction}); clamped`,
      );
      return fraction < 0 ? 0 : 1;
    }
    return fraction;
  }

  /** Writes an update of an owned task. Never throws. */
  #write(
    owned: OwnedTask,
    status: ObservableTaskStatus | typeof KEEP,
    data: unknown,
    progress?: number,
  ): void {
    if (owned.ended) return;
    try {
      let text: string | undefined;
      if (data !== KEEP) {
        const serialized = serializeData(data, this.#shared.layout.dataSize);
        text = serialized.text;
        if (serialized.dropped !== undefined)
          this.#drop(serialized.dropped, serialized.detail ?? '');
      }
      const code = status === KEEP ? 0 : STATUS_CODES[status];
      let r = this.#shared.update(owned.slot, owned.generation, code, text, progress);
      if (r === NativeResult.dataTooLarge) {
        // serializeData() fits the text to dataSize, so this is a disagreement about its
        // size; store no data rather than lose the status.
        r = this.#shared.update(owned.slot, owned.generation, code, '', progress);
      }
      if (r !== NativeResult.ok) this.#lost(owned);
      else if (status !== KEEP && isFinalStatus(status)) this.#release(owned);
    } catch {
      // The table was closed under a running task: observation stops, the task runs on.
      this.#lost(owned);
    }
  }

  /** The row is no longer ours (table closed, or reclaimed): stop writing to it. */
  #lost(owned: OwnedTask): void {
    this.#release(owned);
  }

  #release(owned: OwnedTask): void {
    owned.ended = true;
    if (this.#owned.get(owned.slot) === owned) this.#owned.delete(owned.slot);
    if (this.#owned.size === 0) this.#stopWatch();
  }

  #drop(reason: DropReason, detail: string): void {
    this.#shared.addDropped(reason, 1);
    reportDrop(this.name, reason, detail);
  }

  async #drive(task: ObservableTask, owned: OwnedTask): Promise<void> {
    let iterator: AsyncIterator<ObservableTaskStatusUpdate> | undefined;
    try {
      iterator = toAsyncIterator(task.start(owned.controller.signal));
      for (;;) {
        const next = await iterator.next();
        // Cancelled, timed out or closed meanwhile: the row already says so.
        if (owned.ended) break;
        if (next.done) {
          this.#write(owned, 'finished', KEEP);
          return;
        }
        const update: unknown = next.value;
        owned.activity++;
        if (!isUpdateLike(update)) {
          this.#drop(
            'status_invalid',
            `a task yielded ${describeYield(update)} instead of an ObservableTaskStatusUpdate`,
          );
          continue;
        }
        this.#write(owned, update.status, update.data ?? null);
        if (owned.ended) break;
      }
      // A final status ends the task: close the generator without waiting for it.
      iterator.return?.()?.catch(ignore);
    } catch (error) {
      this.#write(owned, 'failed', error);
    }
  }

  async #driveUntracked(task: ObservableTask): Promise<void> {
    try {
      const iterator = toAsyncIterator(task.start(new AbortController().signal));
      for (;;) {
        const next = await iterator.next();
        if (next.done || (isUpdateLike(next.value) && isFinalStatus(next.value.status))) break;
      }
    } catch {
      // An untracked task has no row to record its failure in; it was counted as dropped.
    }
  }

  async #runUntracked<T>(
    fn: (report: TaskReport, signal: AbortSignal) => T | PromiseLike<T>,
  ): Promise<T> {
    return fn(
      { id: `untracked:${++this.#untracked}`, status: ignore, progress: ignore },
      new AbortController().signal,
    );
  }

  #startWatch(): void {
    this.#watch = setInterval(() => this.#checkOwned(), this.#options.watchIntervalMs);
    this.#watch.unref();
    openTables.add(this);
    ObservableTaskTable.#installExitHook();
  }

  #stopWatch(): void {
    if (this.#watch !== undefined) clearInterval(this.#watch);
    this.#watch = undefined;
    openTables.delete(this);
  }

  /** Cancel requests, inactivity timeouts and liveness leases of the tasks we own. */
  #checkOwned(): void {
    if (this.#shared.closed) return;
    const now = Date.now();
    const heartbeat = now - this.#lastHeartbeatMs >= HEARTBEAT_INTERVAL_MS;
    if (heartbeat) this.#lastHeartbeatMs = now;
    // One shared word tells whether anyone cancelled anything since the last look, so
    // the per-row flags are read only then.
    const cancelRequests = this.#shared.cancelRequestCount();
    const lookForCancels = cancelRequests !== this.#seenCancelRequests;
    this.#seenCancelRequests = cancelRequests;
    for (const owned of this.#owned.values()) {
      if (lookForCancels && this.#shared.cancelRequested(owned.slot, owned.generation)) {
        this.#write(owned, 'cancelled', { reason: 'cancel requested' });
        owned.controller.abort(new DOMException('the task was cancelled', 'AbortError'));
        continue;
      }
      if (owned.activity !== owned.seenActivity) {
        owned.seenActivity = owned.activity;
        owned.idleSinceMs = now;
      } else if (
        owned.inactivityTimeoutMs > 0 &&
        now - owned.idleSinceMs >= owned.inactivityTimeoutMs
      ) {
        const seconds = owned.inactivityTimeoutMs / 1000;
        this.#write(owned, 'timed_out', { inactivityTimeout: seconds });
        owned.controller.abort(inactivityTimeoutError(seconds));
        continue;
      }
      if (heartbeat) this.#shared.heartbeat(owned.slot, owned.generation, now);
    }
  }
}

function ignore(): void {}

function checkTimeout(value: unknown): number {
  if (typeof value !== 'number')
    throw invalidType('options.inactivityTimeout', 'a number of seconds', value);
  if (!(value > 0) || value > 2147483) {
    throw outOfRange(
      'options.inactivityTimeout',
      'a number of seconds above 0 and at most 2147483',
      value,
    );
  }
  return value;
}

function isUpdateLike(value: unknown): value is ObservableTaskStatusUpdate {
  if (value instanceof ObservableTaskStatusUpdate) return true;
  return (
    value !== null &&
    typeof value === 'object' &&
    isObservableTaskStatus((value as { status?: unknown }).status)
  );
}

function describeYield(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object without a valid status';
  return `a ${typeof value}`;
}
