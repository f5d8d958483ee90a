import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import t, { type Test } from 'tap';

import {
  OTEL_METRIC_NAMES,
  otlpMetricsUrl,
  registerTaskTableMetrics,
  startOtlpPush,
  TASK_TABLE_METRIC_DEFINITIONS,
  TaskTableMetricProducer,
} from '../../exporters/otel/index.js';
import { waitFor } from '../helpers/index.js';
import { openTable, countReads } from '../helpers/tables.js';
import { KNOWN_WORKLOAD, runKnownWorkload } from '../helpers/workload.js';

/** A pull reader for tests: collect() on demand, nothing else. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function allMetrics(resourceMetrics: ResourceMetrics): MetricData[] {
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

function metricNamed(resourceMetrics: ResourceMetrics, name: string): MetricData | undefined {
  return allMetrics(resourceMetrics).find((m) => m.descriptor.name === name);
}

function pointValue(metric: MetricData | undefined, attributes: Record<string, string>): unknown {
  return metric?.dataPoints.find((p) =>
    Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
  )?.value;
}

t.test('TaskTableMetricProducer#collect()', async (t) => {
  t.test('produces every definition; histograms are the shared buckets', async (t) => {
    const table = openTable(t, { durationBuckets: [0.005, 0.5, 60] });
    const work = await runKnownWorkload(table);
    t.teardown(work.finish);
    const producer = new TaskTableMetricProducer([table]);
    const { resourceMetrics, errors } = await producer.collect();
    t.same(errors, []);
    t.equal(resourceMetrics.scopeMetrics.length, 1);
    t.equal(resourceMetrics.scopeMetrics[0]?.scope.name, 'observable-task-table');

    t.same(
      allMetrics(resourceMetrics).map((m) => m.descriptor.name),
      OTEL_METRIC_NAMES,
      'every definition, in order',
    );
    t.notOk(
      OTEL_METRIC_NAMES.some((n) => n.endsWith('_total') || n.endsWith('_seconds')),
      'no suffixes',
    );
    for (const definition of TASK_TABLE_METRIC_DEFINITIONS) {
      const metric = metricNamed(resourceMetrics, definition.otelName) as MetricData;
      t.equal(metric.descriptor.unit, definition.unit, `${definition.otelName} unit`);
      const expectedType = {
        gauge: DataPointType.GAUGE,
        counter: DataPointType.SUM,
        histogram: DataPointType.HISTOGRAM,
      }[definition.type];
      t.equal(metric.dataPointType, expectedType, `${definition.otelName} type`);
      for (const point of metric.dataPoints) {
        t.same(
          Object.keys(point.attributes),
          definition.labels,
          `${definition.otelName} attributes`,
        );
      }
    }
    t.equal(metricNamed(resourceMetrics, 'observable_task_duration')?.descriptor.unit, 's');

    const createdAt = table.layout.createdAt.getTime();
    const metrics = table.readMetrics();
    const duration = metricNamed(
      resourceMetrics,
      'observable_task_duration',
    ) as HistogramMetricData;
    t.equal(duration.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    for (const c of metrics.categories) {
      for (const [status, histogram] of Object.entries(c.duration)) {
        const point = duration.dataPoints.find(
          (p) => p.attributes.category === c.category && p.attributes.status === status,
        );
        t.ok(point, `a point for ${c.category} ${status}`);
        if (point === undefined) continue;
        t.same(point.value.buckets.boundaries, [0.005, 0.5, 60]);
        const cumulative = [...histogram.cumulativeCounts, histogram.count];
        const own = cumulative.map((n, i) => n - (i === 0 ? 0 : (cumulative[i - 1] as number)));
        t.same(point.value.buckets.counts, own, `bucket counts of ${c.category} ${status}`);
        t.equal(point.value.count, histogram.count);
        t.equal(point.value.sum, histogram.sum);
        t.equal(
          point.startTime[0] * 1000 + Math.floor(point.startTime[1] / 1e6),
          createdAt,
          'start = table creation',
        );
      }
    }
    const wait = metricNamed(resourceMetrics, 'observable_task_wait') as HistogramMetricData;
    t.equal(pointValue(wait, { category: 'alpha' }) !== undefined, true);
    t.equal(
      (pointValue(wait, { category: 'alpha' }) as { count: number }).count,
      KNOWN_WORKLOAD.started.alpha,
    );

    const started = metricNamed(resourceMetrics, 'observable_tasks_started');
    t.equal(started?.dataPointType, DataPointType.SUM);
    t.equal((started as { isMonotonic?: boolean }).isMonotonic, true);
    for (const [category, count] of Object.entries(KNOWN_WORKLOAD.started)) {
      t.equal(pointValue(started, { category }), count, `started ${category}`);
    }
    const completed = metricNamed(resourceMetrics, 'observable_tasks_completed');
    for (const [category, byStatus] of Object.entries(KNOWN_WORKLOAD.completed)) {
      for (const [status, count] of Object.entries(byStatus)) {
        t.equal(
          pointValue(completed, { category, status }),
          count,
          `completed ${category} ${status}`,
        );
      }
    }
    t.equal(
      pointValue(metricNamed(resourceMetrics, 'observable_tasks'), {
        category: 'gamma',
        status: 'running',
      }),
      1,
    );
  });

  t.test('reads each table once; a closed table is up 0 and an error', async (t) => {
    const a = openTable(t);
    const b = openTable(t);
    await a.run({ name: 'x', category: 'c' }, async () => undefined);
    const reads = countReads(a);
    const producer = new TaskTableMetricProducer([a, b]);
    b.close();
    const { resourceMetrics, errors } = await producer.collect();
    t.equal(reads.count, 1);
    const up = metricNamed(resourceMetrics, 'observable_task_table_up');
    t.equal(pointValue(up, { table: a.name }), 1);
    t.equal(pointValue(up, { table: b.name }), 0);
    t.match(errors, [{ table: b.name, state: 'closed' }]);
    t.equal(
      pointValue(metricNamed(resourceMetrics, 'observable_tasks_started'), {
        table: a.name,
        category: 'c',
      }),
      1,
    );
  });

  t.test('feeds any MetricReader through metricProducers', async (t) => {
    const table = openTable(t);
    await table.run({ name: 'x', category: 'c' }, async () => undefined);
    const reader = new TestReader({ metricProducers: [new TaskTableMetricProducer([table])] });
    const provider = new MeterProvider({ readers: [reader] });
    t.teardown(() => provider.shutdown());
    const { resourceMetrics } = await reader.collect();
    const duration = metricNamed(resourceMetrics, 'observable_task_duration');
    t.equal(duration?.dataPointType, DataPointType.HISTOGRAM);
    t.equal(
      (pointValue(duration, { category: 'c', status: 'finished' }) as { count: number }).count,
      1,
    );
  });

  t.test('rejects bad arguments at setup', async (t) => {
    t.throws(() => new TaskTableMetricProducer(5 as never), TypeError);
    t.throws(() => new TaskTableMetricProducer([], { now: 'x' as never }), TypeError);
  });
});

t.test('registerTaskTableMetrics() on a Meter', async (t) => {
  t.test('collects the gauges and counters with one read per collection', async (t) => {
    const table = openTable(t);
    const work = await runKnownWorkload(table);
    t.teardown(work.finish);
    const reads = countReads(table);
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    t.teardown(() => provider.shutdown());
    const registration = registerTaskTableMetrics(provider.getMeter('test'), [table]);

    const { resourceMetrics, errors } = await reader.collect();
    t.same(errors, []);
    t.equal(reads.count, 1, 'one readMetrics for every instrument');
    const expected = TASK_TABLE_METRIC_DEFINITIONS.filter((d) => d.type !== 'histogram');
    t.same(
      allMetrics(resourceMetrics)
        .map((m) => m.descriptor.name)
        .sort(),
      expected.map((d) => d.otelName).sort(),
      'every gauge and counter (histograms need the MetricProducer)',
    );
    const started = metricNamed(resourceMetrics, 'observable_tasks_started');
    t.equal(started?.dataPointType, DataPointType.SUM);
    for (const [category, count] of Object.entries(KNOWN_WORKLOAD.started)) {
      t.equal(pointValue(started, { table: table.name, category }), count, `started ${category}`);
    }
    const tasks = metricNamed(resourceMetrics, 'observable_tasks');
    t.equal(tasks?.dataPointType, DataPointType.GAUGE);
    t.equal(pointValue(tasks, { table: table.name, category: 'gamma', status: 'running' }), 1);
    t.equal(
      pointValue(metricNamed(resourceMetrics, 'observable_task_table_capacity'), {
        table: table.name,
      }),
      64,
    );
    t.equal(
      pointValue(metricNamed(resourceMetrics, 'observable_task_table_dropped'), {
        table: table.name,
        reason: 'table_full',
      }),
      0,
    );

    await reader.collect();
    t.equal(reads.count, 2);
    registration.unregister();
    registration.unregister();
    await reader.collect();
    t.equal(reads.count, 2, 'no reads after unregister');
  });

  t.test('rejects bad arguments at setup', async (t) => {
    t.throws(() => registerTaskTableMetrics({} as never, []), TypeError);
    const provider = new MeterProvider();
    t.throws(() => registerTaskTableMetrics(provider.getMeter('x'), {} as never), TypeError);
  });
});

interface OtlpRequest {
  path: string;
  contentType: string | undefined;
  body: OtlpPayload;
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}

interface OtlpNumberPoint {
  attributes: OtlpAttribute[];
  asInt?: number | string;
  asDouble?: number;
  startTimeUnixNano: string;
  timeUnixNano: string;
}

interface OtlpHistogramPoint {
  attributes: OtlpAttribute[];
  bucketCounts: Array<number | string>;
  explicitBounds: number[];
  count: number | string;
  sum: number;
}

interface OtlpMetric {
  name: string;
  unit: string;
  gauge?: { dataPoints: OtlpNumberPoint[] };
  sum?: { dataPoints: OtlpNumberPoint[]; isMonotonic: boolean; aggregationTemporality: number };
  histogram?: { dataPoints: OtlpHistogramPoint[]; aggregationTemporality: number };
}

interface OtlpPayload {
  resourceMetrics: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeMetrics: Array<{ scope: { name: string }; metrics: OtlpMetric[] }>;
  }>;
}

/** An OTLP/HTTP JSON receiver on 127.0.0.1 that keeps every request it got. */
async function startReceiver(
  t: Test,
): Promise<{ base: string; requests: OtlpRequest[]; server: Server }> {
  const requests: OtlpRequest[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/fail/v1/metrics') {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      requests.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpPayload,
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, requests, server };
}

