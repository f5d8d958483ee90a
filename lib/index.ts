/**
 * observable-task-table: watch long-running tasks across Node.js processes through a
 * crash-safe shared-memory table. Every public name is listed here; anything else is
 * internal, however easy it is to reach.
 */
export { ObservableTaskTable } from './observable-task-table.js';
export type { RunOptions, TaskReport, TaskTableLayout } from './observable-task-table.js';
export { ObservableTask } from './observable-task.js';
export type {
  IterableTask,
  IterableTaskFunction,
  ObservableTaskOptions,
  ObservableTaskUpdates,
} from './observable-task.js';
export {
  ObservableTaskStatus,
  isFinalStatus,
  isObservableTaskStatus,
  OBSERVABLE_TASK_STATUSES,
  FINAL_OBSERVABLE_TASK_STATUSES,
} from './observable-task-status.js';
export type { FinalObservableTaskStatus } from './observable-task-status.js';
export { ObservableTaskStatusUpdate } from './observable-task-status-update.js';
export { ObservableTaskTimeoutIterator } from './observable-task-timeout-iterator.js';
export type { ObservableTaskTimeoutIteratorOptions } from './observable-task-timeout-iterator.js';
export { ObservableTaskTableRow } from './observable-task-table-row.js';
export { DEFAULT_TABLE_OPTIONS, DEFAULT_DURATION_BUCKETS, TABLE_NAME_ENV } from './options.js';
export type { ObservableTaskTableOptions, OnFullPolicy } from './options.js';
export type { CategoryMetrics, HistogramSnapshot, TaskTableMetrics } from './table-metrics.js';
export { DROP_REASONS } from './internal/native.js';
export type { DropReason } from './internal/native.js';
export { DROP_CHANNEL } from './warnings.js';
export type { DropMessage } from './warnings.js';
export type { DroppedDataMarker, SerializedError } from './serialization.js';
export {
  ObservableTaskTableError,
  TaskTableFullError,
  TaskTableLayoutMismatchError,
  TaskTableCorruptError,
  TaskTableIncompatibleError,
  TaskTableNotReadyError,
  SharedMemoryError,
  TaskTableNoSpaceError,
  TaskTablePermissionError,
  TaskTableNotFoundError,
  TaskTableClosedError,
  TaskTableReadOnlyError,
} from './errors.js';
export type { ErrorCode, SystemErrorFields } from './errors.js';
