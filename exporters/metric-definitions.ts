/**
 * The one list of metrics this package exports (design.md, "Metrics contract"). The
 * Prometheus and OpenTelemetry exporters both derive their families from it, and tests
 * assert that each exporter emits every definition, the way prom-client's default metrics
 * export their `metricNames`.
 */

/** How a metric behaves over time. */
export type MetricKind = 'gauge' | 'counter' | 'histogram';

/** A label (Prometheus) or attribute (OpenTelemetry) name. */
export type MetricLabel = 'table' | 'category' | 'status' | 'reason';

/** One metric, under both of its wire names. */
export interface TaskTableMetricDefinition {
  /** Name in the Prometheus text exposition, with unit and `_total` suffixes. */
  readonly prometheusName: string;
  /** Name in OpenTelemetry: the Prometheus name without unit and `_total` suffixes. */
  readonly otelName: string;
  /** One sentence for `# HELP` and the OpenTelemetry description. */
  readonly help: string;
  readonly type: MetricKind;
  /** UCUM unit for OpenTelemetry (`s` for seconds, `{task}` for a count of tasks). */
  readonly unit: string;
  /** Whether values are whole numbers (OTLP `asInt`) or may have fractions (`asDouble`). */
  readonly valueType: 'int' | 'double';
  /** Label names, in the order they are emitted. */
  readonly labels: readonly MetricLabel[];
}

function define(definition: TaskTableMetricDefinition): TaskTableMetricDefinition {
  return Object.freeze({ ...definition, labels: Object.freeze([...definition.labels]) });
}

/** Every metric by a short key, for exporters that look one up. */
export const TASK_TABLE_METRICS = Object.freeze({
  tasks: define({
    prometheusName: 'observable_tasks',
    otelName: 'observable_tasks',
    help: 'Rows now in the table, per category and status (ended rows stay until their slot is reused).',
    type: 'gauge',
    unit: '{task}',
    valueType: 'int',
    labels: ['table', 'category', 'status'],
  }),
  started: define({
    prometheusName: 'observable_tasks_started_total',
    otelName: 'observable_tasks_started',
    help: 'Tasks started since the table was created.',
    type: 'counter',
    unit: '{task}',
    valueType: 'int',
    labels: ['table', 'category'],
  }),
  completed: define({
    prometheusName: 'observable_tasks_completed_total',
    otelName: 'observable_tasks_completed',
    help: 'Tasks ended since the table was created, per final status.',
    type: 'counter',
    unit: '{task}',
    valueType: 'int',
    labels: ['table', 'category', 'status'],
  }),
  duration: define({
    prometheusName: 'observable_task_duration_seconds',
    otelName: 'observable_task_duration',
    help: 'Time from the start of a task to its final status, per final status.',
    type: 'histogram',
    unit: 's',
    valueType: 'double',
    labels: ['table', 'category', 'status'],
  }),
  wait: define({
    prometheusName: 'observable_task_wait_seconds',
    otelName: 'observable_task_wait',
    help: 'Time a task spent pending before it first ran.',
    type: 'histogram',
    unit: 's',
    valueType: 'double',
    labels: ['table', 'category'],
  }),
  oldestUpdateAge: define({
    prometheusName: 'observable_task_oldest_update_age_seconds',
    otelName: 'observable_task_oldest_update_age',
    help: 'Longest time since the last update among tasks not yet final (0 when there are none).',
    type: 'gauge',
    unit: 's',
    valueType: 'double',
    labels: ['table', 'category'],
  }),
  overdue: define({
    prometheusName: 'observable_tasks_overdue',
    otelName: 'observable_tasks_overdue',
    help: 'Tasks not final whose last update is older than their own inactivity timeout.',
    type: 'gauge',
    unit: '{task}',
    valueType: 'int',
    labels: ['table', 'category'],
  }),
  capacity: define({
    prometheusName: 'observable_task_table_capacity',
    otelName: 'observable_task_table_capacity',
    help: 'Rows the table has (its maxTasks).',
    type: 'gauge',
    unit: '{slot}',
    valueType: 'int',
    labels: ['table'],
  }),
  slotsUsed: define({
    prometheusName: 'observable_task_table_slots_used',
    otelName: 'observable_task_table_slots_used',
    help: 'Slots claimed by tasks that have not ended.',
    type: 'gauge',
    unit: '{slot}',
    valueType: 'int',
    labels: ['table'],
  }),
  dropped: define({
    prometheusName: 'observable_task_table_dropped_total',
    otelName: 'observable_task_table_dropped',
    help: 'Observations dropped or altered by the failure policy, per reason.',
    type: 'counter',
    unit: '{event}',
    valueType: 'int',
    labels: ['table', 'reason'],
  }),
  unreadableRows: define({
    prometheusName: 'observable_task_table_unreadable_rows',
    otelName: 'observable_task_table_unreadable_rows',
    help: 'Rows skipped by the last collection because a writer died mid-write or they held impossible values.',
    type: 'gauge',
    unit: '{row}',
    valueType: 'int',
    labels: ['table'],
  }),
  up: define({
    prometheusName: 'observable_task_table_up',
    otelName: 'observable_task_table_up',
    help: '1 when the table could be read, 0 when it is missing, closed or corrupt.',
    type: 'gauge',
    unit: '1',
    valueType: 'int',
    labels: ['table'],
  }),
});

/** Key of a metric in {@link TASK_TABLE_METRICS}. */
export type TaskTableMetricKey = keyof typeof TASK_TABLE_METRICS;

/** Every metric, in exposition order. */
export const TASK_TABLE_METRIC_DEFINITIONS: readonly TaskTableMetricDefinition[] = Object.freeze(
  Object.values(TASK_TABLE_METRICS),
);

/** Every Prometheus name, in exposition order (prom-client's `metricNames` idea). */
export const PROMETHEUS_METRIC_NAMES: readonly string[] = Object.freeze(
  TASK_TABLE_METRIC_DEFINITIONS.map((d) => d.prometheusName),
);

/** Every OpenTelemetry name, in exposition order. */
export const OTEL_METRIC_NAMES: readonly string[] = Object.freeze(
  TASK_TABLE_METRIC_DEFINITIONS.map((d) => d.otelName),
);
