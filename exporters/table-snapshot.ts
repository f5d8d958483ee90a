/**
 * Reads each table once per collection, for every exporter. A table that has been closed,
 * removed from shared memory or found corrupt becomes a snapshot with a state and an
 * error instead of an exception, so one bad table never fails a scrape and the other
 * tables keep being served (design.md, "Failure policy"; issue 4, "Bad input and faults").
 */
import { statSync } from 'node:fs';

import {
  ObservableTaskTableError,
  type ObservableTaskTable,
  type TaskTableMetrics,
} from '../lib/index.js';

/** Tables to export: a fixed list, or a function asked again at every collection. */
export type TableSource = readonly ObservableTaskTable[] | (() => readonly ObservableTaskTable[]);

/**
 * What a collection found for one table: `ok`; `closed` (the handle was closed);
 * `missing` (its shared-memory object was removed or replaced since it was opened);
 * `corrupt` (it holds values no valid table holds); `error` (anything else).
 */
export type TableState = 'ok' | 'missing' | 'corrupt' | 'closed' | 'error';

/** The outcome of reading one table. `value` is null unless `state` is `ok`. */
export interface TableReadResult<T> {
  table: string;
  state: TableState;
  /** One line saying what went wrong, or null when `state` is `ok`. */
  error: string | null;
  value: T | null;
}

/** One table's metrics as read by one collection. */
export interface TableSnapshot extends TableReadResult<TaskTableMetrics> {
  /** When the table was created: the start of its cumulative counters. Null unless ok. */
  createdAt: Date | null;
}

/**
 * The tables of `source` right now, without duplicates (a table listed twice, or two
 * handles on the same name, would emit the same series twice).
 */
export function resolveTables(source: TableSource): readonly ObservableTaskTable[] {
  const tables = typeof source === 'function' ? source() : source;
  const seen = new Set<string>();
  return tables.filter((table) => {
    if (seen.has(table.name)) return false;
    seen.add(table.name);
    return true;
  });
}

/**
 * Checks a table source at setup: throws a TypeError naming `path` for anything but an
 * array of tables (with distinct names) or a function.
 */
export function checkTableSource(path: string, source: unknown): TableSource {
  if (typeof source === 'function') return source as () => readonly ObservableTaskTable[];
  if (!Array.isArray(source)) {
    throw new TypeError(
      `${path} must be an array of ObservableTaskTable or a function returning one`,
    );
  }
  const names = new Set<string>();
  source.forEach((table: unknown, i) => {
    const name = (table as { name?: unknown } | null)?.name;
    if (
      typeof table !== 'object' ||
      table === null ||
      typeof name !== 'string' ||
      typeof (table as { readMetrics?: unknown }).readMetrics !== 'function'
    ) {
      throw new TypeError(`${path}[${i}] must be an ObservableTaskTable`);
    }
    if (names.has(name)) {
      throw new RangeError(`${path}[${i}] repeats table "${name}"; list each table once`);
    }
    names.add(name);
  });
  return source as readonly ObservableTaskTable[];
}

/** The dev/inode each table's shared-memory object had when we first saw it. */
const identities = new WeakMap<ObservableTaskTable, { dev: number; ino: number }>();

/**
 * Why the table's shared-memory object is no longer the one this handle maps, or null.
 * Our mapping stays valid after an unlink, but new writers would create a fresh object
 * we do not see, so serving the old one as if it were healthy would hide their tasks.
 */
function missingReason(table: ObservableTaskTable): string | null {
  // Only Linux exposes POSIX shared memory as files; elsewhere we cannot tell.
  /* c8 ignore next */
  if (process.platform !== 'linux') return null;
  const { path } = table.layout;
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) {
    return `table "${table.name}" was removed (${path} no longer exists); restart the collector once its writers have recreated it`;
  }
  const known = identities.get(table);
  if (known === undefined) {
    identities.set(table, { dev: stat.dev, ino: stat.ino });
    return null;
  }
  if (known.dev !== stat.dev || known.ino !== stat.ino) {
    return `table "${table.name}" was removed and created again (${path}); restart the collector to read the new one`;
  }
  return null;
}

function classify(error: unknown): TableState {
  if (error instanceof ObservableTaskTableError) {
    if (error.code === 'ERR_TASK_TABLE_CLOSED') return 'closed';
    if (error.code === 'ERR_TASK_TABLE_CORRUPT' || error.code === 'ERR_TASK_TABLE_INCOMPATIBLE') {
      return 'corrupt';
    }
  }
  return 'error';
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ');
}

/**
 * Runs `read` on `table` unless it is closed or missing, and turns any error into a
 * state. Never throws.
 */
export function readTable<T>(
  table: ObservableTaskTable,
  read: (table: ObservableTaskTable) => T,
): TableReadResult<T> {
  const name = table.name;
  if (table.closed) {
    return { table: name, state: 'closed', error: `table "${name}" is closed`, value: null };
  }
  try {
    const missing = missingReason(table);
    if (missing !== null) return { table: name, state: 'missing', error: missing, value: null };
    return { table: name, state: 'ok', error: null, value: read(table) };
  } catch (error) {
    return { table: name, state: classify(error), error: oneLine(error), value: null };
  }
}

/**
 * One `readMetrics()` per table of `source`; each table's failure stays in its own
 * snapshot. `now` is the epoch milliseconds used for ages.
 */
export function collectTableSnapshots(source: TableSource, now = Date.now()): TableSnapshot[] {
  return resolveTables(source).map((table) => {
    const result = readTable(table, (t) => ({
      metrics: t.readMetrics(now),
      createdAt: t.layout.createdAt,
    }));
    return {
      table: result.table,
      state: result.state,
      error: result.error,
      value: result.value?.metrics ?? null,
      createdAt: result.value?.createdAt ?? null,
    };
  });
}
