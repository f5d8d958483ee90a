// The second example of the seed document, in TypeScript: a task wrapped in an
// ObservableTaskTimeoutIterator ends `timed_out` when it stops reporting for
// `inactivityTimeout` seconds. Run it with `node dist/examples/seed-timeout.js`.
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ObservableTask,
  ObservableTaskStatus,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  ObservableTaskTimeoutIterator,
} from 'observable-task-table';

const table = ObservableTaskTable.open();

// Reports twice, then waits far longer than the timeout. The wait listens to the signal,
// so the generator's `finally` runs as soon as the task times out.
async function* work(signal: AbortSignal) {
  try {
    yield new ObservableTaskStatusUpdate(ObservableTaskStatus.Running, { step: 1 });
    await sleep(500, undefined, { signal });
    yield new ObservableTaskStatusUpdate(ObservableTaskStatus.Running, { step: 2 });
    await sleep(60_000, undefined, { signal });
    yield new ObservableTaskStatusUpdate(ObservableTaskStatus.Finished, null);
  } finally {
    console.log('work: cleaned up');
  }
}

const id = table.observe(
  new ObservableTask({
    iterableTask: new ObservableTaskTimeoutIterator({ iterableTask: work, inactivityTimeout: 5.0 }),
    name: 'test',
    category: 'test_tasks',
  }),
);

await sleep(5800);
const update = table.getStatus(id);
console.log(`task ${id}: ${update?.status} ${JSON.stringify(update?.data)}`);
table.close();
