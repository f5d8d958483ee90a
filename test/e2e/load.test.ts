// Load (issue 6, item 6). A real `task-table serve` process takes Debian's wrk, 64
// connections on /metrics and then on /api/tasks, LOAD_SECONDS each (20 unless the
// environment says otherwise; CI uses 20), while 4 writer processes churn 10,000 tasks
// with progress updates for the whole window: zero socket errors, zero non-2xx answers,
// the collector alive, its RSS after the load within a bound of the RSS after a warm-up.
// Then 200 live (/events) clients come and go in waves on an in-process collector and
// leave no client, poll timer, socket or active handle behind. The figures go to
// docs/load-results.json (overwritten each run), from which the benchmark report quotes
// them.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import t, { type Test } from 'tap';

import { ObservableTaskTable } from '../../dist/lib/index.js';
import { createCollectorServer } from '../../dist/exporters/http/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';
import { forkFixture, nextMessage } from '../helpers/processes.js';

const WRK_BIN = '/usr/bin/wrk';
const CLI = fileURLToPath(new URL('../../dist/exporters/cli/task-table.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../docs/load-results.json', import.meta.url));

const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const WARMUP_SECONDS = 3;
const CONNECTIONS = 64;
const THREADS = 2;
/** wrk's per-request timeout: Prometheus' default scrape_timeout. */
const WRK_TIMEOUT = '10s';
const WRITERS = 4;
const TASKS = 10_000;
const WRITER_CONCURRENCY = 16;
/** Rows of the table: ended rows stay until reused, so /api/tasks answers this many. */
const MAX_TASKS = 256;
/**
 * The RSS the collector may gain from after the warm-up to after the load. Measured on
 * the CI machine (2 CPUs, Node 20): the RSS after the load is within a few MiB of the
 * RSS after the warm-up; 64 MiB leaves room for V8 sizing its heap differently, while a
 * leak of a few KiB per request (some 10^5 requests) would still exceed it.
 */
const RSS_GROWTH_LIMIT_MIB = 64;
const SSE_CLIENTS = 200;

interface WrkResult {
  url: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  transferPerSecond: string;
  latencyMs: {
    avg: number;
    stdev: number;
    max: number;
    p50: number;
    p75: number;
    p90: number;
    p99: number;
  };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

if (!Number.isFinite(LOAD_SECONDS) || LOAD_SECONDS < 1) {
  throw new RangeError(`LOAD_SECONDS must be a number >= 1 (received ${process.env.LOAD_SECONDS})`);
}

/** "12.34ms", "456.00us", "1.20s", "2.00m" in milliseconds. */
function toMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (match === null) throw new Error(`not a wrk duration: ${text}`);
  const value = Number(match[1]);
  const unit = match[2] as 'us' | 'ms' | 's' | 'm';
  return value * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit];
}

/** Parses wrk's report (with --latency). Throws on a report it does not understand. */
function parseWrk(url: string, output: string): WrkResult {
  const field = (pattern: RegExp): RegExpExecArray => {
    const match = pattern.exec(output);
    if (match === null) throw new Error(`no ${pattern} in wrk output:\n${output}`);
    return match;
  };
  const latency = field(/^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)\s/m);
  const percentile = (p: number): number =>
    // No `$`: wrk pads a value in seconds ("1.82s ") with a space.
    toMs(field(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'))[1] as string);
  const total = field(/^\s+(\d+) requests in ([\d.]+)(s|m|ms),/m);
  const seconds = toMs(`${total[2]}${total[3]}`) / 1000;
  // wrk prints these two lines only when something went wrong.
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    url,
    requests: Number(total[1]),
    seconds,
    requestsPerSecond: Number(field(/^Requests\/sec:\s+([\d.]+)$/m)[1]),
    transferPerSecond: field(/^Transfer\/sec:\s+(\S+)$/m)[1] as string,
    latencyMs: {
      avg: toMs(latency[1] as string),
      stdev: toMs(latency[2] as string),
      max: toMs(latency[3] as string),
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
    },
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

/** Runs wrk against `url` for `seconds`; rejects if wrk fails or overruns. */
async function runWrk(url: string, seconds: number): Promise<WrkResult> {
  const child = spawn(
    WRK_BIN,
    [
      `-t${THREADS}`,
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '--latency',
      '--timeout',
      WRK_TIMEOUT,
      url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${output}`);
  return parseWrk(url, output);
}

/** Resident set size and its high-water mark of process `pid`, in MiB. */
function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]);
  return { rssMiB: round(kib('VmRSS') / 1024), peakMiB: round(kib('VmHWM') / 1024) };
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Starts `task-table serve --table NAME --port 0`; resolves with the child and its URL. */
async function serve(t: Test, table: string): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.OBSERVABLE_TASK_TABLE;
  const child = spawn(process.execPath, [CLI, 'serve', '--table', table, '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL: ${output}`)), 15_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      const match = /serving .* on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
  });
  return { child, url };
}

