// Checks the e2e harness itself: a real Prometheus scrapes a tiny 127.0.0.1 exporter and
// the helper's query() sees the value.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { waitFor } from '../helpers/index.js';
import { promtoolCheckMetrics, startPrometheus } from './helpers/prometheus.js';

const EXPOSITION =
  '# HELP up_test_metric A constant for the smoke test.\n' +
  '# TYPE up_test_metric gauge\nup_test_metric 42\n';

async function startExporter(): Promise<{ server: Server; target: string }> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    response.end(EXPOSITION);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, target: `127.0.0.1:${port}` };
}

t.test('prometheus scrapes a local target and query() returns the value', async (t) => {
  const { server, target } = await startExporter();
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const prometheus = await startPrometheus({ scrapeTargets: [target] });
  t.teardown(() => prometheus.stop());

  let value: string | undefined;
  await waitFor(
    async () => {
      const [sample] = await prometheus.query('up_test_metric');
      value = sample?.value?.[1];
      return value !== undefined;
    },
    { timeoutMs: 20_000, intervalMs: 250, what: 'up_test_metric to be scraped' },
  );
  t.equal(value, '42');

  const [series] = await prometheus.query('up_test_metric');
  t.match(series?.metric, { job: 'observable_task_table', instance: target });
  t.same(await prometheus.query('scalar(up_test_metric) * 2').then((r) => r[0]?.value?.[1]), '84');
});

t.test('promtoolCheckMetrics accepts clean text and reports problems', async (t) => {
  const clean = await promtoolCheckMetrics(EXPOSITION);
  t.same(clean, { ok: true, output: '' });

  // A counter without the _total suffix is a lint problem for promtool.
  const linted = await promtoolCheckMetrics(
    '# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n',
  );
  t.equal(linted.ok, false);
  t.match(linted.output, /requests/);
});
