import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import t from 'tap';

import { ObservableTaskTable, type TaskTableMetrics } from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';
import { forkFixture, nextMessage, outputOf, waitForExit } from '../helpers/processes.js';

const FINAL = ['finished', 'failed', 'cancelled', 'timed_out'] as const;

/** State letter and CPU ticks of a process, from /proc (for the report of a hang). */
function processState(pid: number | undefined): string {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return `${fields[0]} utime=${fields[11]} stime=${fields[12]}`;
  } catch {
    return 'gone';
  }
}

/** Every counter of a collection, keyed so that two collections can be compared. */
function counterValues(m: TaskTableMetrics): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of m.categories) {
    out.set(`${c.category} started`, c.started);
    for (const s of FINAL) {
      out.set(`${c.category} completed ${s}`, c.completed[s]);
      out.set(`${c.category} duration ${s} count`, c.duration[s].count);
      out.set(`${c.category} duration ${s} sum`, c.duration[s].sum);
      c.duration[s].cumulativeCounts.forEach((v, i) =>
        out.set(`${c.category} duration ${s} le${i}`, v),
      );
    }
    out.set(`${c.category} wait count`, c.wait.count);
  }
  for (const [reason, value] of Object.entries(m.dropped)) out.set(`dropped ${reason}`, value);
  return out;
}

t.test(
  'shared counters are exact across processes and never decrease, also through SIGKILL',
  async (t) => {
    const name = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name, maxTasks: 256 });
    t.teardown(() => table.close());
    const perWriter = 20_000;
    const writers = [0, 1, 2].map((w) =>
      forkFixture(t, 'counter-writer.mjs', [name, String(w), String(perWriter), 'cat', 'on-go']),
    );
    // A fourth writer on its own categories is killed in the middle of its run.
    const victim = forkFixture(t, 'counter-writer.mjs', [
      name,
      '9',
      String(1_000_000),
      'victim',
      'on-go',
    ]);
    const everyone = [...writers, victim];
    await Promise.all(everyone.map((w) => nextMessage(w, (m) => m.ready === true)));

    let previous = counterValues(table.readMetrics());
    let scrapes = 0;
    let decreases = 0;
    let killed = false;
    let killedWhileRunning = false;
    const tallies: Array<Record<string, number>> = [];
    const done = Promise.all(
      writers.map((w) =>
        nextMessage<{ done: Record<string, number> }>(w, (m) => m.done !== undefined, 60_000),
      ),
    ).then(
      (messages) => messages.forEach((m) => tallies.push(m.done)),
      (error: Error) => {
        // Say which writer is stuck, and in what state, instead of only timing out.
        const states = writers.map((w, i) => ({
          writer: i,
          exitCode: w.exitCode,
          signal: w.signalCode,
          state: processState(w.pid),
          ...outputOf(w),
        }));
        throw new Error(`${error.message}: ${JSON.stringify(states)}`);
      },
    );
    // Started only now that every writer is ready and the listeners above are in place: a
    // writer that finished before them would have sent its tallies to nobody.
    for (const w of everyone) w.send({ go: true });
    let finished = false;
    done.then(
      () => (finished = true),
      () => (finished = true),
    );
    while (!finished) {
      const current = counterValues(table.readMetrics());
      for (const [key, value] of current) {
        const before = previous.get(key) ?? 0;
        if (value < before) {
          decreases++;
          t.fail(`${key} decreased from ${before} to ${value}`);
        }
      }
      previous = current;
      scrapes++;
      // Kill the victim in the middle of the run: once the others have started a tenth of
      // their tasks (a fixed scrape count raced the writers, which can finish first).
      const started = [...current]
        .filter(([key]) => /^cat-\d+ started$/.test(key))
        .reduce((sum, [, value]) => sum + value, 0);
      if (!killed && started >= (3 * perWriter) / 10) {
        victim.kill('SIGKILL');
        killed = true;
        killedWhileRunning = started < 3 * perWriter;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await done;
    t.ok(killed && killedWhileRunning, 'the victim was killed while the others ran');
    t.equal(decreases, 0, `no counter decreased over ${scrapes} scrapes`);
    await Promise.all(writers.map((w) => waitForExit(w)));
    await waitForExit(victim);

    const metrics = table.readMetrics();
    const ours = metrics.categories.filter((c) => c.category.startsWith('cat-'));
    t.equal(ours.length, 12, '12 categories');
    const sum = (f: (c: (typeof ours)[number]) => number): number =>
      ours.reduce((s, c) => s + f(c), 0);
    const expected = (key: string): number =>
      tallies.reduce((s, tally) => s + (tally[key] ?? 0), 0);
    t.equal(
      sum((c) => c.started),
      3 * perWriter,
      'started total',
    );
    t.equal(expected('started'), 3 * perWriter);
    for (const status of FINAL) {
      t.equal(
        sum((c) => c.completed[status]),
        expected(status),
        `completed ${status}`,
      );
      t.equal(
        sum((c) => c.duration[status].count),
        expected(status),
        `duration histogram count ${status}`,
      );
    }
    t.equal(
      sum((c) => c.wait.count),
      3 * perWriter,
      'every task waited once (pending → running)',
    );
    for (const c of ours) {
      for (const status of FINAL) {
        const h = c.duration[status];
        t.ok(
          h.cumulativeCounts.every((v, i, a) => i === 0 || v >= (a[i - 1] as number)),
          'buckets are cumulative',
        );
        t.ok((h.cumulativeCounts.at(-1) ?? 0) <= h.count);
      }
    }
    // The victim's running rows are reclaimed as failed; its counts still only grow.
    table.reclaim();
    await waitFor(() => table.readMetrics().slotsUsed === 0, { what: 'no slot claimed' });
    t.equal(table.readMetrics().slotsUsed, 0, 'no slot leaks');
  },
);

