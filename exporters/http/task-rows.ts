/**
 * The rows the JSON API, the dashboard and the live feed show: every table's rows with
 * the table name, the row's age and whether it is overdue, filtered by the query string.
 */
import {
  isFinalStatus,
  isObservableTaskStatus,
  type ObservableTaskStatus,
  type ObservableTaskTable,
  type ObservableTaskTableRow,
} from '../../lib/index.js';
import { compareRowsForDisplay } from '../row-order.js';
import { readTable, resolveTables, type TableState } from '../table-snapshot.js';

/** Which rows to show. An absent field matches every row. */
export interface TaskFilters {
  status?: ObservableTaskStatus;
  category?: string;
  table?: string;
}

/** A row as the JSON API returns it: `row.toJSON()` plus the table and derived fields. */
export interface TaskRowJson extends Record<string, unknown> {
  table: string;
  id: string;
  status: ObservableTaskStatus;
  name: string;
  category: string;
  /** Seconds since the task started. */
  ageSeconds: number;
  /** Seconds since the row's last update. */
  sinceUpdateSeconds: number;
  /** Not final, and its last update is older than its own inactivity timeout. */
  overdue: boolean;
}

/** The health of one table as the routes report it. */
export interface TableStatus {
  table: string;
  state: TableState;
  error: string | null;
}

/** One read of every table's rows. */
export interface TaskRowsRead {
  tables: TableStatus[];
  /** Unfinished rows first, the longest silent first; then ended ones, newest first. */
  rows: Array<{ table: string; row: ObservableTaskTableRow; json: TaskRowJson }>;
  /** Categories seen in any row of any table, sorted. */
  categories: string[];
  collectedAt: Date;
}

/** Reads the query string's filters; a string naming what is wrong when one is invalid. */
export function parseTaskFilters(query: URLSearchParams): TaskFilters | string {
  const filters: TaskFilters = {};
  for (const key of ['status', 'category', 'table'] as const) {
    const values = query.getAll(key);
    if (values.length > 1) return `give ${key} at most once`;
    const value = values[0];
    if (value === undefined || value === '') continue;
    if (value.length > 1024) return `${key} is too long`;
    if (key === 'status') {
      if (!isObservableTaskStatus(value))
        return `status must be one of pending, running, finished, failed, cancelled, timed_out`;
      filters.status = value;
    } else {
      filters[key] = value;
    }
  }
  return filters;
}

/** True when the row is not final and has been silent longer than its inactivity timeout. */
export function isOverdue(row: ObservableTaskTableRow, nowMs: number): boolean {
  if (isFinalStatus(row.status) || row.inactivityTimeout === null) return false;
  return nowMs - row.modifiedAt.getTime() > row.inactivityTimeout * 1000;
}

/** Reads the rows of every table once, keeping each table's failure to itself. */
export function readTaskRows(
  tables: readonly ObservableTaskTable[],
  nowMs = Date.now(),
): TaskRowsRead {
  const statuses: TableStatus[] = [];
  const rows: TaskRowsRead['rows'] = [];
  const categories = new Set<string>();
  for (const table of resolveTables(tables)) {
    const result = readTable(table, (t) => [...t]);
    statuses.push({ table: result.table, state: result.state, error: result.error });
    for (const [, row] of result.value ?? []) {
      categories.add(row.category);
      rows.push({ table: result.table, row, json: toJson(result.table, row, nowMs) });
    }
  }
  rows.sort((a, b) => compareRowsForDisplay(a.row, b.row));
  return {
    tables: statuses,
    rows,
    categories: [...categories].sort(),
    collectedAt: new Date(nowMs),
  };
}

/** The rows of `read` that match `filters` (the same read otherwise). */
export function filterTaskRows(read: TaskRowsRead, filters: TaskFilters): TaskRowsRead {
  const { status, category, table } = filters;
  if (status === undefined && category === undefined && table === undefined) return read;
  const rows = read.rows.filter(
    (r) =>
      (status === undefined || r.row.status === status) &&
      (category === undefined || r.row.category === category) &&
      (table === undefined || r.table === table),
  );
  return { ...read, rows };
}

/** A stable key of a filter set, to share one rendering between clients that agree. */
export function filterKey(filters: TaskFilters): string {
  return JSON.stringify([filters.status ?? null, filters.category ?? null, filters.table ?? null]);
}

function toJson(table: string, row: ObservableTaskTableRow, nowMs: number): TaskRowJson {
  return {
    table,
    ...row.toJSON(),
    id: row.id,
    status: row.status,
    name: row.name,
    category: row.category,
    ageSeconds: Math.max(0, (nowMs - row.startedAt.getTime()) / 1000),
    sinceUpdateSeconds: Math.max(0, (nowMs - row.modifiedAt.getTime()) / 1000),
    overdue: isOverdue(row, nowMs),
  };
}
