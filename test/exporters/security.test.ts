// Security defaults of the collector (issue 6, item 5), beyond what http.test.ts already
// covers (413 bodies, 431 headers, the cancel route's 401s, the exact dashboard CSP, the
// Host check): the address `task-table serve` binds and that the machine's other
// addresses are refused, the `--cancel-token-env` path of the CLI, and the time bounds on
// slow clients: headers sent byte by byte, a body trickled in, an idle keep-alive
// connection, and a client that stops reading its response.
//
// That a second Unix user can neither open nor write a 0600 table is covered by
// test/native/permissions.test.ts (it runs a fixture as uid 65534).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { createCollectorServer, type CollectorServer } from '../../exporters/http/index.js';
import type { CollectorServerOptions } from '../../exporters/http/server.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';

const CLI = fileURLToPath(new URL('../../dist/exporters/cli/task-table.js', import.meta.url));
const TOKEN = 'cli-token-0123456789abcdef';

function openTable(
  t: Test,
  options: Parameters<typeof ObservableTaskTable.open>[0] = {},
): ObservableTaskTable {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 64, ...options });
  t.teardown(() => table.close());
  return table;
}

async function startServer(
  t: Test,
  options: CollectorServerOptions,
): Promise<{ server: CollectorServer; port: number }> {
  const server = createCollectorServer({ port: 0, ...options });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  return { server, port };
}

/** Starts `task-table serve` with `args`; killed in teardown. */
function startServe(t: Test, args: string[], env: Record<string, string> = {}): ChildProcess {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete base.OBSERVABLE_TASK_TABLE;
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Everything the child printed, its exit code, once it exits (killed after `timeoutMs`). */
async function finish(
  child: ChildProcess,
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Resolves with the host and port `serve` printed, and all of its output so far. */
function servingAddress(child: ChildProcess): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no URL: ${text}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const match = /serving .* on http:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\//.exec(text);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve({ host: match[1] as string, port: Number(match[2]) });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
  });
}

/** Connects to host:port: 'connected', or the error code (ECONNREFUSED, ...). */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** The machine's non-loopback addresses that can be connected to without a scope id. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && !a.address.startsWith('fe80:'))
    .map((a) => a.address);
}

/** An open raw connection and what the server sent on it. */
interface RawConnection {
  socket: Socket;
  received: () => string;
  closed: Promise<number>;
}

/** Opens a raw TCP connection; `closed` resolves with the ms from connect to close. */
async function rawConnection(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = Date.now();
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = once(socket, 'close').then(() => Date.now() - started);
  return { socket, received: () => text, closed };
}

/** Writes `data` one byte every `everyMs` until the socket closes or the data ends. */
async function trickle(socket: Socket, data: string, everyMs: number): Promise<number> {
  let sent = 0;
  for (const byte of data) {
    if (socket.destroyed || !socket.writable) break;
    socket.write(byte);
    sent++;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return sent;
}

t.before(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
});

t.test('task-table serve binds 127.0.0.1 unless told otherwise', async (t) => {
  const table = openTable(t);
  const child = startServe(t, ['--table', table.name, '--port', '0']);
  const { host, port } = await servingAddress(child);
  t.equal(host, '127.0.0.1', 'the printed address is the loopback one');
  t.equal(await tryConnect('127.0.0.1', port), 'connected', 'reachable on 127.0.0.1');

  const external = externalAddresses();
  if (external.length === 0) {
    t.comment('no non-loopback interface on this machine: only the bound address is checked');
    return;
  }
  for (const address of external) {
    t.equal(
      await tryConnect(address, port),
      'ECONNREFUSED',
      `refused on this machine's address ${address}`,
    );
  }

  // The control: the same connection succeeds once serve is told to bind everywhere, so
  // the refusals above come from the default address, not from the network.
  const open = startServe(t, ['--table', table.name, '--port', '0', '--host', '0.0.0.0']);
  const everywhere = await servingAddress(open);
  t.equal(everywhere.host, '0.0.0.0');
  const ipv4 = external.find((a) => !a.includes(':'));
  if (ipv4 !== undefined) {
    t.equal(await tryConnect(ipv4, everywhere.port), 'connected', `--host 0.0.0.0: ${ipv4}`);
    const health = await fetch(`http://${ipv4}:${everywhere.port}/healthz`);
    t.equal(health.status, 200, 'and served over that address');
  }
});

