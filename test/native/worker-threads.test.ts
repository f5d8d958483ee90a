// Worker threads attach to a table, write, read and exit 50 times while the main thread
// iterates the same table: no crash, the main thread's mapping survives every worker, and
// no mapping or descriptor is left behind (issue 2: a context-aware addon whose workers
// unmap only what they mapped). The worker is test/fixtures/worker-writer.mjs, run from
// dist/ (built by `npm ci` via `prepare`).
//
// worker.terminate() runs no JavaScript in the worker, so its 'exit' handler cannot end
// its tasks: the addon's environment cleanup hook does, for that worker's rows only
// (test/fixtures/worker-stuck.mjs), while the main thread's rows of the same pid stay.

import { readdirSync, readFileSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import t, { type Test } from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { fixturePath, uniqueTableName, waitFor } from '../helpers/index.js';
import { nextMessage } from '../helpers/processes.js';

const WORKERS = 50;
const LEAVE_MODES = ['close', 'return', 'exit'] as const;
type LeaveMode = (typeof LEAVE_MODES)[number];

interface WorkerReport {
  finishedId: string | undefined;
  pendingId: string | undefined;
  rowsSeen: number;
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

function mappingsOf(path: string): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes(path)).length;
}

/** Runs one worker to its exit; resolves with its report and exit code, bounded in time. */
function runWorker(name: string, iteration: number, leave: LeaveMode, onReport: () => void) {
  return new Promise<{ report: WorkerReport; code: number }>((resolve, reject) => {
    const worker = new Worker(new URL(pathToFileURL(fixturePath('worker-writer.mjs')).href), {
      workerData: { name, iteration, leave },
      execArgv: [],
    });
    let report: WorkerReport | undefined;
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker ${iteration} (${leave}) did not exit within 20 s`));
    }, 20_000);
    worker.on('message', (message: WorkerReport) => {
      report = message;
      onReport();
    });
    worker.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      if (report === undefined)
        reject(new Error(`worker ${iteration} (${leave}) exited ${code} without a report`));
      else resolve({ report, code });
    });
  });
}

t.test('ObservableTaskTable in worker threads', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 256 });
  t.teardown(() => table.close());
  const path = table.layout.path;

  // The first Worker initialises process-wide state once (its platform task runner and
  // the like); run one before taking the baseline so that only per-worker leaks count.
  await runWorker(name, -1, 'close', () => {});
  const baselineDescriptors = openDescriptors();
  const baselineMappings = mappingsOf(path);
  t.equal(baselineMappings, 1, 'the main thread maps the table once');

  // The main thread iterates the table for as long as the workers run.
  let stop = false;
  let passes = 0;
  let rowsRead = 0;
  const reader = (async () => {
    while (!stop) {
      for (const [id, row] of table) {
        rowsRead++;
        if (row.id !== id || row.observableTaskStatusUpdate.status !== row.status) {
          throw new Error(`inconsistent row ${id}`);
        }
      }
      passes++;
      await yieldToEventLoop();
    }
  })();

  let mostMappingsSeen = 0;
  const problems: string[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const leave = LEAVE_MODES[i % LEAVE_MODES.length] as LeaveMode;
    const { report, code } = await runWorker(name, i, leave, () => {
      mostMappingsSeen = Math.max(mostMappingsSeen, mappingsOf(path));
    });
    if (code !== 0) problems.push(`worker ${i} (${leave}) exited with code ${code}`);
    if (report.rowsSeen < 1) problems.push(`worker ${i} saw no rows`);
    // The main thread still reads the table, including what the worker wrote.
    const finished = report.finishedId === undefined ? null : table.getRow(report.finishedId);
    if (finished?.status !== 'finished' || finished.progress !== 1) {
      problems.push(
        `worker ${i}: its task reads as ${finished?.status} with progress ${finished?.progress}`,
      );
    } else if (
      JSON.stringify(finished.observableTaskStatusUpdate.data) !==
      JSON.stringify({ iteration: i, i: 20 })
    ) {
      problems.push(
        `worker ${i}: its task data reads as ${JSON.stringify(finished.observableTaskStatusUpdate.data)}`,
      );
    }
    if (leave === 'exit') {
      const pending = report.pendingId === undefined ? null : table.getStatus(report.pendingId);
      if (pending?.status !== 'cancelled') {
        problems.push(`worker ${i}: the task left running at exit reads as ${pending?.status}`);
      }
    }
  }
  stop = true;
  await reader;
  t.same(
    problems,
    [],
    'every worker wrote, read and exited cleanly, and the main thread saw its rows',
  );
  t.ok(
    passes >= WORKERS,
    `the main thread iterated the table ${passes} times (${rowsRead} rows) meanwhile`,
  );
  t.ok(
    mostMappingsSeen >= 2,
    'a live worker maps the table too (so the count below can see a leak)',
  );

  // A worker's env is torn down before its 'exit' event, but give the kernel's view a
  // bounded moment to settle before comparing.
  await waitFor(
    () => mappingsOf(path) === baselineMappings && openDescriptors() === baselineDescriptors,
    {
      timeoutMs: 5000,
      what: 'mappings and descriptors to return to the baseline',
    },
  ).catch(() => {});
  t.equal(mappingsOf(path), baselineMappings, 'no mapping of the table is left by the 50 workers');
  t.equal(openDescriptors(), baselineDescriptors, 'no descriptor is left by the 50 workers');

  // The main thread's own mapping is intact: it can still write and read.
  const result = await table.run({ name: 'main-after-workers', category: 'main' }, () => 42);
  t.equal(result, 42, 'the main thread still writes through its mapping');
  t.ok(
    [...table].some(([, row]) => row.name === 'main-after-workers' && row.status === 'finished'),
    'and reads what it wrote',
  );
});

/** Starts test/fixtures/worker-stuck.mjs and waits (bounded) for its task ids. */
async function startStuckWorker(
  t: Pick<Test, 'teardown'>,
  workerData: { name: string; second?: string; close?: boolean; churn?: boolean },
) {
  const worker = new Worker(new URL(pathToFileURL(fixturePath('worker-stuck.mjs')).href), {
    workerData,
    execArgv: [],
  });
  t.teardown(() => worker.terminate());
  const errors: Error[] = [];
  worker.on('error', (error) => errors.push(error));
  const report = await nextMessage<{ ids: string[]; secondIds: string[] }>(
    worker,
    () => true,
    20_000,
  );
  return { worker, report, errors };
}

t.test('worker.terminate() ends the rows of the terminated worker', async (t) => {
  const name = uniqueTableName(t);
  const secondName = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 16 });
  t.teardown(() => table.close());
  const secondTable = ObservableTaskTable.open({ name: secondName, maxTasks: 16 });
  t.teardown(() => secondTable.close());

  // A task of the main thread, in the same process (same pid) as the worker's tasks.
  let endMain = (): void => {};
  const mainTask = table.run({ name: 'main-stuck', category: 'main' }, (report) => {
    void report;
    return new Promise<void>((resolve) => (endMain = resolve));
  });

  const { worker, report, errors } = await startStuckWorker(t, { name, second: secondName });
  const all = [...report.ids, ...report.secondIds];
  t.equal(all.length, 6, 'the worker runs three stuck tasks on each of two tables');
  t.same(
    report.ids.map((id) => table.getStatus(id)?.status),
    ['running', 'running', 'pending'],
    'its rows are live before the terminate',
  );
  const before = table.readMetrics();
  const cancelledBefore = before.categories.find((c) => c.category === 'stuck')?.completed
    .cancelled;
  t.equal(cancelledBefore, 0, 'nothing counted cancelled yet');
  t.equal(before.slotsUsed, 4, "the worker's three slots and the main thread's one are claimed");

  const exitCode = await worker.terminate();
  t.equal(exitCode, 1, 'terminated');
  const statusOf = (id: string, i: number) => (i < 3 ? table : secondTable).getStatus(id)?.status;
  await waitFor(() => all.every((id, i) => statusOf(id, i) === 'cancelled'), {
    timeoutMs: 5000,
    what: "the terminated worker's rows to read cancelled",
  }).catch(() => {});
  t.same(
    all.map(statusOf),
    Array(6).fill('cancelled'),
    'every row of the terminated worker ended cancelled, on both tables',
  );
  for (const [i, id] of all.entries()) {
    t.match(
      (i < 3 ? table : secondTable).getStatus(id)?.data,
      { reason: 'worker terminated', pid: process.pid },
      `row ${id} says why`,
    );
  }
  const after = table.readMetrics();
  t.equal(
    after.slotsUsed,
    1,
    "the worker's slots are free; the main thread's task still holds its own",
  );
  t.equal(secondTable.readMetrics().slotsUsed, 0, 'and on the second table');
  const stuck = after.categories.find((c) => c.category === 'stuck');
  t.equal(stuck?.completed.cancelled, 3, 'each ended row is counted once as cancelled');
  t.equal(stuck?.completed.finished, 1, 'the task the worker finished itself stays finished');
  t.equal(stuck?.duration.cancelled.count, 3, 'with its duration');
  const mainRow = [...table].find(([, row]) => row.name === 'main-stuck')?.[1];
  t.equal(mainRow?.status, 'running', "the main thread's task (same pid) is left alone");
  t.same(errors, [], 'the worker reported no error');

  // The freed slots are claimable again, and the main thread's task ends normally.
  const reused = await Promise.all(
    Array.from({ length: 15 }, (_, i) => table.run({ name: `reuse-${i}`, category: 'r' }, () => i)),
  );
  t.equal(reused.length, 15, 'all 15 other slots can be claimed again');
  endMain();
  await mainTask;
  t.equal(table.readMetrics().slotsUsed, 0, 'no slot stays claimed');
});

t.test('a worker that closed its table before the terminate leaves nothing to end', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 16 });
  t.teardown(() => table.close());
  const { worker, report } = await startStuckWorker(t, { name, close: true });
  t.same(
    report.ids.map((id) => table.getStatus(id)?.data),
    Array(3).fill({ reason: 'table closed', pid: process.pid }),
    'close() ended its tasks',
  );
  await worker.terminate();
  t.same(
    report.ids.map((id) => table.getStatus(id)?.data),
    Array(3).fill({ reason: 'table closed', pid: process.pid }),
    'the terminate wrote nothing over them',
  );
  const stuck = table.readMetrics().categories.find((c) => c.category === 'stuck');
  t.equal(stuck?.completed.cancelled, 3, 'counted once each');
  t.equal(table.readMetrics().slotsUsed, 0, 'no slot stays claimed');
});

t.test('a terminate anywhere in a busy worker leaves no slot claimed', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 64 });
  t.teardown(() => table.close());
  const problems: string[] = [];
  for (let i = 0; i < 10; i++) {
    const { worker } = await startStuckWorker(t, { name, churn: true });
    await new Promise((resolve) => setTimeout(resolve, 20 + 10 * i));
    await worker.terminate();
    const m = table.readMetrics();
    const churn = m.categories.find((c) => c.category === 'churn');
    const completed = churn
      ? Object.values(churn.completed).reduce((sum, n) => sum + n, 0)
      : Number.NaN;
    if (m.slotsUsed !== 0) problems.push(`after terminate ${i}: ${m.slotsUsed} slots claimed`);
    if (m.unreadableRows !== 0)
      problems.push(`after terminate ${i}: ${m.unreadableRows} unreadable`);
    if (churn?.started !== completed)
      problems.push(`after terminate ${i}: ${churn?.started} started, ${completed} completed`);
  }
  t.same(problems, [], 'every task the worker started was ended and counted once');
  const churn = table.readMetrics().categories.find((c) => c.category === 'churn');
  t.ok((churn?.completed.finished ?? 0) > 0, `${churn?.completed.finished} tasks finished`);
  t.comment(`${churn?.completed.cancelled} tasks ended by a terminate`);
});
