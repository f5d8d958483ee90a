import t from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { uniqueTableName } from '../helpers/index.js';
import { forkFixture, nextMessage, waitForExit } from '../helpers/processes.js';

t.test('the owning process stays free to exit', async (t) => {
  const name = uniqueTableName(t);
  const child = forkFixture(t, 'task-owner.mjs', [name, 'short-task']);
  await nextMessage(child, (m) => m.done === true);
  const result = await waitForExit(child, 5000);
  t.equal(result.code, 0, `exited by itself (${result.stderr})`);
  const table = ObservableTaskTable.open({ name, readOnly: true });
  t.teardown(() => table.close());
  t.same(
    [...table].map(([, row]) => row.status),
    ['finished'],
  );
});

for (const scenario of ['exit-call', 'exit-loop-end', 'exit-sigterm'] as const) {
  t.test(`a normal exit leaves running tasks cancelled (${scenario})`, async (t) => {
    const name = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name });
    t.teardown(() => table.close());
    const child = forkFixture(t, 'task-owner.mjs', [name, scenario]);
    const { id } = await nextMessage<{ id: string }>(child, (m) => typeof m.id === 'string');
    if (scenario === 'exit-sigterm') child.kill('SIGTERM');
    const result = await waitForExit(child, 5000);
    t.equal(result.code, 0, `the child exited normally (${result.stderr})`);
    const update = table.getStatus(id);
    t.equal(update?.status, 'cancelled');
    t.match(update?.data, { reason: 'process exited' });
    t.equal(table.readMetrics().slotsUsed, 0, 'no slot stays claimed');
  });
}
