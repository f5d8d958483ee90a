import t from 'tap';
import { Worker } from 'node:worker_threads';

import { ObservableTaskTable } from '../../lib/index.js';
import { fixturePath, uniqueTableName, waitFor } from '../helpers/index.js';
import { forkFixture, nextMessage, waitForExit } from '../helpers/processes.js';

t.test('two processes and a worker thread run tasks at once; each sees all rows', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 64 });
  t.teardown(() => table.close());
  const a = forkFixture(t, 'participant.mjs', [name, 'proc-a']);
  const b = forkFixture(t, 'participant.mjs', [name, 'proc-b']);
  const worker = new Worker(fixturePath('participant.mjs'), { workerData: [name, 'thread-c'] });
  t.teardown(() => worker.terminate());
  const participants = [a, b, worker];
  const tell = (message: string): void => {
    a.send(message);
    b.send(message);
    worker.postMessage(message);
  };
  await Promise.all(participants.map((p) => nextMessage(p, (m) => m.ready === true)));
  const expected = ['proc-a', 'proc-b', 'thread-c']
    .flatMap((role) => [0, 1, 2, 3, 4].map((i) => `${role}-${i}`))
    .sort();
  await waitFor(() => [...table].filter(([, row]) => row.status === 'running').length === 15, {
    what: '15 running rows',
  });
  tell('census');
  const censuses = await Promise.all(
    participants.map((p) => nextMessage<{ census: string[] }>(p, (m) => Array.isArray(m.census))),
  );
  for (const { census } of censuses) {
    t.same(
      census.map((entry) => entry.split(':')[0]).sort(),
      expected,
      'a participant sees every row',
    );
    t.ok(census.every((entry) => entry.endsWith(':running')));
  }
  tell('finish');
  await Promise.all(participants.map((p) => nextMessage(p, (m) => m.finished === true)));
  await waitForExit(a);
  await waitForExit(b);
  const statuses = [...table].map(([, row]) => row.status);
  t.equal(statuses.length, 15);
  t.ok(statuses.every((s) => s === 'finished'));
  t.equal(table.readMetrics().slotsUsed, 0);
});
