import { Registry, type OpenMetricsContentType } from 'prom-client';
import t from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import {
  collectTableSnapshots,
  createPrometheusRegistry,
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_METRIC_NAMES,
  registerTaskTableMetrics,
  renderPrometheusText,
  TASK_TABLE_METRIC_DEFINITIONS,
} from '../../exporters/prometheus/index.js';
import { uniqueTableName } from '../helpers/index.js';
import { openTable, countReads } from '../helpers/tables.js';
import { findSamples, parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { KNOWN_WORKLOAD, runKnownWorkload } from '../helpers/workload.js';

t.test('registerTaskTableMetrics()', async (t) => {
  t.test('emits every definition with its exact name, type and labels', async (t) => {
    const table = openTable(t);
    const work = await runKnownWorkload(table);
    t.teardown(work.finish);
    const registry = createPrometheusRegistry([table]);
    const text = await registry.metrics();
    const exposition = parsePrometheusText(text);

    t.same(PROMETHEUS_METRIC_NAMES, [
      'observable_tasks',
      'observable_tasks_started_total',
      'observable_tasks_completed_total',
      'observable_task_duration_seconds',
      'observable_task_wait_seconds',
      'observable_task_oldest_update_age_seconds',
      'observable_tasks_overdue',
      'observable_task_table_capacity',
      'observable_task_table_slots_used',
      'observable_task_table_dropped_total',
      'observable_task_table_unreadable_rows',
      'observable_task_table_up',
    ]);
    for (const definition of TASK_TABLE_METRIC_DEFINITIONS) {
      const name = definition.prometheusName;
      t.equal(exposition.types.get(name), definition.type, `${name} has TYPE ${definition.type}`);
      t.ok(exposition.help.get(name), `${name} has HELP`);
      const sampleName = definition.type === 'histogram' ? `${name}_count` : name;
      const samples = findSamples(exposition, sampleName);
      t.ok(samples.length > 0, `${name} has samples`);
      for (const sample of samples) {
        t.same(Object.keys(sample.labels), definition.labels, `${name} labels`);
      }
      if (definition.type === 'histogram') {
        for (const sample of findSamples(exposition, `${name}_bucket`)) {
          t.same(Object.keys(sample.labels), [...definition.labels, 'le'], `${name}_bucket labels`);
        }
        t.ok(findSamples(exposition, `${name}_sum`).length > 0, `${name}_sum present`);
      }
    }
    // Families are emitted whole, in definition order (the text format requires it).
    const typeOrder = [...exposition.types.keys()];
    t.same(typeOrder, PROMETHEUS_METRIC_NAMES);
  });

  t.test('counters and histograms equal a known workload', async (t) => {
    const table = openTable(t, { durationBuckets: [0.005, 0.5, 60] });
    const work = await runKnownWorkload(table);
    t.teardown(work.finish);
    const registry = createPrometheusRegistry([table]);
    const exposition = parsePrometheusText(await registry.metrics());
    const name = table.name;

    for (const [category, started] of Object.entries(KNOWN_WORKLOAD.started)) {
      t.equal(
        sampleValue(exposition, 'observable_tasks_started_total', { table: name, category }),
        started,
        `started ${category}`,
      );
      for (const [status, count] of Object.entries(KNOWN_WORKLOAD.completed[category as 'alpha'])) {
        const labels = { table: name, category, status };
        t.equal(
          sampleValue(exposition, 'observable_tasks_completed_total', labels),
          count,
          `completed ${category} ${status}`,
        );
        t.equal(
          sampleValue(exposition, 'observable_task_duration_seconds_count', labels),
          count,
          `duration count ${category} ${status}`,
        );
        t.equal(
          sampleValue(exposition, 'observable_task_duration_seconds_bucket', {
            ...labels,
            le: '+Inf',
          }),
          count,
          `+Inf bucket ${category} ${status}`,
        );
      }
      t.equal(
        sampleValue(exposition, 'observable_task_wait_seconds_count', { table: name, category }),
        started,
        `every started task waited once (${category})`,
      );
    }
    t.equal(
      sampleValue(exposition, 'observable_tasks', {
        table: name,
        category: 'gamma',
        status: 'running',
      }),
      1,
    );
    t.equal(sampleValue(exposition, 'observable_task_table_slots_used', { table: name }), 1);
    t.equal(sampleValue(exposition, 'observable_task_table_capacity', { table: name }), 64);
    t.equal(sampleValue(exposition, 'observable_task_table_up', { table: name }), 1);
    t.equal(sampleValue(exposition, 'observable_task_table_unreadable_rows', { table: name }), 0);
    t.equal(
      sampleValue(exposition, 'observable_task_table_dropped_total', {
        table: name,
        reason: 'categories',
      }),
      0,
    );
    t.ok(
      (sampleValue(exposition, 'observable_task_oldest_update_age_seconds', {
        table: name,
        category: 'gamma',
      }) ?? -1) >= 0,
    );

    // The buckets are exactly the table's shared buckets, cumulative, with le as written.
    const metrics = table.readMetrics();
    for (const c of metrics.categories) {
      for (const [status, histogram] of Object.entries(c.duration)) {
        const labels = { table: name, category: c.category, status };
        const buckets = findSamples(exposition, 'observable_task_duration_seconds_bucket', labels);
        t.same(
          buckets.map((b) => b.labels.le),
          ['0.005', '0.5', '60', '+Inf'],
        );
        t.same(
          buckets.map((b) => b.value),
          [...histogram.cumulativeCounts, histogram.count],
        );
        t.equal(
          sampleValue(exposition, 'observable_task_duration_seconds_sum', labels),
          histogram.sum,
        );
      }
      const waitBuckets = findSamples(exposition, 'observable_task_wait_seconds_bucket', {
        table: name,
        category: c.category,
      });
      t.same(
        waitBuckets.map((b) => b.value),
        [...c.wait.cumulativeCounts, c.wait.count],
      );
    }
  });

  t.test('escapes quote, backslash and newline in label values', async (t) => {
    const table = openTable(t);
    const category = 'we"ird\\cat\nnext line';
    await table.run({ name: 'x', category }, async () => undefined);
    const text = await createPrometheusRegistry([table]).metrics();
    t.match(text, 'category="we\\"ird\\\\cat\\nnext line"');
    t.notMatch(text, 'cat\nnext line', 'no raw newline inside a label value');
    // Every line is a comment or one whole sample.
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      t.match(line, /^[a-z_]+(\{.*\})? \S+$/, 'one sample per line');
    }
    const exposition = parsePrometheusText(text);
    t.equal(
      sampleValue(exposition, 'observable_tasks_started_total', { table: table.name, category }),
      1,
    );
  });

  t.test('reads each table once per scrape, whatever the number of families', async (t) => {
    const a = openTable(t);
    const b = openTable(t);
    await a.run({ name: 'x', category: 'c' }, async () => undefined);
    const readsA = countReads(a);
    const readsB = countReads(b);
    const registry = createPrometheusRegistry([a, b]);
    await registry.metrics();
    t.same([readsA.count, readsB.count], [1, 1]);
    await registry.metrics();
    t.same([readsA.count, readsB.count], [2, 2], 'the next scrape reads again');
    await Promise.all([registry.metrics(), registry.getMetricsAsJSON()]);
    t.same(
      [readsA.count, readsB.count],
      [3, 3],
      'two collections started in one tick share one read',
    );
  });

  t.test('a closed table reports up 0 and the others keep being served', async (t) => {
    const a = openTable(t);
    const b = openTable(t);
    await a.run({ name: 'x', category: 'c' }, async () => undefined);
    await b.run({ name: 'y', category: 'd' }, async () => undefined);
    const registry = createPrometheusRegistry([a, b]);
    b.close();
    const exposition = parsePrometheusText(await registry.metrics());
    t.equal(sampleValue(exposition, 'observable_task_table_up', { table: a.name }), 1);
    t.equal(sampleValue(exposition, 'observable_task_table_up', { table: b.name }), 0);
    t.equal(
      sampleValue(exposition, 'observable_tasks_started_total', { table: a.name, category: 'c' }),
      1,
    );
    t.same(
      exposition.samples.filter((s) => s.labels.table === b.name).map((s) => s.name),
      ['observable_task_table_up'],
      'nothing but up for the closed table',
    );
  });

  t.test('a table removed from shared memory reports up 0', async (t) => {
    const a = openTable(t);
    const registry = createPrometheusRegistry([a]);
    t.equal(
      sampleValue(parsePrometheusText(await registry.metrics()), 'observable_task_table_up', {
        table: a.name,
      }),
      1,
    );
    ObservableTaskTable.unlink(a.name);
    t.equal(
      sampleValue(parsePrometheusText(await registry.metrics()), 'observable_task_table_up', {
        table: a.name,
      }),
      0,
    );
  });

  t.test('takes a function of tables, asked at each scrape', async (t) => {
    const a = openTable(t);
    const b = openTable(t);
    let tables = [a];
    const registry = new Registry();
    registerTaskTableMetrics(registry, () => tables);
    let exposition = parsePrometheusText(await registry.metrics());
    t.same(
      findSamples(exposition, 'observable_task_table_up').map((s) => s.labels.table),
      [a.name],
    );
    tables = [a, b, a];
    exposition = parsePrometheusText(await registry.metrics());
    t.same(
      findSamples(exposition, 'observable_task_table_up').map((s) => s.labels.table),
      [a.name, b.name],
      'a table listed twice is exported once',
    );
  });

  t.test('mounts next to other metrics and unregisters', async (t) => {
    const table = openTable(t);
    const registry = new Registry();
    const registration = registerTaskTableMetrics(registry, [table]);
    t.throws(() => registerTaskTableMetrics(registry, [table]), /already registered/);
    registration.unregister();
    registration.unregister();
    t.equal(await registry.metrics(), '\n');
    registerTaskTableMetrics(registry, [table]);
    t.match(await registry.metrics(), 'observable_task_table_up');
  });

  t.test('serves OpenMetrics when the registry is set to it', async (t) => {
    const table = openTable(t);
    await table.run({ name: 'x', category: 'c' }, async () => undefined);
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const registration = registerTaskTableMetrics(registry, [table]);
    const text = await registry.metrics();
    t.match(text, '# TYPE observable_tasks_started counter');
    t.match(text, `observable_tasks_started_total{table="${table.name}",category="c"} 1`);
    t.match(text, /# EOF\n$/);
    registration.unregister();
    t.equal(registry.getMetricsAsArray().length, 0, 'unregister works after an OpenMetrics scrape');
  });

  t.test('rejects bad arguments at setup', async (t) => {
    const table = openTable(t);
    t.throws(() => registerTaskTableMetrics({} as Registry, [table]), TypeError);
    t.throws(() => registerTaskTableMetrics(new Registry(), 'x' as never), TypeError);
    t.throws(
      () => registerTaskTableMetrics(new Registry(), [{} as ObservableTaskTable]),
      TypeError,
    );
    t.throws(() => registerTaskTableMetrics(new Registry(), [table, table]), RangeError);
    t.throws(
      () => registerTaskTableMetrics(new Registry(), [table], { now: 5 as never }),
      TypeError,
    );
  });
});

t.test('renderPrometheusText()', async (t) => {
  t.test('writes exactly what prom-client makes of the registered families', async (t) => {
    const a = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 64 });
    const b = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 64 });
    const closed = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 8 });
    t.teardown(() => {
      a.close();
      b.close();
    });
    closed.close();
    const work = await runKnownWorkload(a);
    t.teardown(work.finish);
    await b.run(
      { name: 'x', category: 'quote " backslash \\ newline \n end' },
      async () => undefined,
    );
    const now = Date.now();
    const registry = createPrometheusRegistry([a, b, closed], { now: () => now });
    const text = renderPrometheusText(collectTableSnapshots([a, b, closed], now));
    t.equal(text, await registry.metrics());
    t.equal(PROMETHEUS_CONTENT_TYPE, registry.contentType);
  });
});
