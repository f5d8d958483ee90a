/**
 * OpenTelemetry exporter (`observable-task-table/otel`): the table metrics for
 * @opentelemetry/sdk-metrics, as a meter registration, a MetricProducer, and an OTLP/HTTP
 * push.
 */
export { registerTaskTableMetrics } from './meter-registration.js';
export type { MeterRegistrationOptions, TaskTableMeterRegistration } from './meter-registration.js';
export { TaskTableMetricProducer, INSTRUMENTATION_SCOPE } from './task-table-metric-producer.js';
export type { TaskTableMetricProducerOptions } from './task-table-metric-producer.js';
export { startOtlpPush, otlpMetricsUrl } from './otlp-push.js';
export type { OtlpPush, OtlpPushOptions } from './otlp-push.js';
export { TASK_TABLE_METRIC_DEFINITIONS, OTEL_METRIC_NAMES } from '../metric-definitions.js';
export type { TaskTableMetricDefinition } from '../metric-definitions.js';
export type { TableSource, TableState } from '../table-snapshot.js';
