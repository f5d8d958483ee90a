// The instrumentation call for plain async functions: table.run() records pending,
// running, progress and the outcome, and returns the function's result.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { ObservableTaskTable } from 'observable-task-table';

const table = ObservableTaskTable.open();

const digest = await table.run(
  { name: 'hash 4 MiB', category: 'examples', inactivityTimeout: 10 },
  async (report, signal) => {
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(256 * 1024, 7);
    for (let i = 1; i <= 16; i++) {
      hash.update(chunk);
      report.progress(i / 16); // cheap: no JSON
      await sleep(20, undefined, { signal });
    }
    report.status('running', { phase: 'digest' });
    return hash.digest('hex');
  },
);

console.log(`digest ${digest.slice(0, 16)}…`);
for (const [id, row] of table) {
  if (row.category === 'examples') console.log(id, row.status, row.name, row.progress);
}
table.close();
