// Group 5: what the exact shared counters cost a task's completion (issue 5: at most
// 100 ns). countForBenchmark performs exactly the counter and histogram adds of one
// completion (and of its first `running`), so its cost is the difference between a
// completion with counters and one without; it is measured alone, alone under contention
// from another process completing tasks in the same category, and next to a whole
// native completion (claim + final update) that includes it.
import { measure, measureAll } from './lib/measure.mjs';
import {
  STATUS_CODES,
  forkFixture,
  openShared,
  uniqueTableName,
  unlinkTable,
} from './lib/workload.mjs';

export const group = 'counters';
export const title = 'Exact counters: their cost in a task completion';

const CATEGORY = 'bench';

function countRow(profile, shared, key, name) {
  const index = shared.categoryIndex(CATEGORY);
  const handle = shared.handle('bench');
  return measure(profile, {
    key,
    group,
    name,
    run(n) {
      for (let i = 0; i < n; i++) handle.countForBenchmark(index, (i & 255) / 100);
    },
  });
}

/** Runs group 5. */
export async function run(ctx) {
  const { profile } = ctx;
  const name = uniqueTableName('counters');
  const shared = openShared({ name, maxTasks: 1024 });
  try {
    const index = shared.categoryIndex(CATEGORY);
    const handle = shared.handle('bench');
    const probe = shared.claim('probe', CATEGORY, 0);
    let hits = 0;
    // Interleaved rounds: the three rows are compared with one another.
    const results = await measureAll(
      profile,
      [
        {
          key: 'counters.napi-call',
          name: 'reference: a bare N-API call (cancelRequested, one relaxed load)',
          run(n) {
            for (let i = 0; i < n; i++) {
              if (handle.cancelRequested(probe.slot, probe.generation)) hits++;
            }
          },
        },
        {
          key: 'counters.count',
          name: 'counter + histogram adds of one completion (countForBenchmark)',
          run(n) {
            for (let i = 0; i < n; i++) handle.countForBenchmark(index, (i & 255) / 100);
          },
        },
        {
          key: 'counters.complete',
          name: 'whole native completion: claim + final update with data (counters included)',
          run(n) {
            for (let i = 0; i < n; i++) {
              const claim = shared.claim('task', CATEGORY, 0);
              shared.update(claim.slot, claim.generation, STATUS_CODES.finished, '{"ok":true}');
            }
          },
        },
      ].map((spec) => ({ group, ...spec })),
    );
    if (hits !== 0) throw new Error('a cancel request appeared on the probe row');
    const hammer = forkFixture('counter-hammer.mjs', [name, CATEGORY]);
    try {
      await hammer.next('ready', 15000);
      hammer.send({ type: 'start' });
      await hammer.next('started', 15000);
      results.push(
        await countRow(
          profile,
          shared,
          'counters.count-contended',
          'the same adds while another process completes tasks in the same category',
        ),
      );
      hammer.send({ type: 'stop' });
      const { adds } = await hammer.next('stopped', 15000);
      results.at(-1).extra.otherProcessAdds = adds;
    } finally {
      await hammer.stop();
    }
    return results;
  } finally {
    shared.close();
    unlinkTable(name);
  }
}
