import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';

import { ObservableTaskTable, TaskTableFullError } from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';

t.test('ObservableTaskTable#run()', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 4 });
  t.teardown(() => table.close());

  t.test('goes pending → running → finished and returns the result', async (t) => {
    let seen: string | undefined;
    let id = '';
    const result = await table.run({ name: 'sum', category: 'run' }, async (report) => {
      id = report.id;
      seen = table.getStatus(id)?.status;
      report.progress(0.5);
      t.equal(table.getRow(id)?.progress, 0.5, 'progress is visible at once');
      report.status('running', { phase: 'adding' });
      t.same(table.getStatus(id)?.data, { phase: 'adding' });
      return 1 + 2;
    });
    t.equal(result, 3);
    t.equal(seen, 'running');
    t.equal(table.getStatus(id)?.status, 'finished');
  });

  t.test('records failed and re-throws the same error', async (t) => {
    const error = new Error('nope');
    let id = '';
    await t.rejects(
      table.run({ name: 'fails', category: 'run' }, () => {
        throw error;
      }),
      error,
    );
    await t.rejects(
      table.run({ name: 'fails-async', category: 'run' }, async (report) => {
        id = report.id;
        await sleep(1);
        throw error;
      }),
      error,
    );
    t.match(table.getStatus(id), { status: 'failed', data: { message: 'nope' } });
  });

  t.test('a final status reported by fn ends the row; later reports are ignored', async (t) => {
    let id = '';
    await table.run({ name: 'early', category: 'run' }, async (report) => {
      id = report.id;
      report.status('cancelled', { why: 'user' });
      report.status('running', { ignored: true });
      report.progress(0.9);
      return 'done';
    });
    t.match(table.getStatus(id), { status: 'cancelled', data: { why: 'user' } });
    t.equal(table.getRow(id)?.progress, null);
  });

  t.test('cancel() aborts the signal and the row ends cancelled', async (t) => {
    let id = '';
    const running = table.run({ name: 'cancellable', category: 'run' }, async (report, signal) => {
      id = report.id;
      await sleep(60_000, undefined, { signal });
    });
    await waitFor(() => id !== '', { what: 'started' });
    t.ok(table.cancel(id));
    await t.rejects(running, { name: 'AbortError' });
    t.equal(table.getStatus(id)?.status, 'cancelled');
  });

  t.test('rejects (never throws) bad input', async (t) => {
    const fn = async (): Promise<void> => {};
    await t.rejects(table.run(null as never, fn), { code: 'ERR_INVALID_ARG_TYPE' });
    await t.rejects(table.run({ name: 1 as never, category: 'x' }, fn), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    await t.rejects(table.run({ name: 'x', category: 'x', inactivityTimeout: -1 }, fn), {
      code: 'ERR_OUT_OF_RANGE',
    });
    await t.rejects(table.run({ name: 'x', category: 'x' }, 'fn' as never), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    t.equal(table.readMetrics().slotsUsed, 0, 'nothing was claimed');
  });

  t.test('a full table rejects with TaskTableFullError', async (t) => {
    const releases: Array<() => void> = [];
    const tasks = [0, 1, 2, 3].map((i) =>
      table.run(
        { name: `hold-${i}`, category: 'run' },
        () => new Promise<void>((resolve) => releases.push(resolve)),
      ),
    );
    await t.rejects(
      table.run({ name: 'one-too-many', category: 'run' }, async () => {}),
      TaskTableFullError,
    );
    await t.rejects(
      table.run({ name: 'one-too-many', category: 'run' }, async () => {}),
      {
        code: 'ERR_TASK_TABLE_FULL',
        capacity: 4,
      },
    );
    for (const release of releases) release();
    await Promise.all(tasks);
  });
});
