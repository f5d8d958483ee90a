// After close(), every method of a table handle fails with TaskTableClosedError (never a
// crash on an unmapped table), close() is idempotent, rows read before close stay valid,
// and thousands of open/close cycles leave no mapping or descriptor behind (issue 2).

import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';

import {
  ObservableTask,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  TaskTableClosedError,
} from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';

const CLOSED = { name: 'TaskTableClosedError', code: 'ERR_TASK_TABLE_CLOSED' };
const CYCLES = 10_000;

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

function mappingsOf(path: string): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes(path)).length;
}

t.test('ObservableTaskTable#close()', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 8 });
  const id = await table
    .run({ name: 'before close', category: 'c' }, (report) => {
      report.progress(0.5, { step: 1 });
      return 'ok';
    })
    .then(() => [...table][0]?.[0] as string);
  const rowBefore = table.getRow(id);
  let aborted = false;
  const running = table.observe(
    new ObservableTask({
      name: 'running at close',
      category: 'c',
      iterableTask: async function* (signal) {
        signal.addEventListener('abort', () => (aborted = true));
        yield new ObservableTaskStatusUpdate('running', null);
        await new Promise(() => {});
      },
    }),
  );
  await waitFor(() => table.getStatus(running)?.status === 'running', { what: 'the task to run' });
  const iterated = [...table];

  t.equal(table.closed, false, 'open');
  table.close();
  t.equal(table.closed, true, 'closed');
  t.doesNotThrow(() => table.close(), 'a second close() is a no-op');
  t.doesNotThrow(() => table.close(), 'and a third');
  t.equal(table.name, name, 'the name stays readable');
  t.ok(aborted, 'a task the table was running had its signal aborted');

  const task = new ObservableTask({ name: 'late', category: 'c', iterableTask: function* () {} });
  const calls: [string, () => unknown][] = [
    ['observe', () => table.observe(task)],
    ['getStatus', () => table.getStatus(id)],
    ['getRow', () => table.getRow(id)],
    ['cancel', () => table.cancel(id)],
    ['iteration', () => [...table]],
    ['iterator', () => table[Symbol.iterator]().next()],
    ['readMetrics', () => table.readMetrics()],
    ['reclaim', () => table.reclaim()],
    ['layout', () => table.layout],
  ];
  for (const [method, call] of calls) {
    const error = t.throws(call, CLOSED, `${method} throws`);
    t.ok(error instanceof TaskTableClosedError, `${method}: a TaskTableClosedError`);
    t.match(error, { table: name, message: /closed/ }, `${method}: names the table`);
  }
  let ran = false;
  let result: Promise<unknown> | undefined;
  t.doesNotThrow(() => {
    result = table.run({ name: 'late', category: 'c' }, () => {
      ran = true;
    });
  }, 'run() does not throw synchronously');
  await t.rejects(result as Promise<unknown>, CLOSED, 'run() rejects');
  t.notOk(ran, 'and does not run the function');

  // Rows read before close are copies: still whole after (perhaps) their slot was reused and the
  // mapping is gone.
  t.match(
    rowBefore,
    { name: 'before close', status: 'finished', progress: 0.5 },
    'a row read before close',
  );
  t.same(rowBefore?.observableTaskStatusUpdate.data, { step: 1 }, 'keeps its data');
  t.ok(
    iterated.some(([rowId, row]) => rowId === running && row.toJSON().status === 'running'),
    'rows iterated before close serialize without the table',
  );

  // Another handle sees the row the closed handle was running end as cancelled.
  const other = ObservableTaskTable.open({ name });
  t.teardown(() => other.close());
  t.match(
    other.getStatus(running),
    { status: 'cancelled', data: { reason: 'table closed' } },
    'the task running at close ended cancelled',
  );
});

t.test(`${CYCLES} open/close cycles leave nothing behind`, async (t) => {
  const name = uniqueTableName(t);
  const keeper = ObservableTaskTable.open({ name, maxTasks: 16 });
  t.teardown(() => keeper.close());
  const path = keeper.layout.path;
  // One cycle before the baseline, so lazily created process state is not counted.
  ObservableTaskTable.open({ name }).close();
  const descriptors = openDescriptors();
  const mappings = mappingsOf(path);
  t.equal(mappings, 1, 'only the keeper maps the table');

  let mostMappings = 0;
  for (let i = 0; i < CYCLES; i++) {
    const table = ObservableTaskTable.open({ name, readOnly: i % 4 === 3 });
    if (i % 100 === 0) mostMappings = Math.max(mostMappings, mappingsOf(path));
    if (i % 10 === 0 && !table.layout.readOnly)
      await table.run({ name: `cycle-${i}`, category: 'c' }, () => i);
    for (const [, row] of table) JSON.stringify(row.observableTaskStatusUpdate);
    table.close();
    if (i % 2 === 0) table.close();
  }
  // A table created and removed in each cycle, too.
  for (let i = 0; i < CYCLES / 10; i++) {
    const scratch = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name: scratch, maxTasks: 2 });
    table.close();
    ObservableTaskTable.unlink(scratch);
  }
  t.equal(mostMappings, 2, 'an open handle maps the table once more (so a leak would show)');
  t.equal(mappingsOf(path), mappings, `no mapping left after ${CYCLES} cycles`);
  t.equal(openDescriptors(), descriptors, `no descriptor left after ${CYCLES} cycles`);
  t.ok(
    [...keeper].some(([, row]) => row.name === `cycle-${CYCLES - 10}` && row.status === 'finished'),
    'the keeper still reads the table, with the last task written in the cycles',
  );
});
