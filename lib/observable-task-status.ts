/** The statuses a task goes through, as stored in the table and shown in metrics. */
export const ObservableTaskStatus = Object.freeze({
  Pending: 'pending',
  Running: 'running',
  Finished: 'finished',
  Failed: 'failed',
  Cancelled: 'cancelled',
  TimedOut: 'timed_out',
} as const);

/** One of `pending`, `running`, `finished`, `failed`, `cancelled`, `timed_out`. */
export type ObservableTaskStatus = (typeof ObservableTaskStatus)[keyof typeof ObservableTaskStatus];

/** A status after which the task is over: `finished`, `failed`, `cancelled`, `timed_out`. */
export type FinalObservableTaskStatus = Exclude<ObservableTaskStatus, 'pending' | 'running'>;

/** Every status, in lifecycle order. */
export const OBSERVABLE_TASK_STATUSES: readonly ObservableTaskStatus[] = Object.freeze(
  Object.values(ObservableTaskStatus),
);

/** The four final statuses, in the order the shared counters keep them. */
export const FINAL_OBSERVABLE_TASK_STATUSES: readonly FinalObservableTaskStatus[] = Object.freeze([
  'finished',
  'failed',
  'cancelled',
  'timed_out',
] as const);

const STATUS_SET = new Set<string>(OBSERVABLE_TASK_STATUSES);

/** True when `status` is one of the six statuses. */
export function isObservableTaskStatus(status: unknown): status is ObservableTaskStatus {
  return typeof status === 'string' && STATUS_SET.has(status);
}

/** True for the final statuses: `finished`, `failed`, `cancelled`, `timed_out`. */
export function isFinalStatus(
  status: ObservableTaskStatus | string,
): status is FinalObservableTaskStatus {
  return (
    status === 'finished' || status === 'failed' || status === 'cancelled' || status === 'timed_out'
  );
}
