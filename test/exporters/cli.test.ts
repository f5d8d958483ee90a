// The task-table CLI, run as users run it: the compiled dist/exporters/cli/task-table.js in
// a child process (build first: npm run build:ts). Every child has a deadline.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readTaskRows } from '../../exporters/http/task-rows.js';
import {
  DEFAULT_TABLE_OPTIONS,
  FINAL_OBSERVABLE_TASK_STATUSES,
  ObservableTask,
  ObservableTaskTable,
  type FinalObservableTaskStatus,
} from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';

const CLI = fileURLToPath(new URL('../../dist/exporters/cli/task-table.js', import.meta.url));
const COMMANDS = ['serve', 'ls', 'top', 'cancel', 'inspect', 'rm', 'demo'];

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; the environment never inherits a table name unless given. */
function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete base.OBSERVABLE_TASK_TABLE;
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a child's output and exit; kills it after `timeoutMs`. */
function finish(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function runCli(
  args: string[],
  env?: Record<string, string>,
  timeoutMs = 15_000,
): Promise<CliResult> {
  return finish(startCli(args, env), timeoutMs);
}

/** Resolves with the first match of `pattern` in the child's stdout. */
function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      child.stdout?.off('data', onData);
      reject(new Error(`no ${pattern} in output within ${timeoutMs} ms; got: ${text}`));
    }, timeoutMs);
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(match);
    };
    child.stdout?.on('data', onData);
  });
}

