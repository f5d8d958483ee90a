/**
 * The read model for exporters: one consistent pass over a table's rows plus its shared
 * counters, aggregated per category. Prometheus, OpenTelemetry, the dashboard and
 * third-party exporters all read this; none of them touches rows one by one.
 */
import {
  FINAL_OBSERVABLE_TASK_STATUSES,
  OBSERVABLE_TASK_STATUSES,
  type FinalObservableTaskStatus,
  type ObservableTaskStatus,
} from './observable-task-status.js';
import { LIMITS } from './internal/limits.js';
import type { DropReason } from './internal/native.js';
import type { SharedTable } from './internal/shared-table.js';

/** A histogram read from the table's shared buckets. */
export interface HistogramSnapshot {
  /** Upper bounds in seconds (the table's `durationBuckets`). */
  bounds: readonly number[];
  /** Cumulative counts: observations <= bounds[i]. */
  cumulativeCounts: number[];
  /** All observations (the +Inf bucket). */
  count: number;
  /** Sum of observations in seconds. */
  sum: number;
}

/** Everything known about one category at one moment. */
export interface CategoryMetrics {
  category: string;
  /** Rows now in the table, per status (ended rows stay until their slot is reused). */
  tasks: Record<ObservableTaskStatus, number>;
  /** Longest time since the last update among tasks not yet final, or null if none. */
  oldestUpdateAgeSeconds: number | null;
  /** Tasks not final whose last update is older than their own inactivity timeout. */
  overdue: number;
  /** Tasks started since the table was created. */
  started: number;
  /** Tasks ended since the table was created, per final status. */
  completed: Record<FinalObservableTaskStatus, number>;
  /** Start-to-end durations per final status. */
  duration: Record<FinalObservableTaskStatus, HistogramSnapshot>;
  /** Pending-to-first-running wait times. */
  wait: HistogramSnapshot;
}

/** One collection of a table for exporters (see `ObservableTaskTable#readMetrics()`). */
export interface TaskTableMetrics {
  table: string;
  capacity: number;
  /** Slots claimed by running tasks. */
  slotsUsed: number;
  /** Rows holding a task, running or ended. */
  rows: number;
  /** Rows skipped because they stayed mid-write (a writer died) or held impossible values. */
  unreadableRows: number;
  categories: CategoryMetrics[];
  /** Observations dropped or altered by the failure policy, per reason. */
  dropped: Record<DropReason, number>;
  durationBuckets: readonly number[];
  collectedAt: Date;
}

const STATS_OLDEST = 7;
const STATS_OVERDUE = 8;

/** Internal. Reads `shared` once and aggregates it. */
export function collectMetrics(shared: SharedTable, now = Date.now()): TaskTableMetrics {
  const bounds = shared.layout.durationBuckets;
  const stats = shared.scanStats(now);
  const categories = new Map<string, CategoryMetrics>();
  const per = LIMITS.statsPerCategory;
  const count = shared.layout.maxCategories + 1;
  for (let index = 0; index < count; index++) {
    const base = index * per;
    let rows = 0;
    for (let s = 1; s <= 6; s++) rows += stats[base + s] as number;
    const entry = shared.readCategory(index);
    // The built-in "other" entry always exists; show it only once something landed there.
    const unused = entry === undefined || (index === count - 1 && entry.counters[0] === 0);
    if (unused && rows === 0) continue;
    const name = entry?.name ?? 'other';
    let metrics = categories.get(name);
    if (metrics === undefined) {
      metrics = emptyCategory(name, bounds);
      categories.set(name, metrics);
    }
    OBSERVABLE_TASK_STATUSES.forEach((status, i) => {
      metrics.tasks[status] += stats[base + i + 1] as number;
    });
    const oldest = stats[base + STATS_OLDEST] as number;
    if (Number.isFinite(oldest)) {
      const age = Math.max(0, (now - oldest) / 1000);
      metrics.oldestUpdateAgeSeconds = Math.max(metrics.oldestUpdateAgeSeconds ?? 0, age);
    }
    metrics.overdue += stats[base + STATS_OVERDUE] as number;
    if (entry !== undefined) addCounters(metrics, entry.counters, bounds.length);
  }
  const trailer = count * per;
  return {
    table: shared.name,
    capacity: shared.layout.maxTasks,
    slotsUsed: stats[trailer] as number,
    rows: stats[trailer + 3] as number,
    unreadableRows: (stats[trailer + 1] as number) + (stats[trailer + 2] as number),
    categories: [...categories.values()],
    dropped: shared.readDropped(),
    durationBuckets: bounds,
    collectedAt: new Date(now),
  };
}

function emptyHistogram(bounds: readonly number[]): HistogramSnapshot {
  return { bounds, cumulativeCounts: bounds.map(() => 0), count: 0, sum: 0 };
}

function emptyCategory(category: string, bounds: readonly number[]): CategoryMetrics {
  const byStatus = Object.fromEntries(OBSERVABLE_TASK_STATUSES.map((s) => [s, 0])) as Record<
    ObservableTaskStatus,
    number
  >;
  const byFinal = <T>(make: () => T): Record<FinalObservableTaskStatus, T> =>
    Object.fromEntries(FINAL_OBSERVABLE_TASK_STATUSES.map((s) => [s, make()])) as Record<
      FinalObservableTaskStatus,
      T
    >;
  return {
    category,
    tasks: byStatus,
    oldestUpdateAgeSeconds: null,
    overdue: 0,
    started: 0,
    completed: byFinal(() => 0),
    duration: byFinal(() => emptyHistogram(bounds)),
    wait: emptyHistogram(bounds),
  };
}

// Layout of NativeTable#readCategory's output (native Table::ReadCategory).
function addCounters(metrics: CategoryMetrics, c: Float64Array, bucketCount: number): void {
  let k = 0;
  metrics.started += c[k++] as number;
  for (const status of FINAL_OBSERVABLE_TASK_STATUSES)
    metrics.completed[status] += c[k++] as number;
  const durationSums = FINAL_OBSERVABLE_TASK_STATUSES.map(() => (c[k++] as number) / 1e6);
  const waitSum = (c[k++] as number) / 1e6;
  k++; // wait_count: equals the sum of the wait buckets
  const addBuckets = (h: HistogramSnapshot, sum: number): void => {
    let running = 0;
    for (let b = 0; b <= bucketCount; b++) {
      running += c[k++] as number;
      if (b < bucketCount) h.cumulativeCounts[b] = (h.cumulativeCounts[b] as number) + running;
    }
    h.count += running;
    h.sum += sum;
  };
  FINAL_OBSERVABLE_TASK_STATUSES.forEach((status, i) =>
    addBuckets(metrics.duration[status], durationSums[i] as number),
  );
  addBuckets(metrics.wait, waitSum);
}
