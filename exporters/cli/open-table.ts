/**
 * Opening tables from the CLI. Commands that inspect or serve a table must never create
 * one as a side effect of a typo, so every command attaches read-only first (which fails
 * with TaskTableNotFoundError for a missing table) and only then, if it needs to write,
 * attaches again for writing.
 */
import {
  DEFAULT_TABLE_OPTIONS,
  ObservableTaskTable,
  TABLE_NAME_ENV,
  TaskTablePermissionError,
} from '../../lib/index.js';

/** How a command needs the table. */
export type TableAccess =
  /** Read only (ls, top, inspect). */
  | 'read'
  /** Write (cancel): fail when the process may not write. */
  | 'write'
  /** Write when allowed, else read (serve: writing lets the collector reclaim dead owners' rows). */
  | 'prefer-write';

/** The name `open()` uses when none is given: env OBSERVABLE_TASK_TABLE, else the default. */
export function defaultTableName(env = process.env): string {
  const name = env[TABLE_NAME_ENV];
  return name !== undefined && name !== '' ? name : DEFAULT_TABLE_OPTIONS.name;
}

/**
 * Attaches to an existing table. `name` undefined means the library default.
 * @throws {TaskTableNotFoundError} when the table does not exist (nothing is created).
 * @throws {TaskTablePermissionError} when `access` is 'write' and the process may not write.
 */
export function openExistingTable(
  name: string | undefined,
  access: TableAccess,
): ObservableTaskTable {
  const probe = ObservableTaskTable.open({ name, readOnly: true });
  if (access === 'read') return probe;
  probe.close();
  // A table removed between the probe and this open would be re-created empty here; the
  // window is a few microseconds and the result is a valid (empty) table, so we accept it.
  try {
    return ObservableTaskTable.open({ name });
  } catch (error) {
    if (access === 'prefer-write' && error instanceof TaskTablePermissionError) {
      return ObservableTaskTable.open({ name, readOnly: true });
    }
    throw error;
  }
}