/** A promise whose settlement the test controls, aborting with `signal`. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

t.before(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
});

t.test('task-table --help', async (t) => {
  const top = await runCli(['--help']);
  t.equal(top.code, 0);
  for (const command of COMMANDS) t.match(top.stdout, new RegExp(`^  ${command} `, 'm'));

  for (const command of COMMANDS) {
    const result = await runCli([command, '--help']);
    t.equal(result.code, 0, `${command} --help exits 0`);
    t.match(result.stdout, new RegExp(`^Usage: task-table ${command}`), `${command} --help`);
    t.match(result.stdout, /--help/);
    t.equal(result.stderr, '');
    const short = await runCli([command, '-h']);
    t.equal(short.stdout, result.stdout, `${command} -h is --help`);
  }
});

t.test('task-table: bad usage exits 2 with one line on stderr', async (t) => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /^task-table: unknown command 'frobnicate' \(see task-table --help\)$/],
    [['ls', '--bogus'], /^task-table: unknown option '--bogus' \(see task-table ls --help\)$/],
    [['serve', '--port'], /needs a value/],
    [['serve', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['top', '--interval-ms', 'soon'], /--interval-ms/],
    [['ls', '--status', 'sleeping'], /--status must be one of/],
    [['rm'], /needs NAME/],
    [['rm', 'a', 'b'], /unexpected argument 'b'/],
    [['cancel', 'not-an-id'], /not a task id/],
    [['demo', '--workers', '0'], /--workers/],
    [['demo', '--duration', '-1'], /./],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    t.equal(result.code, 2, `${args.join(' ')} exits 2`);
    t.equal(lines(result.stderr).length, 1, `${args.join(' ')}: one line`);
    t.match(result.stderr.trimEnd(), message);
    t.equal(result.stdout, '');
  }
  const bare = await runCli([]);
  t.equal(bare.code, 2, 'no command: usage on stderr, exit 2');
  t.match(bare.stderr, /Commands:/);
});

t.test('task-table: option values, help topics and table names', async (t) => {
  const rule = "must be 1 to 200 letters, digits, '.', '_' or '-', not starting with '.' (no '/')";
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const cases: [string[], RegExp][] = [
    [
      ['top', '--interval-ms', '-5'],
      /^task-table: option '--interval-ms' needs a value \(to pass one starting with '-', write --interval-ms=-5\) \(see task-table top --help\)$/,
    ],
    [
      ['top', '--interval-ms=-5'],
      /^task-table: --interval-ms must be an integer from 50 to 60000 \(received '-5'\) \(see task-table top --help\)$/,
    ],
    [
      ['serve', '--port', '-1'],
      /^task-table: option '--port' needs a value \(to pass one starting with '-', write --port=-1\) \(see task-table serve --help\)$/,
    ],
    [
      ['cancel', '1:1', '--wait-ms', '-1'],
      /^task-table: option '--wait-ms' needs a value \(to pass one starting with '-', write --wait-ms=-1\) \(see task-table cancel --help\)$/,
    ],
    [
      ['ls', '--table', '--json'],
      /^task-table: option '--table' needs a value \(see task-table ls --help\)$/,
    ],
    [
      ['ls', '--json=yes'],
      /^task-table: option '--json' does not take a value \(see task-table ls --help\)$/,
    ],
    [['help', 'nosuch'], /^task-table: unknown command 'nosuch' \(see task-table --help\)$/],
    [
      ['ls', '--table', 'a/b'],
      new RegExp(
        `^task-table: --table ${escape(rule)} \\(received "a/b"\\) \\(see task-table ls --help\\)$`,
      ),
    ],
    [
      ['rm', 'a/b'],
      new RegExp(
        `^task-table: NAME ${escape(rule)} \\(received "a/b"\\) \\(see task-table rm --help\\)$`,
      ),
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    t.equal(result.code, 2, `${args.join(' ')} exits 2`);
    t.match(result.stderr.trimEnd(), message, args.join(' '));
    t.equal(lines(result.stderr).length, 1, `${args.join(' ')}: one line`);
    t.equal(result.stdout, '');
  }
  const topic = await runCli(['help', 'ls']);
  t.equal(topic.code, 0);
  t.match(topic.stdout, /^Usage: task-table ls/);
});

t.test('task-table ls', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 16 });
  t.teardown(() => table.close());
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const running = table.run({ name: 'running-task', category: 'second' }, async (report) => {
    report.progress(0.25);
    await gate;
  });
  // Started second, so the finished row does not take (and free) the running task's slot.
  await table.run({ name: 'done-task', category: 'first' }, async () => 'ok');

  const result = await runCli(['ls', '--json', '--table', name]);
  t.equal(result.code, 0, result.stderr);
  const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
  t.match(rows, [
    { name: 'running-task', category: 'second', status: 'running', progress: 0.25 },
    { name: 'done-task', category: 'first', status: 'finished' },
  ]);

  const byEnv = await runCli(['ls', '--json'], { OBSERVABLE_TASK_TABLE: name });
  t.same(
    (JSON.parse(byEnv.stdout) as { name: string }[]).map((r) => r.name),
    ['running-task', 'done-task'],
    'the default table comes from OBSERVABLE_TASK_TABLE',
  );

  const filtered = await runCli(['ls', '--json', '--table', name, '--status', 'running']);
  t.same(
    (JSON.parse(filtered.stdout) as { name: string }[]).map((r) => r.name),
    ['running-task'],
  );
  const byCategory = await runCli(['ls', '--json', '--table', name, '--category', 'first']);
  t.same(
    (JSON.parse(byCategory.stdout) as { name: string }[]).map((r) => r.name),
    ['done-task'],
  );

  const text = await runCli(['ls', '--table', name]);
  t.equal(text.code, 0);
  t.match(text.stdout, /^ID\s+STATUS\s+CATEGORY\s+PROGRESS\s+AGE\s+NAME$/m);
  t.match(text.stdout, /running\s+second\s+25%\s+\S+\s+running-task/);

  release();
  await running;

  const missing = await runCli(['ls', '--table', `${name}-missing`]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^task-table: Table ".*-missing" does not exist/);
  t.notOk(existsSync(`/dev/shm/${name}-missing`), 'ls never creates a table');
});

t.test('task-table ls: filters', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 16 });
  t.teardown(() => table.close());

  const empty = await runCli(['ls', '--table', name, '--category', 'x']);
  t.equal(empty.code, 0, empty.stderr);
  t.equal(empty.stdout, `no rows in table "${name}"\n`, 'an empty table says so');

  await table.run({ name: 'done-task', category: 'c' }, async () => undefined);
  await t.rejects(
    table.run({ name: 'failed-task', category: 'c' }, async () => {
      throw new Error('boom');
    }),
  );
  await table.run({ name: 'other-task', category: 'd' }, async () => undefined);

  const none = await runCli(['ls', '--table', name, '--category', 'nosuchcat']);
  t.equal(none.code, 0, none.stderr);
  t.equal(
    none.stdout,
    `no rows match --category nosuchcat in table "${name}" (3 rows in all)\n`,
    'a filter that matches nothing is not an empty table',
  );

  const several = await runCli([
    'ls',
    '--json',
    '--table',
    name,
    '--status',
    'finished',
    '--status',
    'failed',
    '--category',
    'c',
  ]);
  t.equal(several.code, 0, several.stderr);
  t.same(
    (JSON.parse(several.stdout) as { name: string }[]).map((r) => r.name).sort(),
    ['done-task', 'failed-task'],
    'a repeated --status keeps rows with any of them',
  );
  const categories = await runCli([
    'ls',
    '--json',
    '--table',
    name,
    '--category',
    'c',
    '--category',
    'd',
  ]);
  t.equal((JSON.parse(categories.stdout) as unknown[]).length, 3, 'a repeated --category too');
});

t.test('task-table inspect', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 32, dataSize: 256 });
  t.teardown(() => table.close());
  await table.run({ name: 'x', category: 'c' }, async () => undefined);

  const result = await runCli(['inspect', '--json', '--table', name]);
  t.equal(result.code, 0, result.stderr);
  const info = JSON.parse(result.stdout) as Record<string, unknown>;
  const layout = table.layout;
  t.match(info, {
    name,
    path: layout.path,
    layoutVersion: layout.layoutVersion,
    maxTasks: 32,
    dataSize: 256,
    maxCategories: layout.maxCategories,
    totalBytes: layout.totalBytes,
    rowBytes: layout.rowBytes,
    createdAt: layout.createdAt.toISOString(),
    slotsUsed: 0,
    rows: 1,
    dropped: { table_full: 0 },
  });
  t.same(info.durationBuckets, [...layout.durationBuckets]);

  const text = await runCli(['inspect', '--table', name]);
  t.equal(text.code, 0);
  t.match(text.stdout, /^maxTasks:\s+32$/m);
  t.match(text.stdout, /^bytes per row:\s+\d+$/m);
});

t.test('task-table cancel', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 8 });
  t.teardown(() => table.close());
  const running = table.run({ name: 'to-cancel', category: 'c' }, (_report, signal) =>
    untilAborted(signal),
  );
  const cancelled = t.rejects(running, { name: 'AbortError' });
  const id = [...table][0]?.[0];
  if (id === undefined) throw new Error('the running task has no row');

  const result = await runCli(['cancel', id, '--table', name]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /cancel requested/);
  await cancelled;
  t.equal(table.getStatus(id)?.status, 'cancelled');

  const again = await runCli(['cancel', id, '--table', name]);
  t.equal(again.code, 1);
  t.match(again.stderr, /^task-table: no running task with id/);
  t.equal(lines(again.stderr).length, 1);

  const unknown = await runCli(['cancel', '7:99', '--table', name]);
  t.equal(unknown.code, 1);
});

t.test('task-table rm', async (t) => {
  const name = uniqueTableName(t);
  ObservableTaskTable.open({ name, maxTasks: 4 }).close();

  const result = await runCli(['rm', name]);
  t.equal(result.code, 0, result.stderr);
  t.throws(() => ObservableTaskTable.open({ name, readOnly: true }), {
    code: 'ERR_TASK_TABLE_NOT_FOUND',
  });

  const again = await runCli(['rm', name]);
  t.equal(again.code, 1);
  t.match(again.stderr, /^task-table: no table named/);
  t.equal(lines(again.stderr).length, 1);
});

t.test('task-table rm: only tables, unless --force', async (t) => {
  const name = uniqueTableName(t);
  const path = `/dev/shm/${name}`;
  writeFileSync(path, Buffer.alloc(5000, 0xa5));

  const refused = await runCli(['rm', name]);
  t.equal(refused.code, 1);
  t.match(
    refused.stderr,
    new RegExp(`^task-table: "${name}" is not an observable-task-table .*--force.*\n$`),
  );
  t.equal(lines(refused.stderr).length, 1);
  t.ok(existsSync(path), 'rm leaves an object that is not a table alone');

  const forced = await runCli(['rm', '--force', name]);
  t.equal(forced.code, 0, forced.stderr);
  t.notOk(existsSync(path), 'rm --force removes it');

  // A table appears under its name only once its header is written: an empty or zeroed
  // object there is not one either.
  for (const [what, bytes] of [
    ['an empty object', Buffer.alloc(0)],
    ['a zeroed object', Buffer.alloc(1 << 16)],
  ] as const) {
    writeFileSync(path, bytes);
    const headerless = await runCli(['rm', name]);
    t.equal(headerless.code, 1, `${what} is refused`);
    t.match(headerless.stderr, /task-table rm --force/);
    t.ok(existsSync(path), `${what} is left alone`);
    t.equal((await runCli(['rm', '--force', name])).code, 0);
    t.notOk(existsSync(path), `${what} goes with --force`);
  }

  const help = await runCli(['rm', '--help']);
  t.match(help.stdout, /--force\s+\S/);
});

t.test('task-table serve', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 8 });
  t.teardown(() => table.close());

  t.test('a busy port is one clear line and exit 1', async (t) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const { port } = blocker.address() as AddressInfo;
    const result = await runCli(['serve', '--table', name, '--port', String(port)]);
    t.equal(result.code, 1);
    t.equal(result.stderr, `task-table: port ${port} on 127.0.0.1 is in use; pass --port\n`);
  });

  t.test('a missing table is one clear line and exit 1', async (t) => {
    const result = await runCli(['serve', '--table', `${name}-missing`, '--port', '0']);
    t.equal(result.code, 1);
    t.match(result.stderr, /^task-table: Table ".*-missing" does not exist/);
    t.equal(lines(result.stderr).length, 1);
    t.notOk(existsSync(`/dev/shm/${name}-missing`), 'serve never creates a table');
  });

  t.test('--wait serves a table once it is created', async (t) => {
    const later = uniqueTableName(t);
    const child = startCli(['serve', '--table', later, '--port', '0', '--wait']);
    const done = finish(child, 20_000);
    await waitForOutput(child, /waiting for table/, 10_000);
    t.notOk(existsSync(`/dev/shm/${later}`), 'waiting creates nothing');
    const created = ObservableTaskTable.open({ name: later, maxTasks: 4 });
    t.teardown(() => created.close());
    const [, url] = await waitForOutput(child, /metrics:\s+(http:\/\/\S+\/metrics)/, 10_000);
    const metrics = await fetch(url as string).then((r) => r.text());
    t.match(metrics, /observable_task_table_capacity\{[^}]*table="[^"]+"[^}]*\} 4/);
    child.kill('SIGTERM');
    const result = await done;
    t.equal(result.code, 0, result.stderr);
  });

  t.test('--wait stops on SIGTERM while it waits', async (t) => {
    const child = startCli(['serve', '--table', `${name}-never`, '--port', '0', '--wait']);
    const done = finish(child, 20_000);
    await waitForOutput(child, /waiting for table/, 10_000);
    child.kill('SIGTERM');
    const result = await done;
    t.equal(result.code, 0, result.stderr);
    t.equal(result.stderr, '');
    t.notOk(existsSync(`/dev/shm/${name}-never`), 'serve never creates a table');
  });

  t.test('serves the table and stops on SIGTERM', async (t) => {
    const child = startCli(['serve', '--table', name, '--port', '0']);
    const done = finish(child, 20_000);
    const [, url] = await waitForOutput(child, /metrics:\s+(http:\/\/\S+\/metrics)/, 10_000);
    const metrics = await fetch(url as string).then((r) => r.text());
    t.match(metrics, /observable_task_table_capacity\{[^}]*table="[^"]+"[^}]*\} 8/);
    child.kill('SIGTERM');
    const result = await done;
    t.equal(result.code, 0, result.stderr);
  });
});

t.test('task-table top', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 8 });
  t.teardown(() => table.close());
  const running = table.run({ name: 'second-task', category: 'c' }, async (report, signal) => {
    report.progress(0.5);
    await untilAborted(signal);
  });
  await table.run({ name: 'third-task', category: 'c' }, async () => undefined);
  const ended = t.rejects(running, { name: 'AbortError' });

  const once = await runCli(['top', '--once', '--table', name]);
  t.equal(once.code, 0, once.stderr);
  t.match(once.stdout, new RegExp(`task-table top: "${name}"`));
  t.match(once.stdout, /now:\s+pending 0\s+running 1\s+finished 1/);
  t.match(once.stdout, /second-task/);
  t.match(once.stdout, /\[#{10}-{10}\]\s+50%/);
  t.match(once.stdout, /third-task/);
  t.ok(
    once.stdout.indexOf('second-task') < once.stdout.indexOf('third-task'),
    'running above ended',
  );
  t.notOk(once.stdout.includes('\x1b'), 'no escape codes without a terminal');

  const piped = await runCli(['top', '--table', name], {}, 10_000);
  t.equal(piped.code, 0, 'not a terminal: one frame, then exit');
  t.match(piped.stdout, /second-task/);

  table.close();
  await ended;
});

/** The task names of a `top` frame, top to bottom. */
function topNames(frame: string, pattern: RegExp): string[] {
  return lines(frame).flatMap((line) => pattern.exec(line)?.slice(1, 2) ?? []);
}

