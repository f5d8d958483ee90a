// A real Prometheus server for e2e tests: private config and TSDB in a temp dir, listening
// on a free 127.0.0.1 port, scraping only the targets it is given. Also promtool's
// exposition-format linter. Uses Debian's /usr/bin/prometheus and /usr/bin/promtool
// (installed by .ci/run).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const PROMTOOL_TIMEOUT_MS = 30_000;
const LOG_TAIL_CHARS = 4_000;

export interface StartPrometheusOptions {
  /** Scrape targets as 'host:port' (scheme http, path /metrics). */
  scrapeTargets: string[];
  /** Scrape interval of the job, in seconds. Default 1. */
  scrapeIntervalSeconds?: number;
}

/** One series of an instant-query result (`value`) or of a range-vector result (`values`). */
export interface PrometheusSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

export interface RunningPrometheus {
  /** Base URL, for example http://127.0.0.1:41234 */
  url: string;
  /** Runs an instant query (/api/v1/query) and returns `data.result`. */
  query(expr: string): Promise<PrometheusSample[]>;
  /** SIGTERM, SIGKILL after 5 s, then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: unknown };
}

/** Starts Prometheus and resolves once /-/ready answers 200 (or rejects within 30 s). */
export async function startPrometheus({
  scrapeTargets,
  scrapeIntervalSeconds = 1,
}: StartPrometheusOptions): Promise<RunningPrometheus> {
  if (!(scrapeIntervalSeconds > 0)) {
    throw new RangeError(`scrapeIntervalSeconds must be > 0, got ${scrapeIntervalSeconds}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'ott-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig(scrapeTargets, scrapeIntervalSeconds));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = captureLog(child);
  // If the test process exits without calling stop(), don't leave Prometheus behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      await terminate(child);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await waitUntilReady(url, child, log);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    query: (expr) => query(url, expr),
    stop,
  };
}

/**
 * Pipes `text` into `promtool check metrics`. `ok` is true when promtool exits 0 (no
 * parse errors and no lint problems); `output` is its combined stdout and stderr.
 */
export async function promtoolCheckMetrics(text: string): Promise<{ ok: boolean; output: string }> {
  const child = spawn(PROMTOOL_BIN, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // promtool may exit before reading everything (EPIPE); its exit code tells the story.
  child.stdin.on('error', () => {});
  child.stdin.end(text);

  const timer = setTimeout(() => child.kill('SIGKILL'), PROMTOOL_TIMEOUT_MS);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (signal !== null) {
      throw new Error(`promtool check metrics killed by ${signal}; output:\n${output}`);
    }
    return { ok: code === 0, output };
  } finally {
    clearTimeout(timer);
  }
}

function prometheusConfig(targets: string[], intervalSeconds: number): string {
  // Prometheus durations take integer amounts, so express fractions of a second in ms.
  const interval = `${Math.max(1, Math.round(intervalSeconds * 1000))}ms`;
  const targetList = targets.map((target) => JSON.stringify(target)).join(', ');
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: observable_task_table',
    '    honor_labels: false',
    `    scrape_interval: ${interval}`,
    // The timeout may not exceed the interval; a scrape of a local target is fast anyway.
    `    scrape_timeout: ${interval}`,
    '    static_configs:',
    `      - targets: [${targetList}]`,
    '',
  ].join('\n');
}

/** Asks the kernel for an unused port on 127.0.0.1 (a small race remains; see startup). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') {
    throw new Error(`unexpected server address ${String(address)}`);
  }
  return address.port;
}

function captureLog(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: string): void => {
    text = (text + chunk).slice(-LOG_TAIL_CHARS);
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  return () => text;
}

async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (spawnError !== undefined) {
      throw new Error(`could not start ${PROMETHEUS_BIN}: ${spawnError.message}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `prometheus exited before it was ready (code ${child.exitCode}, signal ` +
          `${child.signalCode}); log tail:\n${log()}`,
      );
    }
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `prometheus at ${url} not ready after ${READY_TIMEOUT_MS} ms (last: ${lastProblem}); ` +
          `log tail:\n${log()}`,
      );
    }
    await sleep(100);
  }
}

async function query(url: string, expr: string): Promise<PrometheusSample[]> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as QueryResponse;
  if (body.status !== 'success' || body.data === undefined) {
    throw new Error(
      `query ${JSON.stringify(expr)} failed: HTTP ${response.status}, ` +
        `${body.errorType ?? 'error'}: ${body.error ?? 'no data'}`,
    );
  }
  const { resultType, result } = body.data;
  if (resultType === 'scalar' || resultType === 'string') {
    return [{ metric: {}, value: result as [number, string] }];
  }
  return result as PrometheusSample[];
}

async function terminate(child: ChildProcess): Promise<void> {
  // pid is undefined when the spawn itself failed: there is nothing to stop.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
