/**
 * OTLP/HTTP push (JSON) of the table metrics: a PeriodicExportingMetricReader with the
 * TaskTableMetricProducer, exporting through @opentelemetry/exporter-metrics-otlp-http,
 * with a final export on shutdown so the last values are not lost when the collector
 * stops.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';

import { checkTableSource, type TableSource } from '../table-snapshot.js';
import { TaskTableMetricProducer } from './task-table-metric-producer.js';

/** Options of {@link startOtlpPush}. */
export interface OtlpPushOptions {
  /** The tables, or a function returning them at each push. */
  tables: TableSource;
  /**
   * OTLP/HTTP endpoint, `http:` or `https:`. A base URL such as `http://127.0.0.1:4318`
   * gets `/v1/metrics` appended (as `OTEL_EXPORTER_OTLP_ENDPOINT` does); a URL whose path
   * already ends in `/v1/metrics` is used as it is.
   */
  endpoint: string;
  /** Milliseconds between two pushes: 100 to 2147483647. Default 60000 (OTel's default). */
  intervalMs?: number;
  /** Extra HTTP headers of every push (for example an authorization header). */
  headers?: Record<string, string>;
  /** `service.name` of the resource. Default `observable-task-table`. */
  serviceName?: string;
  /**
   * Called with each failed export (endpoint down, rejected payload). Pushing goes on at
   * the next interval either way. Default: none (OpenTelemetry's diag logger still sees
   * it).
   */
  onError?: (error: Error) => void;
}

/** A running push, from {@link startOtlpPush}. */
export interface OtlpPush {
  /** The URL pushes go to. */
  readonly url: string;
  /** Collects and exports now, outside the interval. */
  forceFlush(): Promise<void>;
  /**
   * Stops the interval after one last collection and export, and releases the exporter.
   * Idempotent: later calls return the same promise. Never rejects; a failed final export
   * goes to `onError`.
   */
  shutdown(): Promise<void>;
}

const DEFAULT_INTERVAL_MS = 60_000;
const MAX_EXPORT_TIMEOUT_MS = 10_000;

/** The URL OTLP metrics are posted to, from a base or a full endpoint. */
export function otlpMetricsUrl(endpoint: unknown): string {
  if (typeof endpoint !== 'string') throw new TypeError('options.endpoint must be a URL string');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(
      `options.endpoint must be an http(s) URL (received ${JSON.stringify(endpoint)})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(
      `options.endpoint must be an http(s) URL (received ${JSON.stringify(endpoint)})`,
    );
  }
  if (!url.pathname.endsWith('/v1/metrics')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/metrics`;
  }
  return url.href;
}

/**
 * Starts pushing the table metrics to an OTLP/HTTP endpoint every `intervalMs`.
 * @throws {TypeError|RangeError} for invalid options, before anything starts.
 */
export function startOtlpPush(options: OtlpPushOptions): OtlpPush {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const tables = checkTableSource('options.tables', options.tables);
  const url = otlpMetricsUrl(options.endpoint);
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 2147483647) {
    throw new RangeError(
      `options.intervalMs must be an integer from 100 to 2147483647 (received ${String(intervalMs)})`,
    );
  }
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError('options.onError must be a function');
  }
  const report = (error: unknown): void => {
    onError?.(error instanceof Error ? error : new Error(String(error)));
  };

  // Bounded by the interval, so a hung endpoint never stacks exports up (the reader
  // requires timeout <= interval).
  const timeoutMs = Math.min(intervalMs, MAX_EXPORT_TIMEOUT_MS);
  const otlp = new OTLPMetricExporter({ url, headers: options.headers, timeoutMillis: timeoutMs });
  const exporter: PushMetricExporter = {
    export(metrics, resultCallback) {
      otlp.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          report(result.error ?? new Error(`OTLP export to ${url} failed`));
        }
        resultCallback(result);
      });
    },
    forceFlush: () => otlp.forceFlush(),
    shutdown: () => otlp.shutdown(),
    selectAggregationTemporality: (type) => otlp.selectAggregationTemporality(type),
    selectAggregation: (type) => otlp.selectAggregation(type),
  };
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: intervalMs,
    exportTimeoutMillis: timeoutMs,
    metricProducers: [new TaskTableMetricProducer(tables)],
  });
  const provider = new MeterProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({ 'service.name': options.serviceName ?? 'observable-task-table' }),
    ),
    readers: [reader],
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    forceFlush: () => provider.forceFlush(),
    shutdown(): Promise<void> {
      // The reader's shutdown runs one more collect-and-export before it stops, which is
      // the final flush: a separate forceFlush() first would only export twice.
      stopping ??= provider.shutdown().catch(report);
      return stopping;
    },
  };
}
