// Group 1: the cost of recording one update that other processes can see, from the bare
// mechanism (an N-API call doing a sequence-locked copy) up through the public API, next
// to what users would do instead: a prom-client gauge (in-process only), JSON.stringify
// (the serialization any cross-process store needs), and a Redis hash update.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Gauge, Registry } from 'prom-client';

import {
  ObservableTask,
  ObservableTaskStatus,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  isFinalStatus,
} from '../dist/lib/index.js';
import { measureAll, single } from './lib/measure.mjs';
import {
  STATUS_CODES,
  fixturePath,
  openShared,
  uniqueTableName,
  unlinkTable,
} from './lib/workload.mjs';

export const group = 'update';
export const title = 'Recording one update visible to other processes';

/** 100 bytes of JSON, the data size of issue 2's row write. */
const DATA_100 = JSON.stringify({ file: 'input-0001.bin', bytes: 123456, note: 'x'.repeat(54) });

function noop() {}

/** Starts a long-running table.run() and hands back its report object and an end(). */
function captureReport(table, name) {
  let report;
  let end;
  const done = table.run({ name, category: 'bench' }, (r) => {
    report = r;
    return new Promise((resolve) => (end = resolve));
  });
  return {
    report,
    async finish() {
      end();
      await done;
    },
  };
}

/** One observe() of a task yielding `n` running updates; resolves when the row is final. */
async function observeUpdates(table, n) {
  let generatorDone;
  const finished = new Promise((resolve) => (generatorDone = resolve));
  const task = new ObservableTask({
    name: 'observe',
    category: 'bench',
    iterableTask: async function* () {
      for (let i = 0; i < n; i++) {
        yield new ObservableTaskStatusUpdate(ObservableTaskStatus.Running, { step: i });
      }
      generatorDone();
    },
  });
  const id = table.observe(task);
  await finished;
  // The driver writes `finished` right after the generator returns: wait for it (bounded).
  for (let tries = 0; tries < 1000; tries++) {
    const status = table.getStatus(id);
    if (status === null || isFinalStatus(status.status)) return;
    await new Promise(setImmediate);
  }
  throw new Error('observe(): the task did not end');
}

/** Specs of the native rows: references, the bare floor and the internal layer. */
function nativeSpecs(shared, claim) {
  const handle = shared.handle('bench');
  const bytes = new TextEncoder().encode(DATA_100);
  let hits = 0;
  return [
    {
      key: 'update.napi-call',
      name: 'reference: a bare N-API call (cancelRequested, one relaxed load)',
      run(n) {
        for (let i = 0; i < n; i++) {
          if (handle.cancelRequested(claim.slot, claim.generation)) hits++;
        }
      },
    },
    {
      key: 'update.syscall',
      name: 'reference: one system call from JS (process.ppid = getppid)',
      run(n) {
        for (let i = 0; i < n; i++) hits += process.ppid;
        if (hits === 0) throw new Error('process.ppid returned 0');
      },
    },
    {
      key: 'update.floor',
      name: 'bare floor: floorWrite, 100 bytes (N-API call + seqlock copy)',
      run(n) {
        for (let i = 0; i < n; i++) handle.floorWrite(claim.slot, bytes);
      },
    },
    {
      key: 'update.native-progress',
      name: 'native progress-only (SharedTable.progress)',
      run(n) {
        for (let i = 0; i < n; i++) {
          shared.progress(claim.slot, claim.generation, (i & 1023) / 1024);
        }
      },
    },
    {
      key: 'update.native-row-write',
      name: 'native row write, 100 bytes of JSON from JS (SharedTable.update)',
      run(n) {
        for (let i = 0; i < n; i++) shared.update(claim.slot, claim.generation, 0, DATA_100);
      },
    },
  ];
}

/**
 * Specs of the public API. `table` holds a long-running task whose report is used (and
 * so its watch timer runs, as in any process with work in flight); `idle` has no other
 * task, so each table.run() there also starts and stops the watch timer.
 */
function publicSpecs(table, idle, report, quick) {
  return [
    {
      key: 'update.report-progress',
      name: 'report.progress(x) in table.run()',
      run(n) {
        for (let i = 0; i < n; i++) report.progress((i & 1023) / 1024);
      },
    },
    {
      key: 'update.report-status',
      name: "report.status('running', { file, bytes })",
      run(n) {
        for (let i = 0; i < n; i++) report.status('running', { file: 'input.bin', bytes: i });
      },
    },
    {
      key: 'update.observe',
      name: 'status update yielded through observe() (generator step included)',
      run: (n) => observeUpdates(idle, n),
      // One sample = one task; keep several thousand updates in it so claim and end vanish.
      sampleMs: quick ? 2 : 5,
    },
    {
      key: 'update.run-empty',
      name: 'whole table.run() of an empty function',
      async run(n) {
        for (let i = 0; i < n; i++) await idle.run({ name: 'empty', category: 'bench' }, noop);
      },
    },
    {
      // The same while another task stays open: the table's watch timer is then already
      // running, so the difference shows what starting and stopping it costs.
      key: 'update.run-empty-held',
      name: 'whole table.run() of an empty function, another task running',
      async run(n) {
        for (let i = 0; i < n; i++) await table.run({ name: 'empty', category: 'bench' }, noop);
      },
    },
  ];
}

