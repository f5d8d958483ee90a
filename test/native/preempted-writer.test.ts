// A writer descheduled inside a row write (more runnable threads than cores) keeps the
// row's sequence odd for a scheduler time slice, far longer than a reader's spin. Readers
// must wait that out while the row's claim holder lives, instead of reporting a live
// task as missing. A worker thread plays the descheduled writer: it holds the sequence
// odd, then ends the "write" a few milliseconds after the reader started.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import t from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { SharedTable } from '../../lib/internal/shared-table.js';
import { resolveTableOptions } from '../../lib/options.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';

const DESCHEDULED_MS = 3;

// Waits for the reader's go, sleeps DESCHEDULED_MS, then makes the sequence even again.
const WRITER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const flag = new Int32Array(workerData.flag);
const fd = fs.openSync(workerData.path, 'r+');
parentPort.postMessage('ready');
Atomics.wait(flag, 0, 0);
Atomics.wait(flag, 1, 0, workerData.delayMs);
const seq = Buffer.alloc(4);
fs.readSync(fd, seq, 0, 4, workerData.seqAt);
seq.writeUInt32LE(seq.readUInt32LE() + 1);
fs.writeSync(fd, seq, 0, 4, workerData.seqAt);
fs.closeSync(fd);
`;

t.test('readers wait out a live writer descheduled mid-write', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 4 });
  t.teardown(() => table.close());
  const shared = SharedTable.open(resolveTableOptions({ name }));
  t.teardown(() => shared.close());
  let id = '';
  void table.run({ name: 'live', category: 'preempted' }, (report) => {
    id = report.id;
    report.status('running', { step: 1 });
    return new Promise(() => {}); // runs until the table closes
  });
  await waitFor(() => table.getStatus(id)?.status === 'running', { what: 'the task to run' });
  const slot = Number(id.split(':')[0]);
  const seqAt = shared.layout.rowsOffset + slot * shared.layout.rowBytes + 8;

  /** Runs `read` while the row is held mid-write by a live writer for DESCHEDULED_MS. */
  async function duringWrite<T>(read: () => T): Promise<T> {
    const flag = new SharedArrayBuffer(8);
    const writer = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { flag, path: shared.path, seqAt, delayMs: DESCHEDULED_MS },
    });
    await once(writer, 'message');
    const fd = openSync(shared.path, 'r+');
    const seq = Buffer.alloc(4);
    readSync(fd, seq, 0, 4, seqAt);
    t.equal(seq.readUInt32LE() % 2, 0, 'the row is not being written before');
    seq.writeUInt32LE(seq.readUInt32LE() + 1);
    writeSync(fd, seq, 0, 4, seqAt);
    closeSync(fd);
    const go = new Int32Array(flag);
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    const result = read();
    await once(writer, 'exit');
    return result;
  }

  const update = await duringWrite(() => table.getStatus(id));
  t.equal(update?.status, 'running', 'getStatus() returns the live task');
  t.same(update?.data, { step: 1 });

  const rows = await duringWrite(() => [...table]);
  t.same(
    rows.map(([rowId, row]) => [rowId, row.status]),
    [[id, 'running']],
    'iteration yields it',
  );

  const metrics = await duringWrite(() => table.readMetrics());
  t.equal(metrics.unreadableRows, 0, 'readMetrics() counts it, not as unreadable');
  t.equal(metrics.categories.find((c) => c.category === 'preempted')?.tasks.running, 1);
});