t.test('task-table top: unfinished rows first, then ended ones newest first', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 64 });
  t.teardown(() => table.close());
  // A pending task (it never yields), then a history of ended tasks, then a running one:
  // sorted by start time the running task would sit below every ended row.
  const pending = new Promise<void>((resolve) => {
    table.observe(
      new ObservableTask({
        name: 'pending-task',
        category: 'waiting',
        iterableTask: async function* (signal) {
          await untilAborted(signal).catch(() => resolve());
          yield* [];
        },
      }),
    );
  });
  for (let i = 0; i < 30; i++) {
    await table.run({ name: `ended-${i}`, category: i % 2 === 0 ? 'even' : 'odd' }, async () => {
      await sleep(2);
    });
  }
  const running = table.run({ name: 'running-task', category: 'odd' }, async (report, signal) => {
    report.progress(0.5);
    await untilAborted(signal);
  });
  const ended = t.rejects(running, { name: 'AbortError' });
  const names = /\s((?:pending|running)-task|ended-\d+)$/;

  const once = await runCli(['top', '--once', '--table', name]);
  t.equal(once.code, 0, once.stderr);
  const shown = topNames(once.stdout, names);
  t.same(
    shown,
    ['pending-task', 'running-task', ...Array.from({ length: 30 }, (_, i) => `ended-${29 - i}`)],
    'pending and running first, then ended rows most recent first',
  );
  t.same(
    shown,
    readTaskRows([table]).rows.map((r) => r.row.name),
    'the same order as the dashboard',
  );

  const onlyRunning = await runCli(['top', '--once', '--table', name, '--status', 'running']);
  t.equal(onlyRunning.code, 0, onlyRunning.stderr);
  t.same(topNames(onlyRunning.stdout, names), ['running-task']);
  t.match(onlyRunning.stdout, /now:\s+pending 1\s+running 1\s+finished 30/, 'counts stay whole');

  const several = await runCli([
    'top',
    '--once',
    '--table',
    name,
    '--status',
    'pending',
    '--status',
    'running',
  ]);
  t.same(topNames(several.stdout, names), ['pending-task', 'running-task'], 'any of the statuses');

  const byCategory = await runCli(['top', '--once', '--table', name, '--category', 'odd']);
  t.same(topNames(byCategory.stdout, names).slice(0, 3), ['running-task', 'ended-29', 'ended-27']);
  t.equal(topNames(byCategory.stdout, names).length, 16);

  const none = await runCli(['top', '--once', '--table', name, '--category', 'nosuchcat']);
  t.equal(none.code, 0);
  t.match(none.stdout, /\(no rows match --category nosuchcat\)/);

  const bad = await runCli(['top', '--once', '--table', name, '--status', 'sleeping']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^task-table: --status must be one of .* \(see task-table top --help\)\n$/);

  table.close();
  await ended;
  await pending;
});