async function bytesOf(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return (await response.arrayBuffer()).byteLength;
}

async function writeResults(results: unknown): Promise<void> {
  // Formatted as `prettier --check .` expects, so the lint gate stays green.
  const options = (await prettier.resolveConfig(RESULTS)) ?? {};
  const text = await prettier.format(JSON.stringify(results), { ...options, parser: 'json' });
  writeFileSync(RESULTS, text);
}

/** One /events client: connects, counts events, and hangs up when told. */
function sseClient(url: string): {
  request: ClientRequest;
  events: () => number;
  status: Promise<number>;
} {
  let events = 0;
  const request = httpRequest(url, { agent: false });
  const status = new Promise<number>((resolve, reject) => {
    request.on('response', (res) => {
      resolve(res.statusCode ?? 0);
      res.on('data', (chunk: Buffer) => {
        events += chunk.toString('utf8').split('event: rows').length - 1;
      });
      res.on('error', () => undefined);
    });
    request.on('error', (error) => reject(error));
  });
  request.end();
  return { request, events: () => events, status };
}

t.test(`${SSE_CLIENTS} live clients in waves leave nothing behind`, async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 64 });
  t.teardown(() => table.close());
  let release: () => void = () => undefined;
  const held = table.run({ name: 'watched', category: 'sse' }, (report) => {
    report.progress(0.5);
    return new Promise<void>((resolve) => (release = resolve));
  });
  t.teardown(async () => {
    release();
    await held;
  });
  const server = createCollectorServer({
    tables: [table],
    port: 0,
    pollIntervalMs: 100,
    maxEventClients: SSE_CLIENTS,
  });
  const { url } = await server.listen();
  t.teardown(() => server.close());
  const idle = { eventClients: 0, polling: false, reclaiming: true, connections: 0 };
  t.same(server.stats, idle);
  const resources = (): string[] =>
    process
      .getActiveResourcesInfo()
      .filter((r) => r !== 'TTYWrap')
      .sort();
  const baseline = resources();

  const waves: Array<{
    clients: number;
    hangUp: 'after first event' | 'at once' | 'after some events' | 'mixed';
  }> = [
    { clients: SSE_CLIENTS, hangUp: 'after first event' },
    { clients: SSE_CLIENTS / 4, hangUp: 'at once' },
    { clients: SSE_CLIENTS / 4, hangUp: 'after some events' },
    { clients: SSE_CLIENTS / 4, hangUp: 'mixed' },
    { clients: SSE_CLIENTS / 4, hangUp: 'after first event' },
    { clients: SSE_CLIENTS, hangUp: 'mixed' },
  ];
  let connected = 0;
  for (const [index, wave] of waves.entries()) {
    const clients = Array.from({ length: wave.clients }, () => sseClient(`${url}events`));
    connected += wave.clients;
    if (wave.hangUp === 'at once') {
      // Gone while the request is still on its way or just answered.
      await new Promise((resolve) => setImmediate(resolve));
      for (const client of clients) client.request.destroy();
      await Promise.allSettled(clients.map((c) => c.status));
    } else {
      const statuses = await Promise.all(clients.map((c) => c.status));
      t.ok(
        statuses.every((s) => s === 200),
        `wave ${index + 1}: ${wave.clients} clients accepted`,
      );
      const wanted = wave.hangUp === 'after some events' ? 3 : 1;
      await waitFor(() => clients.every((c) => c.events() >= wanted), {
        what: `wave ${index + 1}: ${wanted} event(s) per client`,
        timeoutMs: 10_000,
      });
      if (wave.hangUp !== 'mixed') {
        t.equal(
          server.stats.eventClients,
          wave.clients,
          `wave ${index + 1}: all connected at once`,
        );
        t.equal(server.stats.polling, true, `wave ${index + 1}: one shared poll runs`);
      }
      // 'mixed': hang up in a random order over a few polls.
      for (const [i, client] of clients.entries()) {
        if (wave.hangUp === 'mixed' && i % 3 === 0)
          await new Promise((resolve) => setTimeout(resolve, 5));
        client.request.destroy();
      }
    }
    await waitFor(
      () =>
        server.stats.eventClients === 0 && !server.stats.polling && server.stats.connections === 0,
      {
        what: `wave ${index + 1}: every client, the poll and every socket to be gone`,
        timeoutMs: 10_000,
      },
    );
    t.same(
      server.stats,
      idle,
      `wave ${index + 1} (${wave.clients} clients, hang up ${wave.hangUp}): nothing left`,
    );
  }
  t.ok(connected >= SSE_CLIENTS, `${connected} clients in ${waves.length} waves`);
  await waitFor(() => resources().join() === baseline.join(), {
    what: 'the active handles and timers to be back at the baseline',
  });
  t.same(resources(), baseline, 'no timer, socket or other handle left behind');
  const page = await fetch(`${url}healthz`);
  t.equal(page.status, 200, 'still serving');
});