/** Specs of the in-process alternatives. */
function alternativeSpecs() {
  const registry = new Registry();
  const gauge = new Gauge({
    name: 'bench_task_progress',
    help: 'progress of a task',
    labelNames: ['category', 'status'],
    registers: [registry],
  });
  let sink = 0;
  return [
    {
      key: 'update.prom-gauge',
      name: 'prom-client gauge.set() with two labels (in-process only)',
      run(n) {
        for (let i = 0; i < n; i++) gauge.set({ category: 'convert', status: 'running' }, i);
      },
    },
    {
      key: 'update.json',
      name: 'JSON.stringify of a two-field object',
      run(n) {
        for (let i = 0; i < n; i++) sink += JSON.stringify({ file: 'input.bin', bytes: i }).length;
        if (sink === 0) throw new Error('JSON.stringify produced nothing');
      },
    },
  ];
}

/** Specs of the Redis rows (one HSET of four fields per update). */
function redisSpecs(client) {
  const fields = (i) => ({
    status: 'running',
    progress: String((i % 100) / 100),
    data: `{"file":"input.bin","bytes":${i}}`,
    modifiedAt: String(Date.now()),
  });
  return [
    {
      key: 'update.redis-awaited',
      name: 'Redis HSET (4 fields), awaited one by one',
      unit: 'µs',
      async run(n) {
        for (let i = 0; i < n; i++) await client.hset(`task:${i % 1000}`, fields(i));
      },
    },
    {
      key: 'update.redis-pipelined',
      name: 'Redis HSET (4 fields), pipelined in batches of 100',
      unit: 'µs',
      opsPerCall: 100,
      async run(n) {
        for (let b = 0; b < n; b++) {
          const pipeline = client.pipeline();
          for (let i = 0; i < 100; i++) pipeline.hset(`task:${i}`, fields(i));
          const replies = await pipeline.exec();
          if (replies[0][0] !== null) throw replies[0][0];
        }
      },
    },
  ];
}

/** System calls per name made by `node fixtures/progress-syscalls.mjs` under strace -c. */
function straceCounts(updates) {
  const dir = mkdtempSync(join(tmpdir(), 'ott-bench-strace-'));
  const name = uniqueTableName('syscalls');
  try {
    const out = join(dir, 'counts');
    const run = spawnSync(
      'strace',
      [
        '-f',
        '-c',
        '-o',
        out,
        process.execPath,
        fixturePath('progress-syscalls.mjs'),
        name,
        String(updates),
      ],
      { timeout: 60000, stdio: 'ignore' },
    );
    if (run.error || run.status !== 0) return null;
    const counts = {};
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      // "% time  seconds  usecs/call  calls  [errors]  syscall"
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
      if (m !== null && m[2] !== 'total') counts[m[2]] = Number(m[1]);
    }
    return counts;
  } finally {
    unlinkTable(name);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * System calls made by one progress-only update: the difference between a process that
 * makes 100,000 updates and one that makes none, both under strace (when installed).
 */
function syscallsPerProgress(ctx) {
  // Every traced system call stops the process for strace: keep the count modest.
  const updates = ctx.quick ? 10000 : 50000;
  const base = straceCounts(0);
  const loaded = base === null ? null : straceCounts(updates);
  if (base === null || loaded === null) {
    ctx.notes.push('strace is not installed: the system calls of one update were not counted.');
    return [];
  }
  const perUpdate = {};
  let total = 0;
  for (const [syscall, calls] of Object.entries(loaded)) {
    const extra = (calls - (base[syscall] ?? 0)) / updates;
    if (extra >= 0.01) {
      perUpdate[syscall] = Math.round(extra * 100) / 100;
      total += extra;
    }
  }
  return [
    single({
      key: 'update.syscalls-per-progress',
      group,
      name: `system calls per native progress-only update (strace -c, ${updates.toLocaleString('en-US')} updates)`,
      unit: 'calls',
      value: Math.round(total * 100) / 100,
      extra: { perUpdate },
    }),
  ];
}

/** Runs group 1; `ctx.redis` is a started server or `{ skipped }`. */
export async function run(ctx) {
  const { profile, quick } = ctx;
  const name = uniqueTableName('update');
  const idleName = uniqueTableName('update-idle');
  const table = ObservableTaskTable.open({ name, maxTasks: 1024 });
  const idle = ObservableTaskTable.open({ name: idleName, maxTasks: 1024 });
  const shared = openShared({ name });
  const claim = shared.claim('native', 'bench', 0);
  const task = captureReport(table, 'report');
  const client = ctx.redis.skipped ? null : ctx.redis.client();
  try {
    const specs = [
      ...nativeSpecs(shared, claim),
      ...publicSpecs(table, idle, task.report, quick),
      ...alternativeSpecs(),
      ...(client === null ? [] : redisSpecs(client)),
    ].map((spec) => ({ group, ...spec }));
    // Interleaved rounds: these rows are compared with one another.
    const results = await measureAll(profile, specs);
    results.push(...syscallsPerProgress(ctx));
    return results;
  } finally {
    if (client !== null) {
      await client.flushall().catch(() => {});
      client.disconnect();
    }
    await task.finish();
    shared.update(claim.slot, claim.generation, STATUS_CODES.finished, undefined);
    shared.close();
    idle.close();
    table.close();
    unlinkTable(name);
    unlinkTable(idleName);
  }
}