t.test('task-table demo', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'task-table-demo-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (let i = 0; i < 100; i++) {
    const sub = join(dir, `group-${i % 4}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `file-${i}.txt`), `line ${i}\n`.repeat(200 + i * 40));
  }
  const name = uniqueTableName(t);
  const child = startCli([
    'demo',
    '--duration',
    '6',
    '--port',
    '0',
    '--max-files',
    '200',
    '--dir',
    dir,
    '--table',
    name,
  ]);
  const done = finish(child, 40_000);
  const [dashboard] = await waitForOutput(child, /http:\/\/\S+\/observable_task_table/, 15_000);
  const api = new URL('/api/tasks', dashboard).href;
  let seen: { name: string; status: string }[] = [];
  await waitFor(
    async () => {
      const body = (await fetch(api).then((r) => r.json())) as { tasks?: typeof seen };
      seen = body.tasks ?? [];
      return seen.some((task) => task.status === 'running');
    },
    { timeoutMs: 10_000, intervalMs: 100, what: 'running tasks in /api/tasks' },
  );
  t.ok(seen.length > 0, '/api/tasks lists the tasks');
  t.match(seen[0], { name: /^group-\d\/file-\d+\.txt/ });

  const result = await done;
  t.equal(result.code, 0, result.stderr);
  t.equal(result.signal, null);

  const table = ObservableTaskTable.open({ name, readOnly: true });
  t.teardown(() => table.close());
  // Ended rows are overwritten as slots are reused; the table's shared counters keep every
  // ending, so they are what proves each final status happened.
  const completed = Object.fromEntries(
    FINAL_OBSERVABLE_TASK_STATUSES.map((status) => [
      status,
      table.readMetrics().categories.reduce((n, c) => n + c.completed[status], 0),
    ]),
  ) as Record<FinalObservableTaskStatus, number>;
  for (const status of FINAL_OBSERVABLE_TASK_STATUSES) {
    t.ok(completed[status] >= 1, `some task ended ${status} (${JSON.stringify(completed)})`);
  }
  t.equal(
    table.layout.maxTasks,
    DEFAULT_TABLE_OPTIONS.maxTasks,
    'the demo creates its table with the library defaults, as open() would',
  );
  t.match(
    result.stdout,
    new RegExp(`^demo: .*table "${name}" stays.*\\brm ${name}$`, 'm'),
    'on stop, the demo says how to remove the table it leaves',
  );
  const rows = [...table].map(([, row]) => row);
  t.ok(rows.length > 0, 'the rows stay after the demo');
  t.ok(
    rows.every((row) => row.status !== 'running' && row.status !== 'pending'),
    'no row is left running after shutdown',
  );
});

t.test('task-table: a reader that closes the pipe early ends the command quietly', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 1024 });
  t.teardown(() => table.close());
  // Well over a pipe's 64 KiB buffer in every format, so the writer meets the closed pipe.
  for (let i = 0; i < 1000; i++) {
    await table.run({ name: `${'x'.repeat(120)}-${i}`, category: 'c' }, async () => undefined);
  }
  // Through a shell pipe, as users write it: a real pipe (spawn's own stdio is a socket
  // pair with a larger buffer), its reader gone after the first bytes.
  const readers = ['head -c 300', 'head', '(sleep .3; head -c1)'];
  for (const args of [['ls', '--json'], ['ls'], ['top', '--once']]) {
    for (const reader of readers) {
      const child = spawn(
        'bash',
        [
          '-c',
          `"$@" | ${reader} >/dev/null; exit "\${PIPESTATUS[0]}"`,
          'bash',
          process.execPath,
          CLI,
          ...args,
          '--table',
          name,
        ],
        { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const result = await finish(child, 15_000);
      const what = `${args.join(' ')} | ${reader}`;
      t.equal(result.code, 0, `${what}: exit 0`);
      t.equal(result.stderr, '', `${what}: nothing on stderr`);
    }
  }
  // A closed stderr keeps the exit status of the failure it could not report.
  const child = startCli(['ls', '--bogus']);
  child.stderr?.destroy();
  const result = await finish(child, 15_000);
  t.equal(result.code, 2, 'bad usage still exits 2 when stderr is closed');
});