t.test(
  'durationBuckets: custom buckets are kept, and attaching with others is a layout error',
  async (t) => {
    const name = uniqueTableName(t);
    const buckets = [0.001, 0.5, 2];
    const table = ObservableTaskTable.open({ name, maxTasks: 8, durationBuckets: buckets });
    t.teardown(() => table.close());
    await table.run({ name: 'quick', category: 'b' }, async () => {});
    const metrics = table.readMetrics();
    t.same(metrics.durationBuckets, buckets);
    t.same(metrics.categories[0]?.duration.finished.bounds, buckets);
    t.equal(metrics.categories[0]?.duration.finished.count, 1);
    t.throws(() => ObservableTaskTable.open({ name, durationBuckets: [0.001, 0.5, 3] }), {
      name: 'TaskTableLayoutMismatchError',
      code: 'ERR_TASK_TABLE_LAYOUT_MISMATCH',
      option: 'durationBuckets',
      existing: buckets,
      requested: [0.001, 0.5, 3],
    });
    const attached = ObservableTaskTable.open({ name });
    t.same(
      attached.layout.durationBuckets,
      buckets,
      'attaching without the option takes the table as it is',
    );
    attached.close();
  },
);

t.test(
  'maxCategories: the category beyond the registry lands in other and is counted',
  async (t) => {
    const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 8 });
    t.teardown(() => table.close());
    for (let i = 0; i < 257; i++)
      await table.run({ name: `t${i}`, category: `category-${i}` }, async () => {});
    const metrics = table.readMetrics();
    const other = metrics.categories.find((c) => c.category === 'other');
    t.equal(metrics.categories.filter((c) => c.category !== 'other').length, 256);
    t.equal(other?.started, 1, 'the 257th category is counted under other');
    t.equal(other?.completed.finished, 1);
    t.equal(metrics.dropped.categories, 1);
    const row = [...table].find(([, r]) => r.name === 't256')?.[1];
    t.equal(row?.category, 'category-256', 'the row keeps its own category string');
  },
);

t.test('a category entry left mid-claim by a dead process costs a lookup once', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 8, maxCategories: 4 });
  t.teardown(() => table.close());
  // Freeze every registry entry as a process killed between claiming it and publishing its
  // name leaves it: state 1 (claiming). Header: categoryBytes at 40, categoriesOffset at 48.
  const file = `/dev/shm/${name}`;
  const fd = openSync(file, 'r+');
  const header = Buffer.alloc(56);
  readSync(fd, header, 0, 56, 0);
  const categoryBytes = header.readUInt32LE(40);
  const categoriesOffset = Number(header.readBigUInt64LE(48));
  const claiming = Buffer.from([1, 0, 0, 0]);
  for (let i = 0; i < 4; i++) writeSync(fd, claiming, 0, 4, categoriesOffset + i * categoryBytes);
  closeSync(fd);
  const started = performance.now();
  for (let i = 0; i < 200; i++)
    await table.run({ name: `t${i}`, category: `category-${i % 3}` }, async () => {});
  const elapsed = performance.now() - started;
  const metrics = table.readMetrics();
  const other = metrics.categories.find((c) => c.category === 'other');
  t.equal(other?.started, 200, 'every task is counted under other');
  t.equal(other?.completed.finished, 200);
  t.equal(metrics.dropped.categories, 200, 'and each drop is counted');
  t.comment(`200 tasks past 4 stuck registry entries in ${elapsed.toFixed(1)} ms`);
});
