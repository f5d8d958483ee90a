/**
 * A MetricProducer for @opentelemetry/sdk-metrics: every metric of design.md, including
 * real histograms built from the table's shared buckets, which observable instruments
 * cannot express. Pass it to any MetricReader's `metricProducers` option.
 */
import { ValueType, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricCollectOptions,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';

import {
  TASK_TABLE_METRICS,
  type TaskTableMetricDefinition,
  type TaskTableMetricKey,
} from '../metric-definitions.js';
import { forEachHistogramSample, forEachNumberSample, isHistogramKey } from '../metric-samples.js';
import {
  checkTableSource,
  collectTableSnapshots,
  type TableSnapshot,
  type TableSource,
} from '../table-snapshot.js';

/** Options of {@link TaskTableMetricProducer}. */
export interface TaskTableMetricProducerOptions {
  /** Clock for ages and timestamps, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** The instrumentation scope of every metric this package produces. */
export const INSTRUMENTATION_SCOPE = Object.freeze({ name: 'observable-task-table' });

/** The descriptor of a definition as OpenTelemetry names it. */
export function otelDescriptor(definition: TaskTableMetricDefinition): MetricDescriptor {
  return {
    name: definition.otelName,
    description: definition.help,
    unit: definition.unit,
    valueType: definition.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE,
  };
}

/**
 * Produces the table metrics on demand, reading each table once per `collect()`. Counters
 * and histograms are cumulative since the table's creation (their start time); tables
 * that cannot be read yield `observable_task_table_up` 0 and an entry in `errors`.
 */
export class TaskTableMetricProducer implements MetricProducer {
  readonly #tables: TableSource;
  readonly #now: () => number;

  /**
   * @param tables the tables, or a function returning them at each collection.
   * @throws {TypeError|RangeError} for a bad `tables` argument.
   */
  constructor(tables: TableSource, options: TaskTableMetricProducerOptions = {}) {
    this.#tables = checkTableSource('tables', tables);
    const now = options.now ?? Date.now;
    if (typeof now !== 'function') throw new TypeError('options.now must be a function');
    this.#now = now;
  }

  /** One collection of every table. Never rejects because of a table. */
  async collect(_options?: MetricCollectOptions): Promise<CollectionResult> {
    const nowMs = this.#now();
    const snapshots = collectTableSnapshots(this.#tables, nowMs);
    const endTime = millisToHrTime(nowMs);
    const metrics: MetricData[] = [];
    for (const key of Object.keys(TASK_TABLE_METRICS) as TaskTableMetricKey[]) {
      const data = metricData(key, snapshots, endTime);
      if (data.dataPoints.length > 0) metrics.push(data);
    }
    const errors = snapshots
      .filter((s) => s.error !== null)
      .map((s) => Object.assign(new Error(s.error ?? ''), { table: s.table, state: s.state }));
    return {
      resourceMetrics: {
        // A MetricReader keeps its own MeterProvider's resource and ignores this one.
        resource: emptyResource(),
        scopeMetrics: metrics.length === 0 ? [] : [{ scope: INSTRUMENTATION_SCOPE, metrics }],
      },
      errors,
    };
  }
}

function startTimeOf(snapshot: TableSnapshot, endTime: HrTime): HrTime {
  return snapshot.createdAt === null ? endTime : millisToHrTime(snapshot.createdAt.getTime());
}

function metricData(
  key: TaskTableMetricKey,
  snapshots: readonly TableSnapshot[],
  endTime: HrTime,
): MetricData {
  const definition = TASK_TABLE_METRICS[key];
  const descriptor = otelDescriptor(definition);
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  if (isHistogramKey(key)) {
    const dataPoints: DataPoint<Histogram>[] = [];
    forEachHistogramSample(key, snapshots, ({ labels, histogram }, snapshot) => {
      // Shared buckets are cumulative (<= bound); OTLP wants each bucket's own count,
      // plus the overflow bucket above the last bound.
      const counts: number[] = [];
      let below = 0;
      for (const cumulative of histogram.cumulativeCounts) {
        counts.push(cumulative - below);
        below = cumulative;
      }
      counts.push(histogram.count - below);
      dataPoints.push({
        startTime: startTimeOf(snapshot, endTime),
        endTime,
        attributes: labels,
        value: {
          buckets: { boundaries: [...histogram.bounds], counts },
          sum: histogram.sum,
          count: histogram.count,
        },
      });
    });
    return {
      descriptor,
      aggregationTemporality,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints,
    };
  }
  const dataPoints: DataPoint<number>[] = [];
  const cumulative = definition.type === 'counter';
  forEachNumberSample(key, snapshots, ({ labels, value }, snapshot) => {
    const startTime = cumulative ? startTimeOf(snapshot, endTime) : endTime;
    dataPoints.push({ startTime, endTime, attributes: labels, value });
  });
  if (cumulative) {
    return {
      descriptor,
      aggregationTemporality,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints,
    };
  }
  return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints };
}