t.test('task-table serve --cancel-token-env', async (t) => {
  const table = openTable(t);
  let id = '';
  const task = table
    .run({ name: 'cancel-me', category: 'cli' }, (report, signal) => {
      id = report.id;
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    })
    .catch((error: unknown) => error);
  await waitFor(() => id !== '' && table.getStatus(id)?.status === 'running', {
    what: 'the task to run',
  });
  const path = `/api/tasks/${encodeURIComponent(table.name)}/${encodeURIComponent(id)}/cancel`;
  const post = (port: number, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers });

  t.test('without the flag there is no cancel route, whatever the environment', async (t) => {
    const child = startServe(t, ['--table', table.name, '--port', '0'], {
      OTT_CANCEL_TOKEN: TOKEN,
    });
    const { port } = await servingAddress(child);
    t.equal((await post(port, { authorization: `Bearer ${TOKEN}` })).status, 404);
    t.equal(table.getStatus(id)?.status, 'running');
  });

  t.test('an empty, short or spaced token is one usage line, exit 2', async (t) => {
    for (const [what, value] of [
      ['unset', undefined],
      ['empty', ''],
      ['15 characters', 'a'.repeat(15)],
      ['with a space', 'has a space 0123456789'],
    ] as const) {
      const env: Record<string, string> = value === undefined ? {} : { OTT_CANCEL_TOKEN: value };
      const result = await finish(
        startServe(
          t,
          ['--table', table.name, '--port', '0', '--cancel-token-env', 'OTT_CANCEL_TOKEN'],
          env,
        ),
      );
      t.equal(result.code, 2, `${what}: usage error`);
      t.match(result.stderr, /^task-table: .*--cancel-token-env/, `${what}: names the flag`);
      t.equal(result.stderr.trim().split('\n').length, 1, `${what}: one line, no stack`);
      t.equal(result.stdout, '', `${what}: nothing served`);
      if (value) t.notMatch(result.stderr, value, `${what}: the token is not echoed`);
    }
  });

  t.test('a bad --host is one usage line, exit 2', async (t) => {
    const result = await finish(startServe(t, ['--table', table.name, '--host', '']));
    t.equal(result.code, 2);
    t.match(result.stderr, /^task-table: --host /);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack');
  });

  t.test('with the flag, only the token cancels', async (t) => {
    const child = startServe(
      t,
      ['--table', table.name, '--port', '0', '--cancel-token-env', 'OTT_CANCEL_TOKEN'],
      { OTT_CANCEL_TOKEN: TOKEN },
    );
    let printed = '';
    child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const { port } = await servingAddress(child);
    t.equal((await post(port)).status, 401, 'no token');
    t.equal((await post(port, { authorization: `Bearer ${TOKEN}x` })).status, 401, 'wrong token');
    t.equal(table.getStatus(id)?.status, 'running', 'nothing cancelled yet');
    const ok = await post(port, { authorization: `Bearer ${TOKEN}` });
    t.equal(ok.status, 202);
    t.same(await ok.json(), { table: table.name, id, cancelRequested: true });
    await waitFor(() => table.getStatus(id)?.status === 'cancelled', {
      what: 'the task to end cancelled',
    });
    t.match(await task, { name: 'AbortError' }, 'the task saw its signal abort');
    t.notMatch(printed, TOKEN, 'the token is never printed');
  });
});

