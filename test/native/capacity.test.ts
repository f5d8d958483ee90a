// Capacity: a table of N rows holds exactly N live tasks; the next claim fails clearly;
// failed claims leak nothing; a released slot comes back with a new generation, so a
// stale id never reads the new task (issue 2).

import { fork } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';

import {
  ObservableTask,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  TaskTableFullError,
} from '../../lib/index.js';
import { SharedTable } from '../../lib/internal/shared-table.js';
import { resolveTableOptions } from '../../lib/options.js';
import { fixturePath, uniqueTableName, waitFor } from '../helpers/index.js';

const FINISHED = 3;

/** A promise with its resolve function, to hold a task open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function slotOf(id: string): number {
  return Number(id.split(':')[0]);
}

t.test('SharedTable#claim() at capacity', async (t) => {
  // 1 row; one bitmap word short of full, full, and one past it; several words.
  for (const maxTasks of [1, 63, 64, 65, 200]) {
    const name = uniqueTableName(t);
    const table = SharedTable.open(resolveTableOptions({ name, maxTasks, dataSize: 64 }));
    const claims = Array.from({ length: maxTasks }, (_, i) => table.claim(`task-${i}`, 'c', 0));
    const slots = claims.map((claim) => claim?.slot).sort((a, b) => (a ?? -1) - (b ?? -1));
    t.same(
      slots,
      Array.from({ length: maxTasks }, (_, i) => i),
      `maxTasks ${maxTasks}: every slot claimed once`,
    );
    t.equal(
      table.claim('one too many', 'c', 0),
      null,
      `maxTasks ${maxTasks}: claim ${maxTasks + 1} fails`,
    );
    let failed = 0;
    for (let i = 0; i < 100; i++) if (table.claim(`again-${i}`, 'c', 0) === null) failed++;
    t.equal(failed, 100, `maxTasks ${maxTasks}: 100 more claims fail`);

    // Release one row from the middle: exactly one claim gets it back, with a new generation.
    const released = claims[Math.floor(maxTasks / 2)];
    if (released === null || released === undefined)
      throw new Error('unreachable: every claim succeeded');
    t.equal(
      table.update(released.slot, released.generation, FINISHED, '{"done":true}'),
      0,
      'ended',
    );
    const reclaimed = table.claim('reclaimed', 'c', 0);
    t.equal(
      reclaimed?.slot,
      released.slot,
      `maxTasks ${maxTasks}: the released slot is claimed again`,
    );
    t.equal(reclaimed?.generation, released.generation + 1, 'with the next generation');
    t.equal(table.claim('still full', 'c', 0), null, 'and then the table is full again');
    t.match(
      table.readRow(released.slot),
      { name: 'reclaimed', generation: released.generation + 1, live: true },
      'the row holds the new task',
    );
    // The old task's owner can no longer write to the row.
    t.not(
      table.update(released.slot, released.generation, FINISHED, '{"stale":true}'),
      0,
      'a stale writer is refused',
    );
    t.match(
      table.readRow(released.slot),
      { name: 'reclaimed', data: '' },
      'and the new task is untouched',
    );
    table.close();
  }
});

t.test('ObservableTaskTable#observe() on a full table', async (t) => {
  const N = 16;
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: N });
  t.teardown(() => table.close());
  const gates = Array.from({ length: N + 1 }, gate);
  const task = (i: number) =>
    new ObservableTask({
      name: `task-${i}`,
      category: 'capacity',
      iterableTask: async function* () {
        yield new ObservableTaskStatusUpdate('running', { i });
        await gates[i]?.promise;
        yield new ObservableTaskStatusUpdate('finished', { i });
      },
    });

  const ids = Array.from({ length: N }, (_, i) => table.observe(task(i)));
  t.equal(new Set(ids).size, N, `${N} distinct ids`);
  t.same(
    ids.map(slotOf).sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => i),
    'one slot each',
  );
  await waitFor(() => ids.every((id) => table.getStatus(id)?.status === 'running'), {
    what: 'every task running',
  });
  t.equal([...table].filter(([, row]) => row.status === 'running').length, N, `${N} live rows`);
  t.match(table.readMetrics(), { capacity: N, slotsUsed: N, rows: N }, 'the metrics agree');

  let started17 = false;
  const seventeenth = new ObservableTask({
    name: 'task-17',
    category: 'capacity',
    iterableTask: function* () {
      started17 = true;
      yield new ObservableTaskStatusUpdate('finished', null);
    },
  });
  const error = t.throws(
    () => table.observe(seventeenth),
    {
      name: 'TaskTableFullError',
      code: 'ERR_TASK_TABLE_FULL',
      capacity: N,
      table: name,
      message: /maxTasks.*onFull/,
    },
    `claim ${N + 1} fails clearly`,
  );
  t.ok(error instanceof TaskTableFullError, 'an exported class');
  let ran = false;
  const run = table.run({ name: 'run', category: 'capacity' }, () => {
    ran = true;
  });
  await t.rejects(
    run,
    { name: 'TaskTableFullError', code: 'ERR_TASK_TABLE_FULL', capacity: N },
    'run() rejects',
  );

  let failures = 0;
  for (let i = 0; i < 100; i++) {
    try {
      table.observe(seventeenth);
    } catch (e) {
      if (e instanceof TaskTableFullError) failures++;
    }
  }
  t.equal(failures, 100, '100 more claims fail the same way');
  t.notOk(started17 || ran, 'a task that did not get a row never ran');
  t.match(
    table.readMetrics(),
    { capacity: N, slotsUsed: N, rows: N },
    'the failed claims took nothing',
  );

  // Let one task finish: exactly one new task fits, in its slot, under a new id.
  const done = ids[5] as string;
  gates[5]?.open();
  await waitFor(() => table.getStatus(done)?.status === 'finished', { what: 'task 5 to finish' });
  t.equal(table.readMetrics().slotsUsed, N - 1, 'its slot is free');
  const next = table.observe(task(N));
  t.equal(slotOf(next), slotOf(done), 'the new task takes the freed slot');
  t.not(next, done, 'under a new id (a new generation)');
  t.equal(table.getStatus(done), null, 'the old id now reads nothing');
  t.equal(table.getRow(done), null, 'not even the row');
  t.equal(table.getRow(next)?.name, `task-${N}`, 'the new id reads the new task');
  t.throws(
    () => table.observe(seventeenth),
    { code: 'ERR_TASK_TABLE_FULL' },
    'and the table is full again',
  );

  for (const g of gates) g.open();
  await waitFor(() => [...table].every(([, row]) => row.status === 'finished'), {
    what: 'every task to finish',
  });
  t.equal(table.readMetrics().slotsUsed, 0, 'every slot released at the end');
});

t.test('claims racing from four processes', async (t) => {
  const N = 20_000;
  const name = uniqueTableName(t);
  const table = SharedTable.open(resolveTableOptions({ name, maxTasks: N, dataSize: 64 }));
  t.teardown(() => table.close());
  const children = Array.from({ length: 4 }, () =>
    fork(fixturePath('claim-until-full.mjs'), [name], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  t.teardown(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  const results = children.map((child) => {
    const messages: { type: string; slots?: number[] }[] = [];
    child.on('message', (message: { type: string; slots?: number[] }) => messages.push(message));
    return messages;
  });
  await waitFor(() => results.every((messages) => messages.length === 1), {
    timeoutMs: 20_000,
    what: 'claimers ready',
  });
  const startAt = Date.now() + 300;
  for (const child of children) child.send({ startAt });
  const exits = await Promise.all(children.map((child) => once(child, 'exit')));
  t.same(exits, Array(4).fill([0, null]), 'every claimer exited cleanly');
  const slots = results.flatMap((messages) => messages[1]?.slots ?? []);
  t.equal(slots.length, N, `${N} claims succeeded in total`);
  t.equal(new Set(slots).size, N, 'no slot was handed out twice');
  const perProcess = results.map((messages) => messages[1]?.slots?.length ?? 0);
  t.comment(`claims per process: ${perProcess.join(', ')}`);
  t.ok(
    perProcess.filter((count) => count > 0).length >= 2,
    'the claimers really raced for the slots',
  );
  t.equal(table.claim('one too many', 'race', 0), null, 'the table is full');
});
