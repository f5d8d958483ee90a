// The first example of the seed document, in TypeScript: a task that runs for three
// seconds and finishes. Run it with `npm run build && node dist/examples/seed-observe.js`,
// and watch it from another terminal with `npx task-table top`.
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ObservableTask,
  ObservableTaskStatus,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
} from 'observable-task-table';

const table = ObservableTaskTable.open();

const id = table.observe(
  new ObservableTask({
    iterableTask: async function* () {
      yield new ObservableTaskStatusUpdate(ObservableTaskStatus.Running, null);
      await sleep(3000);
      yield new ObservableTaskStatusUpdate(ObservableTaskStatus.Finished, null);
    },
    name: 'test',
    category: 'test_tasks',
  }),
);

console.log(`task ${id}: ${table.getStatus(id)?.status}`);
await sleep(100);
console.log(`task ${id}: ${table.getStatus(id)?.status}`);
await sleep(3100);
console.log(`task ${id}: ${table.getStatus(id)?.status}`);
table.close();
