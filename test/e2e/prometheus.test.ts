// End to end with a real Prometheus: two tables served by two `task-table serve`
// processes (two "hosts"), one Prometheus scraping both every second, a known workload,
// then every check goes through Prometheus' HTTP query API.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ObservableTaskTable } from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';
import { forkFixture, nextMessage, waitForExit } from '../helpers/processes.js';
import {
  promtoolCheckMetrics,
  startPrometheus,
  type RunningPrometheus,
} from './helpers/prometheus.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'dist/exporters/cli/task-table.js');
const FINAL = ['finished', 'failed', 'cancelled', 'timed_out'] as const;

/** Starts `task-table serve` for one table on a random port; resolves with its URL. */
async function serve(
  t: Parameters<typeof uniqueTableName>[0],
  table: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--table', table, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not print its URL: ${output}`)),
      15_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
  });
  return { child, url };
}

async function scalar(prometheus: RunningPrometheus, expr: string): Promise<number> {
  const result = await prometheus.query(expr);
  return result.length === 0 ? Number.NaN : Number(result[0]?.value?.[1]);
}

t.test('a real Prometheus scrapes two collectors and sees exact numbers', async (t) => {
  const nameA = uniqueTableName(t);
  const nameB = uniqueTableName(t);
  const tableA = ObservableTaskTable.open({ name: nameA, maxTasks: 512 });
  const tableB = ObservableTaskTable.open({ name: nameB, maxTasks: 512 });
  t.teardown(() => {
    tableA.close();
    tableB.close();
  });
  const collectorA = await serve(t, nameA);
  const collectorB = await serve(t, nameB);
  const prometheus = await startPrometheus({
    scrapeTargets: [collectorA.url, collectorB.url].map((u) => u.replace('http://', '')),
  });
  t.teardown(() => prometheus.stop());

  // Three tasks stay running in table A for the whole test.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = [0, 1, 2].map((i) =>
    tableA.run({ name: `held-${i}`, category: 'held', inactivityTimeout: 600 }, async (report) => {
      report.progress(0.5);
      await gate;
    }),
  );
  t.teardown(() => release());

  // The workload: known outcomes from the counter-writer fixture, in two processes.
  const writerA = forkFixture(t, 'counter-writer.mjs', [nameA, '1', '2000', 'work']);
  const writerB = forkFixture(t, 'counter-writer.mjs', [nameB, '2', '1000', 'work']);
  const [tallyA, tallyB] = await Promise.all(
    [writerA, writerB].map(
      async (w) =>
        (
          await nextMessage<{ done: Record<string, number> }>(
            w,
            (m) => m.done !== undefined,
            60_000,
          )
        ).done,
    ),
  );
  await Promise.all([waitForExit(writerA), waitForExit(writerB)]);
  t.equal(tallyA?.started, 2000);
  t.equal(tallyB?.started, 1000);

  // Wait until Prometheus has scraped the final numbers of both collectors.
  await waitFor(
    async () =>
      (await scalar(prometheus, 'sum(observable_tasks_started_total{category=~"work-.*"})')) ===
      3000,
    { timeoutMs: 30_000, intervalMs: 500, what: 'Prometheus to see 3000 started tasks' },
  );
  t.equal(
    await scalar(
      prometheus,
      `sum(observable_tasks_started_total{table="${nameA}", category=~"work-.*"})`,
    ),
    2000,
  );
  t.equal(
    await scalar(
      prometheus,
      `sum(observable_tasks_started_total{table="${nameB}", category=~"work-.*"})`,
    ),
    1000,
  );
  for (const status of FINAL) {
    const expected = (tallyA?.[status] ?? 0) + (tallyB?.[status] ?? 0);
    t.equal(
      await scalar(
        prometheus,
        `sum(observable_tasks_completed_total{category=~"work-.*", status="${status}"})`,
      ),
      expected,
      `completed ${status}: ${expected} across both instances`,
    );
    t.equal(
      await scalar(
        prometheus,
        `sum(observable_task_duration_seconds_count{category=~"work-.*", status="${status}"})`,
      ),
      expected,
      `duration histogram count ${status}`,
    );
  }
  t.equal(
    await scalar(prometheus, 'count(count by (instance) (observable_task_table_capacity))'),
    2,
    'two instances',
  );

  // observable_tasks equals the table's rows, per category and status.
  t.equal(
    await scalar(
      prometheus,
      `sum(observable_tasks{table="${nameA}", category="held", status="running"})`,
    ),
    3,
  );
  const rows = tableA.readMetrics();
  for (const category of rows.categories) {
    for (const [status, count] of Object.entries(category.tasks)) {
      if (count === 0) continue;
      t.equal(
        await scalar(
          prometheus,
          `sum(observable_tasks{table="${nameA}", category="${category.category}", status="${status}"})`,
        ),
        count,
        `observable_tasks ${category.category}/${status}`,
      );
    }
  }
  t.equal(await scalar(prometheus, `observable_task_table_slots_used{table="${nameA}"}`), 3);
  t.equal(await scalar(prometheus, `observable_task_table_capacity{table="${nameB}"}`), 512);

  // rate() needs several samples of each new series inside its window.
  await waitFor(
    async () =>
      (await scalar(
        prometheus,
        'min(count_over_time(observable_tasks_completed_total{category=~"work-.*"}[1m]))',
      )) >= 5,
    { timeoutMs: 30_000, intervalMs: 500, what: 'five scrapes of every counter' },
  );
  // Every PromQL expression of the Grafana dashboard runs and returns data.
  const dashboard = JSON.parse(
    readFileSync(join(root, 'dashboards/observable-task-table.json'), 'utf8'),
  ) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  for (const panel of dashboard.panels) {
    for (const { expr } of panel.targets) {
      const query = expr
        .replaceAll('$table', '.*')
        .replaceAll('$category', '.*')
        .replaceAll('$__rate_interval', '1m');
      const result = await prometheus.query(query);
      t.ok(result.length > 0, `${panel.title}: ${query} returns data`);
    }
  }

  // The collectors' exposition is clean for promtool.
  for (const { url } of [collectorA, collectorB]) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const check = await promtoolCheckMetrics(text);
    t.ok(check.ok, `promtool check metrics: ${check.output}`);
  }

  release();
  await Promise.all(held);
  for (const collector of [collectorA, collectorB]) {
    collector.child.kill('SIGTERM');
    const result = await waitForExit(collector.child, 10_000);
    t.equal(result.code, 0, 'serve exits 0 on SIGTERM');
  }
});
