// A real Debian redis-server for the Redis rows, started on a free port of 127.0.0.1
// without persistence (as a task-state store runs in production: nothing on disk in the
// hot path) and always stopped at the end. When redis-server is not installed the Redis
// rows are skipped with a note; every other row still runs.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

import { Redis } from 'ioredis';

import { delay, trackProcess, withTimeout } from './workload.mjs';

const READY_TIMEOUT_MS = 10000;

function redisServerPath() {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(connect, exited) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited.value) throw new Error(`redis-server exited early: ${exited.value}`);
    // A client whose first connection failed stays closed: use a new one per attempt.
    const probe = connect();
    try {
      if ((await withTimeout(probe.ping(), 1000, 'redis PING')) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      probe.disconnect();
    }
    await delay(25);
  }
}

/**
 * Starts redis-server. Resolves with `{ version, port, client(), stop() }`, or with
 * `{ skipped: reason }` when it cannot run here.
 */
export async function startRedis() {
  const binary = redisServerPath();
  if (binary === null) {
    return { skipped: 'redis-server is not installed (Debian: apt-get install redis-server)' };
  }
  const banner = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const version = /v=(\S+)/.exec(banner)?.[1] ?? banner;
  const port = await freePort();
  const server = trackProcess(
    spawn(
      binary,
      ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d));
  const exited = { value: null };
  server.once('exit', (code, signal) => {
    exited.value = `code ${code}, signal ${signal} ${stderr.trim()}`;
  });
  server.once('error', (error) => {
    exited.value = error.message;
  });
  const clients = [];
  const client = () => {
    const c = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  const stop = async () => {
    for (const c of clients) c.disconnect();
    if (exited.value !== null) return;
    const gone = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  };
  try {
    await waitUntilReady(client, exited);
  } catch (error) {
    await stop();
    return { skipped: `redis-server did not start: ${error.message}` };
  }
  return { version, port, client, stop };
}
