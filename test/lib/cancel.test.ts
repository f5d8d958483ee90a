import t from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';
import { forkFixture, nextMessage, waitForExit } from '../helpers/processes.js';

const LIMIT_MS = 100;

for (const scenario of ['cancel-timer', 'cancel-promise'] as const) {
  t.test(`ObservableTaskTable#cancel() from another process (${scenario})`, async (t) => {
    const name = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name });
    t.teardown(() => table.close());
    const child = forkFixture(t, 'task-owner.mjs', [name, scenario]);
    const { id } = await nextMessage<{ id: string }>(child, (m) => typeof m.id === 'string');
    await waitFor(() => table.getStatus(id)?.status === 'running', { what: 'running' });
    const aborted = nextMessage<{ aborted: boolean; reason: string }>(
      child,
      (m) => m.aborted === true,
    );
    const requestedAt = Date.now();
    t.ok(table.cancel(id), 'the request is accepted');
    await waitFor(() => table.getStatus(id)?.status === 'cancelled', {
      what: 'cancelled',
      intervalMs: 2,
    });
    const elapsed = Date.now() - requestedAt;
    t.ok(elapsed <= LIMIT_MS, `the row ended cancelled ${elapsed} ms after the request`);
    t.match(await aborted, { reason: 'AbortError' }, "the owner aborted the task's signal");
    t.notOk(table.cancel(id), 'a second cancel finds no running task');
    child.kill('SIGKILL');
    await waitForExit(child);
  });
}

t.test('a cancelled task under a timeout iterator leaves its process free to exit', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name });
  t.teardown(() => table.close());
  const child = forkFixture(t, 'task-owner.mjs', [name, 'cancel-stuck-timeout']);
  const { id } = await nextMessage<{ id: string }>(child, (m) => typeof m.id === 'string');
  await waitFor(() => table.getStatus(id)?.status === 'running', { what: 'running' });
  const requestedAt = Date.now();
  t.ok(table.cancel(id), 'the request is accepted');
  // The inactivity timeout is 60 s: its timer must not outlive the cancelled task.
  const result = await waitForExit(child, 10_000);
  t.equal(result.code, 0, `the child exited by itself (${result.stderr})`);
  t.ok(Date.now() - requestedAt < 5_000, 'long before the inactivity timeout');
  t.equal(table.getStatus(id)?.status, 'cancelled');
});

t.test('ObservableTaskTable#cancel() of unknown ids', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 4 });
  t.teardown(() => table.close());
  t.notOk(table.cancel('0:1'));
  t.notOk(table.cancel('4:1'), 'a slot beyond the table');
  t.notOk(table.cancel('nonsense'));
});
