import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

import t, { type Test } from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import {
  createCollectorServer,
  escapeHtml,
  safeJson,
  type CollectorServer,
} from '../../exporters/http/index.js';
import type { CollectorServerOptions } from '../../exporters/http/server.js';
import { sseEvent } from '../../exporters/http/escape.js';
import { waitFor } from '../helpers/index.js';
import { openTable } from '../helpers/tables.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const TOKEN = 'test-token-0123456789abcdef';
const XSS_NAMES = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>'];

/** Starts a task that runs until the returned function is called. */
async function holdTask(
  t: Test,
  table: ObservableTaskTable,
  name: string,
  category: string,
  progress = 0.5,
): Promise<{ id: string; done: Promise<unknown> }> {
  let release: () => void = () => undefined;
  const done = table
    .run({ name, category }, (report, signal) => {
      report.progress(progress, { step: name });
      return new Promise<void>((resolve, reject) => {
        release = resolve;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    })
    .catch((error: unknown) => error);
  t.teardown(async () => {
    release();
    await done;
  });
  let id: string | undefined;
  await waitFor(() => {
    for (const [rowId, row] of table)
      if (row.name === name && row.progress === progress) id = rowId;
    return id !== undefined;
  });
  return { id: id as string, done };
}

async function startServer(
  t: Test,
  options: CollectorServerOptions,
): Promise<{ server: CollectorServer; base: string; port: number }> {
  const server = createCollectorServer({ port: 0, ...options });
  const address = await server.listen();
  t.teardown(() => server.close());
  return { server, base: address.url, port: address.port };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection (no keep-alive), with a deadline. */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false, timeout: 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends raw bytes on a new connection; resolves with everything the server sent until it closed. */
function rawExchange(
  port: number,
  data: string,
  timeoutMs = 5000,
): Promise<{ text: string; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(data));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), elapsedMs: Date.now() - started });
    });
  });
}

