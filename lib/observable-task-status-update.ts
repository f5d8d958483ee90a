import { isObservableTaskStatus, type ObservableTaskStatus } from './observable-task-status.js';
import { invalidValue } from './internal/validate.js';

/**
 * One status update of a task: a status and JSON-serializable data (or null). An `Error`
 * given as data is stored as `{ name, message, code?, stack? }`.
 */
export class ObservableTaskStatusUpdate<TData = unknown> {
  readonly status: ObservableTaskStatus;
  readonly data: TData | null;

  /**
   * @throws {TypeError} (`ERR_INVALID_ARG_VALUE`) when `status` is not one of the six
   * statuses: a programming error, reported where it is made.
   */
  constructor(status: ObservableTaskStatus, data: TData | null = null) {
    if (!isObservableTaskStatus(status)) {
      throw invalidValue(
        'status',
        "must be one of 'pending', 'running', 'finished', 'failed', 'cancelled', 'timed_out'",
        status,
      );
    }
    this.status = status;
    this.data = data;
  }
}