t.test('slow and idle clients are cut off', async (t) => {
  const table = openTable(t);

  t.test('headers sent one byte at a time: closed at headersTimeoutMs', async (t) => {
    const { server, port } = await startServer(t, { tables: [table], headersTimeoutMs: 500 });
    const raw = await rawConnection(port);
    // Never-ending headers, one byte every 20 ms: the connection is never idle, yet the
    // headers never complete.
    const header = `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(1000)}`;
    const sending = trickle(raw.socket, header, 20);
    const elapsedMs = await raw.closed;
    const sent = await sending;
    t.match(raw.received(), /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout');
    t.ok(elapsedMs >= 450 && elapsedMs < 1500, `closed after ${elapsedMs} ms (limit 500 ms)`);
    t.ok(sent > 10, `${sent} bytes trickled in before the cut`);
    await waitFor(() => server.stats.connections === 0, { what: 'the connection to be gone' });
  });

  t.test('a body trickled in: closed at the request timeout (2 x headersTimeoutMs)', async (t) => {
    const { server, port } = await startServer(t, { tables: [table], headersTimeoutMs: 500 });
    const raw = await rawConnection(port);
    raw.socket.write('GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n');
    const sending = trickle(raw.socket, 'b'.repeat(1000), 20);
    const elapsedMs = await raw.closed;
    await sending;
    t.match(raw.received(), /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout');
    t.ok(elapsedMs >= 950 && elapsedMs < 2500, `closed after ${elapsedMs} ms (limit 1000 ms)`);
    await waitFor(() => server.stats.connections === 0, { what: 'the connection to be gone' });
  });

  t.test('an idle keep-alive connection: closed after keepAliveTimeout (5 s)', async (t) => {
    const { server, port } = await startServer(t, { tables: [table] });
    const raw = await rawConnection(port);
    raw.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor(() => raw.received().endsWith('\n') && raw.received().includes('"status"'), {
      what: 'the response',
    });
    const answeredAt = Date.now();
    t.match(raw.received(), /^HTTP\/1\.1 200 /);
    t.match(raw.received(), /\r\nKeep-Alive: timeout=5\b/i, 'announces the timeout');
    t.equal(server.stats.connections, 1, 'kept alive after the response');
    await raw.closed;
    const idleMs = Date.now() - answeredAt;
    // node:http closes 1 s after the announced timeout, so that a client reusing the
    // connection just before the announced time does not race the close.
    t.ok(idleMs >= 4500 && idleMs < 7500, `closed after ${idleMs} ms idle`);
    await waitFor(() => server.stats.connections === 0, { what: 'the connection to be gone' });
  });

  t.test('a client that stops reading its response: dropped when nothing moves', async (t) => {
    // Responses of about 8 MB, more than the loopback socket buffers take: what the client
    // does not read stays queued in the collector, and the response never finishes, so
    // neither the request timeouts nor keepAliveTimeout ever apply to the connection.
    const rows = 4000;
    const big = openTable(t, { maxTasks: rows, dataSize: 2048 });
    const releases: Array<() => void> = [];
    const tasks = Array.from({ length: rows }, (_, i) =>
      big.run({ name: `big-${i}`, category: 'big' }, (report) => {
        report.status('running', { pad: 'x'.repeat(1800) });
        return new Promise<void>((resolve) => releases.push(resolve));
      }),
    );
    t.teardown(async () => {
      for (const release of releases) release();
      await Promise.all(tasks);
    });
    await waitFor(() => releases.length === rows, { what: 'the rows to be written' });
    // Idle timeout: 3 x 300 ms.
    const { server, port } = await startServer(t, { tables: [big], headersTimeoutMs: 300 });

    const clients: RawConnection[] = [];
    for (let i = 0; i < 4; i++) {
      const raw = await rawConnection(port);
      raw.socket.pause();
      raw.socket.write('GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      clients.push(raw);
    }
    t.teardown(() => {
      for (const raw of clients) raw.socket.destroy();
    });
    await waitFor(() => server.stats.connections === 4, { what: 'four connections' });
    const started = Date.now();
    await waitFor(() => server.stats.connections === 0, {
      what: 'the stalled connections to be closed',
      timeoutMs: 5000,
    });
    t.pass(`four stalled readers dropped after ${Date.now() - started} ms`);
  });

  t.test('a live stream is not idle: it outlives the idle timeout', async (t) => {
    // Idle timeout 3 x 100 ms; events every 1000 ms.
    const { server, port } = await startServer(t, {
      tables: [table],
      headersTimeoutMs: 100,
      pollIntervalMs: 1000,
    });
    const raw = await rawConnection(port);
    raw.socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor(() => raw.received().split('event: rows').length - 1 >= 3, {
      what: 'three events',
      timeoutMs: 5000,
    });
    t.equal(server.stats.eventClients, 1, 'still connected after 2 s');
    raw.socket.destroy();
    await waitFor(() => server.stats.eventClients === 0, { what: 'the client to be forgotten' });
  });
});
