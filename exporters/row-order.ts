/**
 * The order in which rows are shown to people watching a table (the dashboard's order):
 * tasks not yet final first, the longest silent first, so a stuck task is at the top;
 * then ended tasks, the most recently ended first. Ties keep slot order.
 */
import { isFinalStatus, type ObservableTaskTableRow } from '../lib/index.js';

/** Compares two rows for `Array.prototype.sort` in display order. */
export function compareRowsForDisplay(
  a: Pick<ObservableTaskTableRow, 'status' | 'modifiedAt' | 'slot'>,
  b: Pick<ObservableTaskTableRow, 'status' | 'modifiedAt' | 'slot'>,
): number {
  const aFinal = isFinalStatus(a.status);
  const bFinal = isFinalStatus(b.status);
  if (aFinal !== bFinal) return aFinal ? 1 : -1;
  const byUpdate = a.modifiedAt.getTime() - b.modifiedAt.getTime();
  return (aFinal ? -byUpdate : byUpdate) || a.slot - b.slot;
}
