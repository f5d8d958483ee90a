import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ObservableTask,
  ObservableTaskStatus,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
} from '../../lib/index.js';
import { waitFor } from '../helpers/index.js';
import { openTable } from '../helpers/tables.js';

t.test('ObservableTaskTable#observe()', async (t) => {
  t.test('the row is pending before the first update', async (t) => {
    const table = openTable(t);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const id = table.observe(
      new ObservableTask({
        name: 'gated',
        category: 'lifecycle',
        iterableTask: async function* () {
          await gate;
          yield new ObservableTaskStatusUpdate(ObservableTaskStatus.Running, null);
        },
      }),
    );
    t.equal(table.getStatus(id)?.status, 'pending');
    t.equal(table.getRow(id)?.name, 'gated');
    release();
    await waitFor(() => table.getStatus(id)?.status === 'finished', { what: 'finished' });
  });

  t.test(
    'a final status closes the generator, ignores later yields and frees the slot',
    async (t) => {
      const table = openTable(t);
      let finallyRan = false;
      let resumedAfterFinal = false;
      const id = table.observe(
        new ObservableTask({
          name: 'final',
          category: 'lifecycle',
          iterableTask: async function* () {
            try {
              yield new ObservableTaskStatusUpdate('running', { step: 1 });
              yield new ObservableTaskStatusUpdate('finished', { result: 42 });
              resumedAfterFinal = true;
              yield new ObservableTaskStatusUpdate('failed', { late: true });
            } finally {
              finallyRan = true;
            }
          },
        }),
      );
      await waitFor(() => finallyRan, { what: 'the generator finally block' });
      t.notOk(resumedAfterFinal, 'the generator is not resumed after a final status');
      const update = table.getStatus(id);
      t.equal(update?.status, 'finished');
      t.same(update?.data, { result: 42 });
      t.equal(table.readMetrics().slotsUsed, 0, 'the slot is released');
      t.ok(
        [...table].some(([rowId]) => rowId === id),
        'the ended row stays visible',
      );
    },
  );

  t.test('a task that returns without a final status ends finished', async (t) => {
    const table = openTable(t);
    const id = table.observe(
      new ObservableTask({
        name: 'returns',
        category: 'lifecycle',
        iterableTask: function* () {
          yield new ObservableTaskStatusUpdate('running', { n: 1 });
        },
      }),
    );
    await waitFor(() => table.getStatus(id)?.status === 'finished', { what: 'finished' });
    t.same(table.getStatus(id)?.data, { n: 1 }, 'the last data is kept');
  });

  t.test('a task that throws ends failed with the error', async (t) => {
    const table = openTable(t);
    const id = table.observe(
      new ObservableTask({
        name: 'throws',
        category: 'lifecycle',
        iterableTask: async function* () {
          yield new ObservableTaskStatusUpdate('running', null);
          throw Object.assign(new Error('disk on fire'), { code: 'EFIRE' });
        },
      }),
    );
    await waitFor(() => table.getStatus(id)?.status === 'failed', { what: 'failed' });
    const data = table.getStatus(id)?.data as Record<string, unknown>;
    t.equal(data.name, 'Error');
    t.equal(data.message, 'disk on fire');
    t.equal(data.code, 'EFIRE');
    t.match(data.stack, /disk on fire/);
  });

  t.test('a task function that throws synchronously ends failed', async (t) => {
    const table = openTable(t);
    const id = table.observe(
      new ObservableTask({
        name: 'sync-throw',
        category: 'lifecycle',
        iterableTask: () => {
          throw new TypeError('bad setup');
        },
      }),
    );
    await waitFor(() => table.getStatus(id)?.status === 'failed', { what: 'failed' });
    t.match(table.getStatus(id)?.data, { name: 'TypeError', message: 'bad setup' });
  });

  t.test('ids never repeat: a stale id reads null once its slot is reused', async (t) => {
    const table = openTable(t, { maxTasks: 1 });
    const seen = new Set<string>();
    let previous: string | undefined;
    for (let i = 0; i < 20; i++) {
      const id = await new Promise<string>((resolve) => {
        const newId = table.observe(
          new ObservableTask({ name: `t${i}`, category: 'ids', iterableTask: function* () {} }),
        );
        resolve(newId);
      });
      t.notOk(seen.has(id), `id ${id} is new`);
      seen.add(id);
      await waitFor(() => table.getStatus(id)?.status === 'finished', { what: `task ${i}` });
      if (previous !== undefined)
        t.equal(table.getStatus(previous), null, 'the stale id reads null');
      previous = id;
    }
    t.equal(table.getStatus('not-an-id'), null);
    t.equal(table.getStatus('999:1'), null);
  });

  t.test('yielding something that is not an update is counted and ignored', async (t) => {
    const table = openTable(t);
    const id = table.observe(
      new ObservableTask({
        name: 'odd-yield',
        category: 'lifecycle',
        iterableTask: async function* () {
          yield 42 as unknown as ObservableTaskStatusUpdate;
          yield new ObservableTaskStatusUpdate('running', { ok: true });
        },
      }),
    );
    await waitFor(() => table.getStatus(id)?.status === 'finished', { what: 'finished' });
    t.equal(table.readMetrics().dropped.status_invalid, 1);
  });
});

t.test('ObservableTaskStatusUpdate', async (t) => {
  t.throws(() => new ObservableTaskStatusUpdate('done' as ObservableTaskStatus, null), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
  });
  const update = new ObservableTaskStatusUpdate(ObservableTaskStatus.TimedOut);
  t.equal(update.status, 'timed_out');
  t.equal(update.data, null);
});

t.test('Iteration yields every row in any process', async (t) => {
  const table = openTable(t);
  const other = ObservableTaskTable.open({ name: table.name, readOnly: true });
  t.teardown(() => other.close());
  const ids = [0, 1, 2].map((i) =>
    table.observe(
      new ObservableTask({
        name: `row-${i}`,
        category: 'iteration',
        iterableTask: async function* (signal) {
          yield new ObservableTaskStatusUpdate('running', { i });
          await sleep(10_000, undefined, { signal }).catch(() => {});
        },
      }),
    ),
  );
  await waitFor(() => ids.every((id) => other.getStatus(id)?.status === 'running'), {
    what: 'rows running',
  });
  const rows = new Map(other);
  t.equal(rows.size, 3);
  const row = rows.get(ids[1] as string);
  t.equal(row?.name, 'row-1');
  t.equal(row?.category, 'iteration');
  t.equal(row?.pid, process.pid);
  t.ok(row?.startedAt instanceof Date && row.modifiedAt >= row.startedAt);
  t.same(row?.observableTaskStatusUpdate.data, { i: 1 });
  for (const id of ids) t.ok(table.cancel(id));
  await waitFor(() => ids.every((id) => other.getStatus(id)?.status === 'cancelled'), {
    what: 'cancelled',
  });
});
