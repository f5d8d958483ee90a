/**
 * Run-time trouble in observation (data too large, a name cut short, ...) never throws
 * into a task: it is counted in the table and reported once per code through
 * `process.emitWarning`, and on the diagnostics channel `observable-task-table:drop`
 * whenever someone subscribes.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

import type { DropReason } from './internal/native.js';

/** Name of the diagnostics channel that receives every drop. */
export const DROP_CHANNEL = 'observable-task-table:drop';

/** What is published on {@link DROP_CHANNEL}. */
export interface DropMessage {
  table: string;
  reason: DropReason;
  detail: string;
}

const channel = diagnosticsChannel.channel(DROP_CHANNEL);
const warned = new Set<string>();

/** Warning codes, one per drop reason. */
export function warningCode(reason: DropReason): string {
  return `TASK_TABLE_${reason.toUpperCase()}`;
}

/** Publishes a drop and emits its warning the first time its code is seen in this thread. */
export function reportDrop(table: string, reason: DropReason, detail: string): void {
  if (channel.hasSubscribers) channel.publish({ table, reason, detail } satisfies DropMessage);
  const code = warningCode(reason);
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(`${detail} (further cases are counted, not warned)`, {
    type: 'ObservableTaskTableWarning',
    code,
  });
}