/** An open /events stream: its first event, and a way to hang up. */
async function openEvents(
  url: string,
): Promise<{ first: { event: string; data: unknown }; close: () => void; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, timeout: 5000 }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`/events answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let buffer = '';
      const ended = new Promise<void>((resolveEnd) => {
        res.on('end', resolveEnd);
        res.on('close', resolveEnd);
      });
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const match = /event: (\S+)\ndata: (.*)\n\n/.exec(buffer);
        if (match !== null) {
          res.removeAllListeners('data');
          res.resume();
          resolve({
            first: { event: match[1] as string, data: JSON.parse(match[2] as string) },
            close: () => req.destroy(),
            ended,
          });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no event within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

t.test('createCollectorServer()', async (t) => {
  t.test('serves every route of the contract', async (t) => {
    const table = openTable(t);
    // Ended rows stay until their slot is reused: start the long task first.
    await holdTask(t, table, 'busy', 'alpha');
    await table.run({ name: 'done', category: 'beta' }, async () => undefined);
    const { base } = await startServer(t, { tables: [table] });

    const metrics = await request(`${base}metrics`);
    t.equal(metrics.status, 200);
    t.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const exposition = parsePrometheusText(metrics.body);
    t.equal(
      sampleValue(exposition, 'observable_tasks', {
        table: table.name,
        category: 'alpha',
        status: 'running',
      }),
      1,
    );
    t.equal(sampleValue(exposition, 'observable_task_table_up', { table: table.name }), 1);

    const head = await request(`${base}metrics`, { method: 'HEAD' });
    t.equal(head.status, 200);
    t.equal(head.body, '');
    t.equal(head.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');

    const root = await request(base);
    t.equal(root.status, 302);
    t.equal(root.headers.location, 'observable_task_table');

    const page = await request(`${base}observable_task_table`);
    t.equal(page.status, 200);
    t.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    t.equal(
      page.headers['content-security-policy'],
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    t.equal(page.headers['x-content-type-options'], 'nosniff');
    for (const column of [
      'Slot',
      'Status',
      'Category',
      'Name',
      'Last update',
      'Progress',
      'Age',
      'Data',
      'Overdue',
    ]) {
      t.match(page.body, `<th>${column}</th>`);
    }
    t.match(page.body, '<progress max="1" value="0.5">50%</progress>');
    t.match(page.body, '<noscript><meta http-equiv="refresh"');
    t.match(page.body, '<script src="assets/dashboard.js" defer></script>');
    t.notMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    t.notMatch(page.body, /\sstyle=/, 'no inline style');
    t.notMatch(page.body, /https?:\/\//, 'no external asset');

    const script = await request(`${base}assets/dashboard.js`);
    t.equal(script.status, 200);
    t.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    t.match(script.body, 'EventSource');
    t.notMatch(script.body, 'innerHTML');
    const css = await request(`${base}assets/dashboard.css`);
    t.equal(css.status, 200);
    t.equal(css.headers['content-type'], 'text/css; charset=utf-8');

    const api = await request(`${base}api/tasks`);
    t.equal(api.status, 200);
    t.equal(api.headers['content-type'], 'application/json; charset=utf-8');
    const all = JSON.parse(api.body) as {
      total: number;
      tasks: Array<Record<string, unknown>>;
      tables: unknown[];
    };
    t.equal(all.total, 2);
    t.same(all.tables, [{ table: table.name, state: 'ok', error: null }]);
    t.match(all.tasks[0], {
      table: table.name,
      name: 'busy',
      category: 'alpha',
      status: 'running',
      progress: 0.5,
      data: { step: 'busy' },
      overdue: false,
    });
    t.type(all.tasks[0]?.ageSeconds, 'number');
    const filtered = JSON.parse(
      (await request(`${base}api/tasks?status=finished&category=beta`)).body,
    ) as {
      tasks: Array<{ name: string }>;
    };
    t.same(
      filtered.tasks.map((r) => r.name),
      ['done'],
    );
    const none = JSON.parse((await request(`${base}api/tasks?category=nope`)).body) as {
      total: number;
    };
    t.equal(none.total, 0);
    t.equal((await request(`${base}observable_task_table?status=sleeping`)).status, 400);
    t.equal((await request(`${base}events?status=sleeping`)).status, 400);
    const bad = await request(`${base}api/tasks?status=sleeping`);
    t.equal(bad.status, 400);
    t.match(JSON.parse(bad.body), { error: /status must be one of/ });

    const health = await request(`${base}healthz`);
    t.equal(health.status, 200);
    t.same(JSON.parse(health.body), {
      status: 'ok',
      tables: [{ table: table.name, state: 'ok', error: null }],
    });
  });

  t.test('answers 404, 405, 413 and bad requests without crashing', async (t) => {
    const table = openTable(t);
    const { base, port } = await startServer(t, { tables: [table] });

    const missing = await request(`${base}nope`);
    t.equal(missing.status, 404);
    t.equal(
      (await request(`${base}api/nope`)).headers['content-type'],
      'application/json; charset=utf-8',
    );

    const post = await request(`${base}metrics`, { method: 'POST' });
    t.equal(post.status, 405);
    t.equal(post.headers.allow, 'GET, HEAD');
    t.equal((await request(`${base}healthz`, { method: 'DELETE' })).status, 405);

    const big = await request(`${base}api/tasks`, {
      headers: { 'content-type': 'text/plain', 'content-length': '2048' },
      body: 'x'.repeat(2048),
    });
    t.equal(big.status, 413);
    const chunked = await request(`${base}api/tasks`, {
      method: 'GET',
      headers: { 'transfer-encoding': 'chunked' },
      body: 'y'.repeat(4096),
    });
    t.equal(chunked.status, 413, 'a chunked body is counted as it arrives');
    const small = await request(`${base}api/tasks`, {
      headers: { 'content-length': '10' },
      body: '0123456789',
    });
    t.equal(small.status, 200, 'a small body is accepted');

    const garbage = await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n');
    t.match(garbage.text, /^HTTP\/1\.1 400 /);
    const hugeHeader = await rawExchange(
      port,
      `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    t.match(hugeHeader.text, /^HTTP\/1\.1 431 /);
    const badPath = await request(`${base}api/tasks/%E0%A4%A/1:1/cancel`, { method: 'POST' });
    t.equal(badPath.status, 404, 'the cancel route does not exist without a token');
    const foreign = await request(`${base}metrics`, { headers: { host: 'attacker.example:80' } });
    t.equal(foreign.status, 403, 'a foreign Host header (DNS rebinding) is refused');
    t.equal(
      (await request(`${base}metrics`, { headers: { host: `localhost:${port}` } })).status,
      200,
    );

    t.equal((await request(`${base}healthz`)).status, 200, 'still serving');
  });

  t.test('bounds a slow client by headersTimeoutMs', async (t) => {
    const table = openTable(t);
    const { port, server } = await startServer(t, { tables: [table], headersTimeoutMs: 300 });
    const slow = await rawExchange(
      port,
      'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1',
      5000,
    );
    t.match(slow.text, /^HTTP\/1\.1 408 /);
    t.ok(slow.elapsedMs < 3000, `closed after ${slow.elapsedMs} ms`);
    const silent = await rawExchange(port, '', 5000);
    t.ok(silent.elapsedMs < 3000, `a silent connection closed after ${silent.elapsedMs} ms`);
    await waitFor(() => server.stats.connections === 0, { what: 'connections to close' });
  });

  t.test('cancel route: absent by default, token-checked when enabled', async (t) => {
    const table = openTable(t);
    const task = await holdTask(t, table, 'cancel-me', 'alpha');
    const path = `api/tasks/${encodeURIComponent(table.name)}/${encodeURIComponent(task.id)}/cancel`;

    const plain = await startServer(t, { tables: [table] });
    t.equal((await request(`${plain.base}${path}`, { method: 'POST' })).status, 404);
    t.equal(
      (
        await request(`${plain.base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).status,
      404,
      'not even with a token',
    );

    const { base } = await startServer(t, { tables: [table], cancelToken: TOKEN });
    const anonymous = await request(`${base}${path}`, { method: 'POST' });
    t.equal(anonymous.status, 401);
    t.match(anonymous.headers['www-authenticate'], /^Bearer/);
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      'Bearer ',
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const wrong = await request(`${base}${path}`, { method: 'POST', headers: { authorization } });
      t.equal(wrong.status, 401, `refused: ${authorization}`);
    }
    t.equal((await request(`${base}${path}`)).status, 405);
    t.equal((await request(`${base}${path}`)).headers.allow, 'POST');
    const unknownTable = await request(
      `${base}api/tasks/nope/${encodeURIComponent(task.id)}/cancel`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      },
    );
    t.equal(unknownTable.status, 404);
    const malformed = await request(`${base}api/tasks/%E0%A4%A/x/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    t.equal(malformed.status, 400);
    t.equal(table.getStatus(task.id)?.status, 'running', 'nothing was cancelled so far');

    const ok = await request(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    t.equal(ok.status, 202);
    t.same(JSON.parse(ok.body), { table: table.name, id: task.id, cancelRequested: true });
    await waitFor(() => table.getStatus(task.id)?.status === 'cancelled', {
      what: 'the task to end cancelled',
    });
    const readOnly = ObservableTaskTable.open({ name: table.name, readOnly: true });
    t.teardown(() => readOnly.close());
    const viewer = await startServer(t, { tables: [readOnly], cancelToken: TOKEN });
    const refused = await request(`${viewer.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    t.equal(refused.status, 409, 'a read-only handle cannot cancel');
    t.match(JSON.parse(refused.body), { error: /readOnly/ });

    const again = await request(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    t.equal(again.status, 404, 'an ended task cannot be cancelled');
  });

  t.test(
    'a table removed or closed while served is reported; the others keep being served',
    async (t) => {
      const kept = openTable(t);
      const removed = openTable(t);
      const closed = openTable(t);
      await kept.run({ name: 'kept-task', category: 'k' }, async () => undefined);
      await removed.run({ name: 'removed-task', category: 'r' }, async () => undefined);
      const { base } = await startServer(t, { tables: [kept, removed, closed] });
      t.equal((await request(`${base}healthz`)).status, 200);

      ObservableTaskTable.unlink(removed.name);
      ObservableTaskTable.unlink(closed.name);
      closed.close();

      const health = await request(`${base}healthz`);
      t.equal(health.status, 503);
      const report = JSON.parse(health.body) as {
        status: string;
        tables: Array<{ table: string; state: string; error: string | null }>;
      };
      t.equal(report.status, 'degraded');
      t.match(report.tables, [
        { table: kept.name, state: 'ok', error: null },
        { table: removed.name, state: 'missing', error: /was removed/ },
        { table: closed.name, state: 'closed', error: /closed/ },
      ]);

      const exposition = parsePrometheusText((await request(`${base}metrics`)).body);
      t.equal(sampleValue(exposition, 'observable_task_table_up', { table: kept.name }), 1);
      t.equal(sampleValue(exposition, 'observable_task_table_up', { table: removed.name }), 0);
      t.equal(sampleValue(exposition, 'observable_task_table_up', { table: closed.name }), 0);
      t.equal(
        sampleValue(exposition, 'observable_tasks_started_total', {
          table: kept.name,
          category: 'k',
        }),
        1,
      );

      const api = JSON.parse((await request(`${base}api/tasks`)).body) as {
        tasks: Array<{ name: string }>;
      };
      t.same(
        api.tasks.map((r) => r.name),
        ['kept-task'],
      );
      const page = await request(`${base}observable_task_table`);
      t.equal(page.status, 200);
      t.match(page.body, 'kept-task');
      t.match(page.body, /state-missing/);
    },
  );

  t.test('escapes every table string in HTML, JSON and events', async (t) => {
    const table = openTable(t);
    for (const [i, name] of XSS_NAMES.entries()) await holdTask(t, table, name, `<b>cat${i}</b>"'`);
    const { base } = await startServer(t, { tables: [table] });

    const page = (await request(`${base}observable_task_table`)).body;
    t.match(page, '&lt;script&gt;alert(1)&lt;/script&gt;');
    t.match(page, '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    t.match(page, '<option value="&lt;b&gt;cat0&lt;/b&gt;&quot;&#39;">');
    t.notMatch(page, '<script>alert');
    t.notMatch(page, '<img');
    t.notMatch(page, '<b>cat');
    const filtered = (
      await request(
        `${base}observable_task_table?category=${encodeURIComponent('"><svg onload=x>')}`,
      )
    ).body;
    t.notMatch(filtered, '<svg', 'a filter value from the URL is escaped too');
    t.match(filtered, 'data-events="events?category=%22%3E%3Csvg+onload%3Dx%3E"');

    const events = await openEvents(`${base}events`);
    events.close();
    t.equal(events.first.event, 'rows');
    const names = (events.first.data as { rows: Array<{ name: string }> }).rows
      .map((r) => r.name)
      .sort();
    t.same(names, [...XSS_NAMES].sort(), 'the client gets the original strings back');
  });

  t.test('events: one shared poll; 50 clients come and go and leave nothing behind', async (t) => {
    const table = openTable(t);
    await holdTask(t, table, 'watched', 'alpha');
    let reads = 0;
    const iterate = table[Symbol.iterator].bind(table);
    table[Symbol.iterator] = () => {
      reads++;
      return iterate();
    };
    const { base, server } = await startServer(t, { tables: [table], pollIntervalMs: 100 });
    t.same(server.stats, { eventClients: 0, polling: false, reclaiming: true, connections: 0 });

    const started = Date.now();
    const clients = await Promise.all(
      Array.from({ length: 50 }, () => openEvents(`${base}events?category=alpha`)),
    );
    for (const client of clients) {
      t.equal(client.first.event, 'rows');
      t.match(client.first.data, {
        total: 1,
        rows: [{ name: 'watched', status: 'running', progress: 0.5 }],
      });
    }
    t.equal(server.stats.eventClients, 50);
    t.equal(server.stats.polling, true);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const elapsed = Date.now() - started;
    t.ok(
      reads <= Math.ceil(elapsed / 100) + 2,
      `${reads} reads in ${elapsed} ms for 50 clients (one per poll)`,
    );

    for (const client of clients) client.close();
    await waitFor(() => server.stats.eventClients === 0 && !server.stats.polling, {
      what: 'every client to be forgotten and the poll to stop',
    });
    const settled = reads;
    await new Promise((resolve) => setTimeout(resolve, 250));
    t.equal(reads, settled, 'no reads once the last client left');
    await waitFor(() => server.stats.connections === 0, { what: 'the sockets to close' });

    const head = await request(`${base}events`, { method: 'HEAD' });
    t.equal(head.status, 200);
    t.equal(head.headers['content-type'], 'text/event-stream; charset=utf-8');
    t.equal(server.stats.eventClients, 0, 'HEAD does not subscribe');
  });

  t.test(
    'events: refuses clients past maxEventClients, and close() ends the streams',
    async (t) => {
      const table = openTable(t);
      const { base, server } = await startServer(t, { tables: [table], maxEventClients: 2 });
      const a = await openEvents(`${base}events`);
      const b = await openEvents(`${base}events`);
      const refused = await request(`${base}events`);
      t.equal(refused.status, 503);
      t.equal(refused.headers['retry-after'], '10');
      await server.close();
      await Promise.all([a.ended, b.ended]);
      t.same(server.stats, { eventClients: 0, polling: false, reclaiming: false, connections: 0 });
      await server.close();
      t.equal(server.address, null);
      await t.rejects(server.listen(), /closed/);
    },
  );

  t.test('events: a stream outlives the request timeouts and keeps receiving', async (t) => {
    const table = openTable(t);
    const { base, server } = await startServer(t, {
      tables: [table],
      headersTimeoutMs: 100,
      pollIntervalMs: 100,
    });
    let events = 0;
    const req = httpRequest(`${base}events`, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => {
        events += chunk.toString('utf8').split('event: rows').length - 1;
      });
    });
    req.on('error', () => undefined);
    req.end();
    t.teardown(() => req.destroy());
    await waitFor(() => events >= 1, { what: 'the first event' });
    // Well past headersTimeout (100 ms) and requestTimeout (200 ms).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = events;
    await waitFor(() => events > before, { what: 'events after the timeouts' });
    t.equal(server.stats.eventClients, 1, 'still connected');
  });

  t.test('reclaims dead owners once per poll, on writable tables only', async (t) => {
    const table = openTable(t);
    const reader = ObservableTaskTable.open({ name: table.name, readOnly: true });
    t.teardown(() => reader.close());
    let writableCalls = 0;
    let readOnlyCalls = 0;
    table.reclaim = () => ++writableCalls && 0;
    reader.reclaim = () => ++readOnlyCalls && 0;
    const other = openTable(t);
    other.reclaim = () => {
      throw new Error('boom');
    };
    const { server } = await startServer(t, { tables: [table, other], pollIntervalMs: 100 });
    await waitFor(() => writableCalls >= 2, { what: 'two reclaim passes' });
    await server.close();
    const after = writableCalls;
    await new Promise((resolve) => setTimeout(resolve, 250));
    t.equal(writableCalls, after, 'no reclaim after close()');

    const readOnly = await startServer(t, { tables: [reader], pollIntervalMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    t.equal(readOnlyCalls, 0);
    t.equal(readOnly.server.stats.reclaiming, true);
  });

  t.test('listen(): address, defaults and a busy port', async (t) => {
    const table = openTable(t);
    const { server, port, base } = await startServer(t, { tables: [table] });
    t.same(server.address, { url: base, host: '127.0.0.1', port });
    t.equal(base, `http://127.0.0.1:${port}/`);
    t.equal(await server.listen().then((a) => a.port), port, 'listen() again is the same start');

    const busy = createCollectorServer({ tables: [table], port });
    await t.rejects(busy.listen(), { code: 'EADDRINUSE' });
    await busy.close();
    await busy.close();
    t.equal(createCollectorServer({ tables: [table] }).address, null);
  });

  t.test('validates its options at setup', async (t) => {
    const table = openTable(t);
    t.throws(() => createCollectorServer(null as never), TypeError);
    t.throws(() => createCollectorServer({ tables: 'x' as never }), TypeError);
    t.throws(() => createCollectorServer({ tables: [table, table] }), RangeError);
    t.throws(() => createCollectorServer({ tables: [table], port: 65536 }), RangeError);
    t.throws(() => createCollectorServer({ tables: [table], port: -1 }), RangeError);
    t.throws(() => createCollectorServer({ tables: [table], host: '' }), TypeError);
    t.throws(() => createCollectorServer({ tables: [table], pollIntervalMs: 99 }), RangeError);
    t.throws(
      () => createCollectorServer({ tables: [table], headersTimeoutMs: 60_001 }),
      RangeError,
    );
    t.throws(() => createCollectorServer({ tables: [table], maxEventClients: 0 }), RangeError);
    t.throws(() => createCollectorServer({ tables: [table], cancelToken: 'short' }), RangeError);
    t.throws(
      () => createCollectorServer({ tables: [table], cancelToken: 'sixteen chars ok' }),
      RangeError,
    );
    t.throws(
      () => createCollectorServer({ tables: [table], allowedHosts: 'x' as never }),
      TypeError,
    );
    t.doesNotThrow(() =>
      createCollectorServer({ tables: [table], cancelToken: 'a'.repeat(16), port: 0 }),
    );
  });
});

t.test('escaping helpers', async (t) => {
  t.equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  );
  t.equal(escapeHtml(5), '5');
  const tricky = { s: '</script><!-- \u2028\u2029 & "q"\n' };
  const json = safeJson(tricky);
  t.notMatch(json, /[<>&\u2028\u2029\n]/);
  t.same(JSON.parse(json), tricky, 'round-trips');
  t.equal(safeJson(undefined), 'null');
  t.equal(sseEvent('rows', { a: '\n' }), 'event: rows\ndata: {"a":"\\n"}\n\n');
  t.throws(() => sseEvent('bad\nname', {}), RangeError);
});
