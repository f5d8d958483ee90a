import { ObservableTaskStatusUpdate } from './observable-task-status-update.js';
import type { ObservableTaskStatus } from './observable-task-status.js';
import { parseData } from './serialization.js';
import type { RawRow } from './internal/row-decoder.js';
import { STATUS_NAMES } from './internal/native.js';

/**
 * A row of the table as copied out of shared memory: immutable, detached from the table
 * (it stays valid after `close()`). The data is parsed on first access of
 * `observableTaskStatusUpdate`, so iterating many rows costs little.
 */
export class ObservableTaskTableRow {
  /** The task's id, as returned by `observe()`. */
  readonly id: string;
  readonly name: string;
  readonly category: string;
  /** Row index in the table. */
  readonly slot: number;
  /** Pid of the owning process (in its own pid namespace). */
  readonly pid: number;
  readonly startedAt: Date;
  readonly modifiedAt: Date;
  /** 0..1, or null when the task never reported progress. */
  readonly progress: number | null;
  /** Seconds without an update after which the task times out, or null. */
  readonly inactivityTimeout: number | null;
  /** True when another process ended the row because its owner had died. */
  readonly reclaimed: boolean;
  readonly status: ObservableTaskStatus;
  readonly #data: string;
  #update: ObservableTaskStatusUpdate | undefined;

  /** Internal: rows are made by the table. */
  constructor(raw: RawRow) {
    this.id = taskId(raw.slot, raw.generation);
    this.name = raw.name;
    this.category = raw.category;
    this.slot = raw.slot;
    this.pid = raw.pid;
    this.startedAt = new Date(raw.startedAtMs);
    this.modifiedAt = new Date(raw.modifiedAtMs);
    this.progress = raw.progress;
    // Divide first: a tiny positive value in milliseconds can underflow to 0 seconds.
    const timeout = raw.inactivityTimeoutMs / 1000;
    this.inactivityTimeout = timeout > 0 ? timeout : null;
    this.reclaimed = raw.reclaimed;
    this.status = (STATUS_NAMES[raw.status] ?? 'failed') as ObservableTaskStatus;
    this.#data = raw.data;
  }

  /** The latest status and its data. */
  get observableTaskStatusUpdate(): ObservableTaskStatusUpdate {
    this.#update ??= new ObservableTaskStatusUpdate(this.status, parseData(this.#data));
    return this.#update;
  }

  /** A plain JSON-friendly object of this row (used by the JSON API). */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      slot: this.slot,
      status: this.status,
      name: this.name,
      category: this.category,
      data: this.observableTaskStatusUpdate.data,
      progress: this.progress,
      pid: this.pid,
      startedAt: this.startedAt.toISOString(),
      modifiedAt: this.modifiedAt.toISOString(),
      inactivityTimeout: this.inactivityTimeout,
      reclaimed: this.reclaimed,
    };
  }
}

/** Internal. The id of a task: its slot and the slot's generation. */
export function taskId(slot: number, generation: number): string {
  return `${slot}:${generation}`;
}

/** Internal. Parses an id made by taskId(); null when it is not one. */
export function parseTaskId(id: unknown): { slot: number; generation: number } | null {
  if (typeof id !== 'string') return null;
  const match = /^(\d{1,7}):(\d{1,15})$/.exec(id);
  if (!match) return null;
  return { slot: Number(match[1]), generation: Number(match[2]) };
}
