// Three child processes write checksummed rows as fast as they can while this process
// iterates the table: no torn or mixed row is ever returned, and every row read is one a
// writer really wrote (issue 2). The writers are test/fixtures/cross-process-writer.mjs,
// run from dist/ (built by `npm ci` via `prepare`).

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import t from 'tap';

import { SharedTable } from '../../lib/internal/shared-table.js';
import { resolveTableOptions } from '../../lib/options.js';
import { fixturePath, uniqueTableName, waitFor } from '../helpers/index.js';

const WRITERS = 3;
const ROWS_PER_WRITER = 4;
const UPDATES_PER_WRITER = 120_000; // the issue asks for at least 100,000
const PENDING = 1;
const RUNNING = 2;
const FINISHED = 3;

interface WriterRow {
  k: number;
  slot: number;
  generation: number;
  lastN: number;
}
type WriterMessage =
  | { type: 'ready'; pid: number; rows: WriterRow[] }
  | { type: 'done'; updates: number; failures: number; ms: number; rows: WriterRow[] };

interface ChecksummedData {
  decodeData(text: string): { w: number; k: number; n: number } | { error: string };
  rowName(w: number, k: number): string;
}

t.test('SharedTable: concurrent writers in three processes, one reader', async (t) => {
  const codec = (await import(
    pathToFileURL(fixturePath('checksummed-data.mjs')).href
  )) as ChecksummedData;
  const name = uniqueTableName(t);
  const table = SharedTable.open(resolveTableOptions({ name, maxTasks: 64, dataSize: 1024 }));
  t.teardown(() => table.close());

  const children: ChildProcess[] = [];
  const ready = new Map<number, { pid: number; rows: WriterRow[] }>();
  const done = new Map<number, Extract<WriterMessage, { type: 'done' }>>();
  const exits: Promise<unknown>[] = [];
  for (let w = 0; w < WRITERS; w++) {
    const child = fork(
      fixturePath('cross-process-writer.mjs'),
      [name, String(w), String(ROWS_PER_WRITER), String(UPDATES_PER_WRITER)],
      { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    children.push(child);
    exits.push(once(child, 'exit'));
    child.on('message', (message: WriterMessage) => {
      if (message.type === 'ready') ready.set(w, { pid: message.pid, rows: message.rows });
      else done.set(w, message);
    });
  }
  t.teardown(() => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitFor(() => ready.size === WRITERS, {
    timeoutMs: 20_000,
    what: 'every writer to claim its rows',
  });

  // Where each row belongs: slot -> writer, row and the generation it claimed.
  const owners = new Map<number, { w: number; k: number; pid: number; generation: number }>();
  for (const [w, { pid, rows }] of ready) {
    for (const row of rows) owners.set(row.slot, { w, k: row.k, pid, generation: row.generation });
  }
  t.equal(owners.size, WRITERS * ROWS_PER_WRITER, 'every writer claimed its own rows');

  const lastSeen = new Map<number, number>();
  const problems: string[] = [];
  let snapshots = 0;
  let rowsChecked = 0;
  let rowsCheckedWhileRunning = 0;
  let advances = 0;
  let unreadable = 0;
  const check = (): void => {
    const snapshot = table.snapshot();
    snapshots++;
    unreadable += snapshot.unreadable + snapshot.corrupt;
    for (const row of snapshot.rows) {
      rowsChecked++;
      const owner = owners.get(row.slot);
      if (owner === undefined) {
        problems.push(`slot ${row.slot} was never claimed by a writer but holds ${row.name}`);
        continue;
      }
      if (row.name !== codec.rowName(owner.w, owner.k))
        problems.push(`slot ${row.slot}: name ${row.name}`);
      if (row.pid !== owner.pid || row.generation !== owner.generation) {
        problems.push(`slot ${row.slot}: pid ${row.pid} generation ${row.generation}`);
      }
      // Claimed but not yet written by its writer: pending, without data.
      if (row.status === PENDING && row.data === '' && !lastSeen.has(row.slot)) continue;
      const decoded = codec.decodeData(row.data);
      if ('error' in decoded) {
        problems.push(`slot ${row.slot}: ${decoded.error}`);
        continue;
      }
      if (decoded.w !== owner.w || decoded.k !== owner.k) {
        problems.push(
          `slot ${row.slot} (${row.name}) holds data of writer ${decoded.w} row ${decoded.k}`,
        );
      }
      if (row.status !== RUNNING && row.status !== FINISHED)
        problems.push(`slot ${row.slot}: status ${row.status}`);
      const previous = lastSeen.get(row.slot) ?? 0;
      if (decoded.n < previous)
        problems.push(`slot ${row.slot}: value went back from ${previous} to ${decoded.n}`);
      if (decoded.n > previous) advances++;
      lastSeen.set(row.slot, decoded.n);
      if (row.status === RUNNING) rowsCheckedWhileRunning++;
    }
  };

  const started = Date.now();
  for (const child of children) child.send('go');
  // Read in bursts, yielding between them so that the writers' messages get through.
  const deadline = Date.now() + 90_000;
  while (done.size < WRITERS && Date.now() < deadline && problems.length < 20) {
    for (let i = 0; i < 200; i++) check();
    await yieldToEventLoop();
  }
  const readMs = Date.now() - started;
  t.equal(done.size, WRITERS, 'every writer finished within the deadline');
  const results = await Promise.all(exits);
  t.same(results, Array(WRITERS).fill([0, null]), 'every writer exited cleanly');
  check(); // the final state, after every writer has finished

  t.same(problems, [], 'no torn, mixed or invented row was ever read');
  for (const [w, result] of done) {
    t.ok(
      result.updates >= 100_000,
      `writer ${w} made ${result.updates} updates in ${Math.round(result.ms)} ms`,
    );
    t.equal(result.failures, 0, `writer ${w}: every update was accepted`);
    for (const row of result.rows) {
      t.equal(
        lastSeen.get(row.slot),
        row.lastN,
        `writer ${w} row ${row.k}: the last value written is the one read`,
      );
    }
  }
  const finalRows = table.snapshot().rows;
  t.equal(
    finalRows.length,
    WRITERS * ROWS_PER_WRITER,
    'every row is still readable after its writer exited',
  );
  t.ok(
    finalRows.every((row) => row.status === FINISHED && !row.live),
    'every row ended finished and released its slot',
  );

  t.comment(
    `read ${rowsChecked} rows in ${snapshots} snapshots over ${readMs} ms ` +
      `(${rowsCheckedWhileRunning} while running, ${advances} new values seen, ` +
      `${unreadable} rows skipped as mid-write after bounded retries)`,
  );
  t.ok(
    rowsCheckedWhileRunning >= 10_000,
    `checked ${rowsCheckedWhileRunning} rows while writers were writing`,
  );
  t.ok(advances >= 1_000, `saw ${advances} distinct new values being written`);
  // A row is skipped only when its writer stays mid-write through every retry (for
  // instance when the writer is descheduled there); it must stay the exception.
  t.ok(unreadable <= rowsChecked / 20, `${unreadable} skipped rows of ${rowsChecked}`);
});
