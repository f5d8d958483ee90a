// Worker threads attach to a table, write, read and exit 50 times while the main thread
// iterates the same table: no crash, the main thread's mapping survives every worker, and
// no mapping or descriptor is left behind (issue 2: a context-aware addon whose workers
// unmap only what they mapped). The worker is test/fixtures/worker-writer.mjs, run from
// dist/ (built by `npm ci` via `prepare`).

import { readdirSync, readFileSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import t from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { fixturePath, uniqueTableName, waitFor } from '../helpers/index.js';

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
