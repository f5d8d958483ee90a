/**
 * In-process OpenTelemetry: the table's gauges and counters as observable instruments on
 * a Meter, all fed by one batch callback, so each collection reads each table once.
 * Histograms cannot be reported through observable instruments; use
 * TaskTableMetricProducer (task-table-metric-producer.ts) to export those.
 */
import {
  ValueType,
  type BatchObservableCallback,
  type Meter,
  type Observable,
} from '@opentelemetry/api';

import { TASK_TABLE_METRICS, type TaskTableMetricKey } from '../metric-definitions.js';
import { forEachNumberSample, isHistogramKey, type NumberKey } from '../metric-samples.js';
import { checkTableSource, collectTableSnapshots, type TableSource } from '../table-snapshot.js';

/** Options of {@link registerTaskTableMetrics}. */
export interface MeterRegistrationOptions {
  /** Clock for ages, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** What {@link registerTaskTableMetrics} registered on the meter. */
export interface TaskTableMeterRegistration {
  /** Removes the batch callback: the instruments report nothing from then on. Idempotent. */
  unregister(): void;
}

/**
 * Creates an observable gauge or counter for every non-histogram metric of design.md
 * (OpenTelemetry names, attributes `table`, `category`, `status`, `reason`) and one batch
 * callback that reads each table once per collection. A table that cannot be read
 * reports `observable_task_table_up` 0 and nothing else.
 *
 * @throws {TypeError|RangeError} for a bad `meter` or `tables` argument.
 */
export function registerTaskTableMetrics(
  meter: Meter,
  tables: TableSource,
  options: MeterRegistrationOptions = {},
): TaskTableMeterRegistration {
  if (typeof (meter as Partial<Meter> | null)?.addBatchObservableCallback !== 'function') {
    throw new TypeError('meter must be an OpenTelemetry Meter');
  }
  const source = checkTableSource('tables', tables);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('options.now must be a function');

  const instruments = new Map<NumberKey, Observable>();
  for (const key of Object.keys(TASK_TABLE_METRICS) as TaskTableMetricKey[]) {
    if (isHistogramKey(key)) continue;
    const definition = TASK_TABLE_METRICS[key];
    const metricOptions = {
      description: definition.help,
      unit: definition.unit,
      valueType: definition.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE,
    };
    instruments.set(
      key,
      definition.type === 'counter'
        ? meter.createObservableCounter(definition.otelName, metricOptions)
        : meter.createObservableGauge(definition.otelName, metricOptions),
    );
  }

  const callback: BatchObservableCallback = (result) => {
    const snapshots = collectTableSnapshots(source, now());
    for (const [key, instrument] of instruments) {
      forEachNumberSample(key, snapshots, ({ labels, value }) => {
        result.observe(instrument, value, labels);
      });
    }
  };
  const observables = [...instruments.values()];
  meter.addBatchObservableCallback(callback, observables);
  let registered = true;
  return {
    unregister(): void {
      if (!registered) return;
      registered = false;
      meter.removeBatchObservableCallback(callback, observables);
    },
  };
}
