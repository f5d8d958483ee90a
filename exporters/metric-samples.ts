/**
 * Internal. Turns table snapshots into the label sets and values of each metric in
 * metric-definitions.ts, once, so that the Prometheus and OpenTelemetry exporters agree
 * series for series and differ only in wire format.
 */
import {
  DROP_REASONS,
  FINAL_OBSERVABLE_TASK_STATUSES,
  OBSERVABLE_TASK_STATUSES,
  type HistogramSnapshot,
} from '../lib/index.js';
import type { MetricLabel, TaskTableMetricKey } from './metric-definitions.js';
import type { TableSnapshot } from './table-snapshot.js';

/** Label (attribute) values of one series. */
export type SampleLabels = Partial<Record<MetricLabel, string>>;

/** One gauge or counter value. */
export interface NumberSample {
  labels: SampleLabels;
  value: number;
}

/** One histogram: the table's shared buckets for one label set. */
export interface HistogramSample {
  labels: SampleLabels;
  histogram: HistogramSnapshot;
}

/** Keys of the gauges and counters. */
export type NumberKey = Exclude<TaskTableMetricKey, 'duration' | 'wait'>;

/**
 * Calls `emit` for every value of the gauge or counter `key` in `snapshots`. Tables that
 * could not be read contribute only `up` = 0.
 */
export function forEachNumberSample(
  key: NumberKey,
  snapshots: readonly TableSnapshot[],
  emit: (sample: NumberSample, snapshot: TableSnapshot) => void,
): void {
  for (const snapshot of snapshots) {
    const table = snapshot.table;
    if (key === 'up') {
      emit({ labels: { table }, value: snapshot.state === 'ok' ? 1 : 0 }, snapshot);
      continue;
    }
    const m = snapshot.value;
    if (m === null) continue;
    switch (key) {
      case 'capacity':
        emit({ labels: { table }, value: m.capacity }, snapshot);
        break;
      case 'slotsUsed':
        emit({ labels: { table }, value: m.slotsUsed }, snapshot);
        break;
      case 'unreadableRows':
        emit({ labels: { table }, value: m.unreadableRows }, snapshot);
        break;
      case 'dropped':
        for (const reason of DROP_REASONS) {
          emit({ labels: { table, reason }, value: m.dropped[reason] }, snapshot);
        }
        break;
      default:
        for (const c of m.categories) {
          const category = c.category;
          switch (key) {
            case 'tasks':
              for (const status of OBSERVABLE_TASK_STATUSES) {
                emit({ labels: { table, category, status }, value: c.tasks[status] }, snapshot);
              }
              break;
            case 'started':
              emit({ labels: { table, category }, value: c.started }, snapshot);
              break;
            case 'completed':
              for (const status of FINAL_OBSERVABLE_TASK_STATUSES) {
                emit({ labels: { table, category, status }, value: c.completed[status] }, snapshot);
              }
              break;
            case 'oldestUpdateAge':
              emit({ labels: { table, category }, value: c.oldestUpdateAgeSeconds ?? 0 }, snapshot);
              break;
            case 'overdue':
              emit({ labels: { table, category }, value: c.overdue }, snapshot);
              break;
          }
        }
    }
  }
}

/** Calls `emit` for every histogram of `key` (`duration` or `wait`) in `snapshots`. */
export function forEachHistogramSample(
  key: 'duration' | 'wait',
  snapshots: readonly TableSnapshot[],
  emit: (sample: HistogramSample, snapshot: TableSnapshot) => void,
): void {
  for (const snapshot of snapshots) {
    const m = snapshot.value;
    if (m === null) continue;
    const table = snapshot.table;
    for (const c of m.categories) {
      const category = c.category;
      if (key === 'wait') {
        emit({ labels: { table, category }, histogram: c.wait }, snapshot);
        continue;
      }
      for (const status of FINAL_OBSERVABLE_TASK_STATUSES) {
        emit({ labels: { table, category, status }, histogram: c.duration[status] }, snapshot);
      }
    }
  }
}

/** True for the keys whose metric is a histogram. */
export function isHistogramKey(key: TaskTableMetricKey): key is 'duration' | 'wait' {
  return key === 'duration' || key === 'wait';
}