t.test(
  `wrk: ${CONNECTIONS} connections, ${LOAD_SECONDS} s per route, ${WRITERS} writers churning ${TASKS} tasks`,
  async (t) => {
    const name = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name, maxTasks: MAX_TASKS });
    t.teardown(() => table.close());
    const collector = await serve(t, name);
    const pid = collector.child.pid as number;

    const windowMs = (2 * WARMUP_SECONDS + 2 * LOAD_SECONDS + 2) * 1000;
    const writers = Array.from({ length: WRITERS }, (_, i) =>
      forkFixture(t, 'load-writer.mjs', [
        name,
        String(i),
        String(TASKS / WRITERS),
        String(windowMs),
        String(WRITER_CONCURRENCY),
      ]),
    );
    await Promise.all(writers.map((w) => nextMessage(w, (m) => m.type === 'ready', 15_000)));
    const done = writers.map((w) =>
      nextMessage<{ type: string; tasks: number; failed: number; endedAt: number }>(
        w,
        (m) => m.type === 'done',
        windowMs + 60_000,
      ),
    );
    // Observed below; until then a failure elsewhere must not leave them unhandled.
    for (const report of done) report.catch(() => undefined);
    for (const w of writers) w.send('go');
    const memoryAtStart = memoryOf(pid);

    const metricsUrl = `${collector.url}metrics`;
    const apiUrl = `${collector.url}api/tasks`;
    // Warm-up: JIT, heap sizing and socket buffers settle before the baseline is taken.
    await runWrk(metricsUrl, WARMUP_SECONDS);
    await runWrk(apiUrl, WARMUP_SECONDS);
    const memoryBefore = memoryOf(pid);

    const metrics = await runWrk(metricsUrl, LOAD_SECONDS);
    const api = await runWrk(apiUrl, LOAD_SECONDS);
    const loadEndedAt = Date.now();
    const memoryAfter = memoryOf(pid);
    const responseBytes = { metrics: await bytesOf(metricsUrl), apiTasks: await bytesOf(apiUrl) };

    for (const result of [metrics, api]) {
      const route = new URL(result.url).pathname;
      t.same(
        result.socketErrors,
        { connect: 0, read: 0, write: 0, timeout: 0 },
        `${route}: no socket errors in ${result.requests} requests`,
      );
      t.equal(result.non2xx, 0, `${route}: no non-2xx answers`);
      t.ok(
        result.requests > 0,
        `${route}: ${result.requestsPerSecond} requests/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`,
      );
    }
    t.equal(collector.child.exitCode, null, 'the collector is still running');
    t.equal(collector.child.signalCode, null);
    const health = await fetch(`${collector.url}healthz`, { signal: AbortSignal.timeout(10_000) });
    t.equal(health.status, 200, 'and healthy');
    const growthMiB = round(memoryAfter.rssMiB - memoryBefore.rssMiB);
    t.ok(
      growthMiB < RSS_GROWTH_LIMIT_MIB,
      `collector RSS ${memoryBefore.rssMiB} MiB after warm-up, ${memoryAfter.rssMiB} MiB after the load (+${growthMiB} MiB, limit ${RSS_GROWTH_LIMIT_MIB})`,
    );

    const reports = await Promise.all(done);
    t.same(
      reports.map((r) => [r.tasks, r.failed]),
      reports.map(() => [TASKS / WRITERS, 0]),
      'every writer ran its share, none failed',
    );
    t.ok(
      reports.every((r) => r.endedAt >= loadEndedAt - 1000),
      'the writers churned until the load ended',
    );
    const categories = table
      .readMetrics()
      .categories.filter((c) => c.category.startsWith('writer-'));
    t.equal(
      categories.reduce((sum, c) => sum + c.started, 0),
      TASKS,
      `${TASKS} tasks started, as the table's counters say`,
    );
    t.equal(
      categories.reduce((sum, c) => sum + c.completed.finished, 0),
      TASKS,
      'and all of them finished',
    );

    collector.child.kill('SIGTERM');
    const [code] = (await once(collector.child, 'exit')) as [number | null];
    t.equal(code, 0, 'the collector stops cleanly after the load');

    const wrkVersion = /^wrk (\S+)/.exec(
      await new Promise<string>((resolve) => {
        const child = spawn(WRK_BIN, ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.on('close', () => resolve(text));
      }),
    )?.[1];
    const summary = (r: WrkResult) => ({
      requests: r.requests,
      seconds: r.seconds,
      requestsPerSecond: r.requestsPerSecond,
      transferPerSecond: r.transferPerSecond,
      latencyMs: r.latencyMs,
      socketErrors: r.socketErrors,
      non2xx: r.non2xx,
    });
    await writeResults({
      description:
        'Collector under load: wrk against task-table serve while writer processes churn tasks (test/e2e/load.test.ts)',
      generatedAt: new Date().toISOString(),
      environment: {
        node: process.version,
        kernel: release(),
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        wrk: wrkVersion ?? 'unknown',
      },
      setup: {
        wrk: `-t${THREADS} -c${CONNECTIONS} -d${LOAD_SECONDS}s --latency --timeout ${WRK_TIMEOUT}`,
        warmupSecondsPerRoute: WARMUP_SECONDS,
        tableMaxTasks: MAX_TASKS,
        writers: WRITERS,
        tasksChurned: TASKS,
        writerConcurrency: WRITER_CONCURRENCY,
        responseBytes,
      },
      routes: { '/metrics': summary(metrics), '/api/tasks': summary(api) },
      collectorMemoryMiB: {
        atStart: memoryAtStart.rssMiB,
        afterWarmup: memoryBefore.rssMiB,
        afterLoad: memoryAfter.rssMiB,
        growth: growthMiB,
        limit: RSS_GROWTH_LIMIT_MIB,
        peak: memoryAfter.peakMiB,
      },
    });
  },
);
