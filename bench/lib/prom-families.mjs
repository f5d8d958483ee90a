// The scrape workload kept the way an application without the shared table keeps it:
// its own prom-client gauges, counters and histograms, family for family and label set
// for label set what the task table exports (design.md "Metrics contract"). Used by each
// node:cluster worker of the AggregatorRegistry comparison (fixtures/cluster-worker.mjs)
// for its share of the tasks, and in-process for the single-registry reference.
import { Counter, Gauge, Histogram } from 'prom-client';

import { DEFAULT_DURATION_BUCKETS, DROP_REASONS } from '../../dist/lib/index.js';
import { categoryNames } from './workload.mjs';

const STATUSES = ['pending', 'running', 'finished', 'failed', 'cancelled', 'timed_out'];
const FINALS = STATUSES.slice(2);
const TABLE = 'bench';

/**
 * Registers the families on `registry` and records the share of worker `index` of
 * `workers`: tasks i with i % workers === index, of `completed` ended and `live` live
 * tasks over `categoryCount` categories (the same split as workload.mjs fillTable()).
 */
export function buildFamilies(registry, { index, workers, live, completed, categoryCount }) {
  const registers = [registry];
  const buckets = [...DEFAULT_DURATION_BUCKETS];
  const tasks = new Gauge({
    name: 'observable_tasks',
    help: 'Tasks in the table.',
    labelNames: ['table', 'category', 'status'],
    registers,
  });
  const started = new Counter({
    name: 'observable_tasks_started_total',
    help: 'Tasks started.',
    labelNames: ['table', 'category'],
    registers,
  });
  const completedTotal = new Counter({
    name: 'observable_tasks_completed_total',
    help: 'Tasks completed.',
    labelNames: ['table', 'category', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'observable_task_duration_seconds',
    help: 'Task durations.',
    labelNames: ['table', 'category', 'status'],
    buckets,
    registers,
  });
  const wait = new Histogram({
    name: 'observable_task_wait_seconds',
    help: 'Task wait times.',
    labelNames: ['table', 'category'],
    buckets,
    registers,
  });
  const oldest = new Gauge({
    name: 'observable_task_oldest_update_age_seconds',
    help: 'Oldest update age.',
    labelNames: ['table', 'category'],
    registers,
  });
  const overdue = new Gauge({
    name: 'observable_tasks_overdue',
    help: 'Overdue tasks.',
    labelNames: ['table', 'category'],
    registers,
  });
  const capacity = new Gauge({
    name: 'observable_task_table_capacity',
    help: 'Capacity.',
    labelNames: ['table'],
    registers,
  });
  const slotsUsed = new Gauge({
    name: 'observable_task_table_slots_used',
    help: 'Slots used.',
    labelNames: ['table'],
    registers,
  });
  const unreadable = new Gauge({
    name: 'observable_task_table_unreadable_rows',
    help: 'Unreadable rows.',
    labelNames: ['table'],
    registers,
  });
  const up = new Gauge({
    name: 'observable_task_table_up',
    help: 'Whether the table could be read.',
    labelNames: ['table'],
    registers,
  });
  const dropped = new Counter({
    name: 'observable_task_table_dropped_total',
    help: 'Dropped.',
    labelNames: ['table', 'reason'],
    registers,
  });

  const table = TABLE;
  const categories = categoryNames(categoryCount);
  // Every series exists from the start, zero or not, as in the table's export.
  for (const category of categories) {
    for (const status of STATUSES) tasks.set({ table, category, status }, 0);
    started.inc({ table, category }, 0);
    for (const status of FINALS) {
      completedTotal.inc({ table, category, status }, 0);
      duration.zero({ table, category, status });
    }
    wait.zero({ table, category });
    oldest.set({ table, category }, 0);
    overdue.set({ table, category }, 0);
  }
  for (const reason of DROP_REASONS) dropped.inc({ table, reason }, 0);

  for (let i = index; i < completed; i += workers) {
    const category = categories[i % categoryCount];
    const status = FINALS[i % 7 === 0 ? 1 + (i % 3) : 0];
    started.inc({ table, category });
    completedTotal.inc({ table, category, status });
    duration.observe({ table, category, status }, (i % 1000) / 100);
    wait.observe({ table, category }, (i % 10) / 1000);
  }
  let mine = 0;
  for (let i = index; i < live; i += workers) {
    const category = categories[i % categoryCount];
    tasks.inc({ table, category, status: i % 10 === 0 ? 'pending' : 'running' });
    started.inc({ table, category });
    mine++;
  }
  for (const category of categories) oldest.set({ table, category }, 1.5);
  capacity.set({ table }, live);
  slotsUsed.set({ table }, mine);
  unreadable.set({ table }, 0);
  up.set({ table }, 1);
}
