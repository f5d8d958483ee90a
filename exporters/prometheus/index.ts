/**
 * Prometheus exporter: the table metrics as prom-client metric families, computed at
 * scrape time from one snapshot of each table, so an application can serve them from its
 * own registry and /metrics route next to its other metrics.
 *
 * prom-client's Histogram cannot be fed buckets counted elsewhere (ours live in shared
 * memory), so each family is a small object in the shape the Registry reads: it calls
 * `get()` on every registered metric and formats `{ name, help, type, values }`, escaping
 * label values (backslash, quote, newline) as the text format requires.
 */
import { Registry, type Metric, type RegistryContentType } from 'prom-client';

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

export type { TableSource, TableState } from '../table-snapshot.js';

/** Options of {@link registerTaskTableMetrics}. */
export interface PrometheusExporterOptions {
  /** Clock for ages, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** What {@link registerTaskTableMetrics} registered, to take it off the registry again. */
export interface TaskTableMetricsRegistration {
  /** Removes every family this registration added. Idempotent. */
  unregister(): void;
}

/** One value line as prom-client's Registry formats it. */
interface PromValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * Reads the tables at most once per `registry.metrics()` call. The Registry calls `get()`
 * on every family synchronously, one after another, before awaiting any of them, so the
 * first family's read is reused by the others and dropped in the next microtask: every
 * scrape sees fresh values, and every family of one scrape sees the same ones.
 */
class ScrapeSnapshots {
  readonly #tables: TableSource;
  readonly #now: () => number;
  #current: TableSnapshot[] | null = null;

  constructor(tables: TableSource, now: () => number) {
    this.#tables = tables;
    this.#now = now;
  }

  read(): TableSnapshot[] {
    if (this.#current === null) {
      this.#current = collectTableSnapshots(this.#tables, this.#now());
      queueMicrotask(() => {
        this.#current = null;
      });
    }
    return this.#current;
  }
}

/** A metric family in the shape prom-client's Registry reads. */
class SnapshotFamily {
  /** Mutable: the Registry strips `_total` from counter names for OpenMetrics output. */
  name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  /**
   * Every process reads the same shared table, so when prom-client's cluster
   * AggregatorRegistry merges workers, one worker's value is the answer, not their sum.
   */
  readonly aggregator = 'first';
  readonly #key: TaskTableMetricKey;
  readonly #scrape: ScrapeSnapshots;

  constructor(
    key: TaskTableMetricKey,
    definition: TaskTableMetricDefinition,
    scrape: ScrapeSnapshots,
  ) {
    this.name = definition.prometheusName;
    this.help = definition.help;
    this.type = definition.type;
    this.#key = key;
    this.#scrape = scrape;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: PromValue[];
  }> {
    const { name, help, type, aggregator } = this;
    return { name, help, type, aggregator, values: this.#values(this.#scrape.read()) };
  }

  /** Nothing to reset: the values live in the table, not here. */
  reset(): void {}

  #values(snapshots: readonly TableSnapshot[]): PromValue[] {
    const values: PromValue[] = [];
    const key = this.#key;
    if (!isHistogramKey(key)) {
      forEachNumberSample(key, snapshots, ({ labels, value }) => {
        values.push({ labels: labels as Record<string, string>, value });
      });
      return values;
    }
    const bucket = `${this.name}_bucket`;
    const sum = `${this.name}_sum`;
    const count = `${this.name}_count`;
    forEachHistogramSample(key, snapshots, ({ labels, histogram }) => {
      const base = labels as Record<string, string>;
      histogram.bounds.forEach((bound, i) => {
        values.push({
          labels: { ...base, le: String(bound) },
          value: histogram.cumulativeCounts[i] as number,
          metricName: bucket,
        });
      });
      values.push({ labels: { ...base, le: '+Inf' }, value: histogram.count, metricName: bucket });
      values.push({ labels: base, value: histogram.sum, metricName: sum });
      values.push({ labels: base, value: histogram.count, metricName: count });
    });
    return values;
  }
}

/**
 * Registers every metric of design.md on `registry`. Values are computed when the
 * registry is scraped, from one `readMetrics()` per table per scrape. A table that is
 * closed, removed or corrupt reports `observable_task_table_up 0` and nothing else; the
 * others are served as usual.
 *
 * @param tables the tables, or a function returning them at each scrape.
 * @throws {TypeError|RangeError} for a bad `tables` argument (a table listed twice).
 * @throws {Error} when a family of the same name is already registered on `registry`.
 */
export function registerTaskTableMetrics(
  registry: Registry<RegistryContentType>,
  tables: TableSource,
  options: PrometheusExporterOptions = {},
): TaskTableMetricsRegistration {
  // Duck-typed, so that a Registry from another copy of prom-client is accepted too.
  if (
    typeof (registry as Partial<Registry<RegistryContentType>> | null)?.registerMetric !==
    'function'
  ) {
    throw new TypeError('registry must be a prom-client Registry');
  }
  const source = checkTableSource('tables', tables);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('options.now must be a function');
  const scrape = new ScrapeSnapshots(source, now);
  const families = (Object.keys(TASK_TABLE_METRICS) as TaskTableMetricKey[]).map(
    (key) => new SnapshotFamily(key, TASK_TABLE_METRICS[key], scrape),
  );
  const taken = families.find((f) => registry.getSingleMetric(f.name) !== undefined);
  if (taken !== undefined) {
    throw new Error(
      `A metric named ${taken.name} is already registered on this registry; register the ` +
        `task table metrics once per registry.`,
    );
  }
  for (const family of families) registry.registerMetric(family as unknown as Metric);
  // The names they were registered under: an OpenMetrics scrape renames counter families.
  const names = families.map((family) => family.name);
  let registered = true;
  return {
    unregister(): void {
      if (!registered) return;
      registered = false;
      families.forEach((family, i) => {
        const name = names[i] as string;
        if (registry.getSingleMetric(name) === (family as unknown as Metric)) {
          registry.removeSingleMetric(name);
        }
      });
    },
  };
}

/** A new prom-client Registry with the table metrics registered on it. */
export function createPrometheusRegistry(
  tables: TableSource,
  options: PrometheusExporterOptions = {},
): Registry {
  const registry = new Registry();
  registerTaskTableMetrics(registry, tables, options);
  return registry;
}

export { PROMETHEUS_CONTENT_TYPE, renderPrometheusText } from './exposition.js';
export { collectTableSnapshots } from '../table-snapshot.js';
export type { TableSnapshot } from '../table-snapshot.js';
export { TASK_TABLE_METRIC_DEFINITIONS, PROMETHEUS_METRIC_NAMES } from '../metric-definitions.js';
export type { TaskTableMetricDefinition } from '../metric-definitions.js';