function otlpMetrics(payload: OtlpPayload): OtlpMetric[] {
  return payload.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
}

function attributesOf(point: { attributes: OtlpAttribute[] }): Record<string, string | undefined> {
  return Object.fromEntries(point.attributes.map((a) => [a.key, a.value.stringValue]));
}

function numberPoint(
  metric: OtlpMetric | undefined,
  attributes: Record<string, string>,
): number | undefined {
  const points = metric?.sum?.dataPoints ?? metric?.gauge?.dataPoints ?? [];
  const point = points.find((p) => {
    const actual = attributesOf(p);
    return Object.entries(attributes).every(([k, v]) => actual[k] === v);
  });
  return point === undefined ? undefined : Number(point.asInt ?? point.asDouble);
}

t.test('startOtlpPush()', async (t) => {
  t.test('pushes real OTLP/HTTP JSON, and flushes once more on shutdown', async (t) => {
    const receiver = await startReceiver(t);
    const table = openTable(t, { durationBuckets: [0.005, 0.5, 60] });
    const work = await runKnownWorkload(table);
    await work.finish();
    // A long interval: every request below comes from forceFlush() or shutdown().
    const push = startOtlpPush({ tables: [table], endpoint: receiver.base, intervalMs: 60_000 });
    t.teardown(() => push.shutdown());
    t.equal(push.url, `${receiver.base}/v1/metrics`);

    await push.forceFlush();
    t.equal(receiver.requests.length, 1);
    const first = receiver.requests[0] as OtlpRequest;
    t.equal(first.path, '/v1/metrics');
    t.match(first.contentType, /^application\/json/);
    const resource = attributesOf(first.body.resourceMetrics[0]?.resource ?? { attributes: [] });
    t.equal(resource['service.name'], 'observable-task-table');
    const metrics = otlpMetrics(first.body);
    t.same(
      metrics.map((m) => m.name).sort(),
      [...OTEL_METRIC_NAMES].sort(),
      'every metric, by OTel name',
    );
    const byName = new Map(metrics.map((m) => [m.name, m]));

    const started = byName.get('observable_tasks_started');
    t.equal(started?.sum?.isMonotonic, true);
    t.equal(started?.sum?.aggregationTemporality, 2, 'cumulative');
    for (const [category, count] of Object.entries(KNOWN_WORKLOAD.started)) {
      t.equal(numberPoint(started, { table: table.name, category }), count, `started ${category}`);
    }
    const completed = byName.get('observable_tasks_completed');
    t.equal(numberPoint(completed, { table: table.name, category: 'alpha', status: 'failed' }), 2);
    t.equal(
      numberPoint(completed, { table: table.name, category: 'beta', status: 'timed_out' }),
      1,
    );
    t.equal(
      numberPoint(completed, { table: table.name, category: 'gamma', status: 'finished' }),
      1,
    );
    t.equal(numberPoint(byName.get('observable_task_table_up'), { table: table.name }), 1);

    const duration = byName.get('observable_task_duration');
    t.equal(duration?.unit, 's');
    const point = duration?.histogram?.dataPoints.find((p) => {
      const a = attributesOf(p);
      return a.category === 'alpha' && a.status === 'finished';
    });
    t.same(point?.explicitBounds, [0.005, 0.5, 60]);
    t.equal(Number(point?.count), 3);
    t.equal(
      point?.bucketCounts.map(Number).reduce((x, y) => x + y, 0),
      3,
      'bucket counts add up to count',
    );
    const shared = table.readMetrics().categories.find((c) => c.category === 'alpha')
      ?.duration.finished;
    t.equal(point?.sum, shared?.sum);

    // Work done after the last flush reaches the receiver through shutdown's final push.
    await table.run({ name: 'late', category: 'alpha' }, async () => undefined);
    await push.shutdown();
    await push.shutdown();
    t.equal(receiver.requests.length, 2, 'exactly one final push');
    const last = otlpMetrics((receiver.requests[1] as OtlpRequest).body);
    const lateStarted = last.find((m) => m.name === 'observable_tasks_started');
    t.equal(
      numberPoint(lateStarted, { table: table.name, category: 'alpha' }),
      KNOWN_WORKLOAD.started.alpha + 1,
    );
  });

  t.test('pushes every intervalMs', async (t) => {
    const receiver = await startReceiver(t);
    const table = openTable(t);
    const push = startOtlpPush({
      tables: [table],
      endpoint: `${receiver.base}/v1/metrics`,
      intervalMs: 100,
    });
    t.teardown(() => push.shutdown());
    await waitFor(() => receiver.requests.length >= 2, {
      timeoutMs: 10_000,
      what: 'two periodic pushes',
    });
    t.equal(receiver.requests[0]?.path, '/v1/metrics');
  });

  t.test('reports failed exports to onError and keeps going', async (t) => {
    const receiver = await startReceiver(t);
    const table = openTable(t);
    const errors: Error[] = [];
    const push = startOtlpPush({
      tables: [table],
      endpoint: `${receiver.base}/fail`,
      intervalMs: 60_000,
      onError: (error) => errors.push(error),
    });
    await push.forceFlush();
    t.equal(errors.length, 1);
    t.type(errors[0], Error);
    await push.shutdown();
    t.equal(errors.length, 2, 'the final push failed too, and shutdown still resolved');
  });

  t.test('validates its options at setup', async (t) => {
    const table = openTable(t);
    const base = { tables: [table], endpoint: 'http://127.0.0.1:4318' };
    t.throws(() => startOtlpPush({ ...base, endpoint: 'not a url' }), TypeError);
    t.throws(() => startOtlpPush({ ...base, endpoint: 'ftp://x/' }), TypeError);
    t.throws(() => startOtlpPush({ ...base, endpoint: 5 as never }), TypeError);
    t.throws(() => startOtlpPush({ ...base, intervalMs: 99 }), RangeError);
    t.throws(() => startOtlpPush({ ...base, intervalMs: 1.5 }), RangeError);
    t.throws(() => startOtlpPush({ ...base, onError: 'x' as never }), TypeError);
    t.throws(() => startOtlpPush({ ...base, tables: 'x' as never }), TypeError);
    t.throws(() => startOtlpPush(null as never), TypeError);
    const push = startOtlpPush({ ...base, intervalMs: 100 });
    await push.shutdown();
  });
});

t.test('otlpMetricsUrl()', async (t) => {
  t.equal(otlpMetricsUrl('http://collector:4318'), 'http://collector:4318/v1/metrics');
  t.equal(otlpMetricsUrl('http://collector:4318/'), 'http://collector:4318/v1/metrics');
  t.equal(otlpMetricsUrl('https://x/otlp/'), 'https://x/otlp/v1/metrics');
  t.equal(otlpMetricsUrl('http://x/v1/metrics'), 'http://x/v1/metrics');
});
