import t from 'tap';

import {
  ObservableTask,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  TaskTableFullError,
} from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';

function holdingTask(name: string, gate: Promise<void>): ObservableTask {
  return new ObservableTask({
    name,
    category: 'full',
    iterableTask: async function* () {
      yield new ObservableTaskStatusUpdate('running', null);
      await gate;
    },
  });
}

t.test('a full table: observe() throws the full-table error by default', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 3 });
  t.teardown(() => table.close());
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const ids = [0, 1, 2].map((i) => table.observe(holdingTask(`t${i}`, gate)));
  t.throws(() => table.observe(holdingTask('t3', gate)), TaskTableFullError);
  t.throws(() => table.observe(holdingTask('t3', gate)), {
    code: 'ERR_TASK_TABLE_FULL',
    capacity: 3,
    message: /maxTasks/,
  });
  release();
  await waitFor(() => ids.every((id) => table.getStatus(id)?.status === 'finished'), {
    what: 'finished',
  });
});

t.test("onFull: 'run-untracked' runs the task without a row and counts it", async (t) => {
  const table = ObservableTaskTable.open({
    name: uniqueTableName(t),
    maxTasks: 1,
    onFull: 'run-untracked',
  });
  t.teardown(() => table.close());
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const tracked = table.observe(holdingTask('tracked', gate));
  let untrackedRan = false;
  const untracked = table.observe(
    new ObservableTask({
      name: 'untracked',
      category: 'full',
      iterableTask: async function* () {
        untrackedRan = true;
        yield new ObservableTaskStatusUpdate('finished', null);
      },
    }),
  );
  const result = await table.run(
    { name: 'untracked-run', category: 'full' },
    async () => 'ran anyway',
  );
  t.equal(result, 'ran anyway');
  await waitFor(() => untrackedRan, { what: 'the untracked task ran' });
  t.equal(table.getStatus(untracked), null, 'an untracked task has no row');
  t.equal(table.readMetrics().dropped.table_full, 2);
  release();
  await waitFor(() => table.getStatus(tracked)?.status === 'finished', { what: 'finished' });
});

t.test('100,000 short tasks through a 100-slot table leave 0 slots in use', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 100 });
  t.teardown(() => table.close());
  const total = 100_000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await table
        .run({ name: `short-${i}`, category: `c${i % 7}` }, async (report) => {
          report.progress(1);
          if (i % 1000 === 0) throw new Error('planned');
        })
        .catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: 100 }, worker));
  const metrics = table.readMetrics();
  t.equal(metrics.slotsUsed, 0);
  const started = metrics.categories.reduce((sum, c) => sum + c.started, 0);
  const finished = metrics.categories.reduce((sum, c) => sum + c.completed.finished, 0);
  const failed = metrics.categories.reduce((sum, c) => sum + c.completed.failed, 0);
  t.equal(started, total, 'every task was counted as started');
  t.equal(finished, total - 100);
  t.equal(failed, 100);
});
