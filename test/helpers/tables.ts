// Tables for tests: each uniquely named, closed and removed in teardown.
import type { Test } from 'tap';

import {
  ObservableTaskTable,
  type ObservableTaskTableOptions,
  type TaskTableMetrics,
} from '../../lib/index.js';
import { uniqueTableName } from './index.js';

/** Opens a fresh table (64 rows unless `options` say otherwise), closed in t's teardown. */
export function openTable(
  t: Pick<Test, 'teardown'>,
  options: ObservableTaskTableOptions = {},
): ObservableTaskTable {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 64, ...options });
  t.teardown(() => table.close());
  return table;
}

/** Counts readMetrics() calls on `table`, to prove one read per collection. */
export function countReads(table: ObservableTaskTable): { count: number } {
  const counter = { count: 0 };
  const original = table.readMetrics.bind(table);
  table.readMetrics = (now?: number): TaskTableMetrics => {
    counter.count++;
    return original(now);
  };
  return counter;
}
