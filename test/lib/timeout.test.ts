import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ObservableTask,
  ObservableTaskStatusUpdate,
  ObservableTaskTimeoutIterator,
} from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';
import { openTable } from '../helpers/tables.js';

const TIMEOUT_S = 0.3;
const GRACE_MS = 100;

/** Records unhandled rejections during a test and fails it if any happen. */
function watchUnhandled(
  t: Parameters<typeof uniqueTableName>[0] & { fail(message: string): void },
): () => number {
  let count = 0;
  const onUnhandled = (reason: unknown): void => {
    count++;
    t.fail(`unhandled rejection: ${String(reason)}`);
  };
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  return () => count;
}

t.test('ObservableTaskTimeoutIterator', async (t) => {
  t.test(
    'times out within the timeout plus 100 ms, aborts the signal and runs finally',
    async (t) => {
      const unhandled = watchUnhandled(t);
      const table = openTable(t);
      let aborted: unknown;
      let finallyRan = false;
      const started = Date.now();
      const id = table.observe(
        new ObservableTask({
          name: 'slow',
          category: 'timeouts',
          iterableTask: new ObservableTaskTimeoutIterator({
            inactivityTimeout: TIMEOUT_S,
            iterableTask: async function* (signal) {
              signal.addEventListener('abort', () => (aborted = signal.reason));
              try {
                yield new ObservableTaskStatusUpdate('running', null);
                await sleep(60_000, undefined, { signal });
                yield new ObservableTaskStatusUpdate('finished', null);
              } finally {
                finallyRan = true;
              }
            },
          }),
        }),
      );
      await waitFor(() => table.getStatus(id)?.status === 'timed_out', {
        what: 'timed_out',
        timeoutMs: 3000,
      });
      const elapsed = Date.now() - started;
      t.ok(elapsed <= TIMEOUT_S * 1000 + GRACE_MS, `timed out after ${elapsed} ms`);
      t.ok(elapsed >= TIMEOUT_S * 1000 - 5, 'not before the timeout');
      t.same(table.getStatus(id)?.data, { inactivityTimeout: TIMEOUT_S });
      t.match(aborted, { name: 'TimeoutError' }, 'the signal is aborted with a TimeoutError');
      await waitFor(() => finallyRan, { what: 'the inner finally block' });
      t.equal(table.getRow(id)?.inactivityTimeout, TIMEOUT_S, 'the row stores its timeout');
      await sleep(50);
      t.equal(unhandled(), 0);
    },
  );

  t.test('times out a task stuck on a promise that never settles', async (t) => {
    const unhandled = watchUnhandled(t);
    const table = openTable(t);
    let aborted = false;
    const started = Date.now();
    const id = table.observe(
      new ObservableTask({
        name: 'stuck',
        category: 'timeouts',
        iterableTask: new ObservableTaskTimeoutIterator({
          inactivityTimeout: TIMEOUT_S,
          iterableTask: async function* (signal) {
            signal.addEventListener('abort', () => (aborted = true));
            yield new ObservableTaskStatusUpdate('running', null);
            await new Promise(() => {});
          },
        }),
      }),
    );
    await waitFor(() => table.getStatus(id)?.status === 'timed_out', {
      what: 'timed_out',
      timeoutMs: 3000,
    });
    const elapsed = Date.now() - started;
    t.ok(elapsed <= TIMEOUT_S * 1000 + GRACE_MS, `timed out after ${elapsed} ms`);
    t.ok(aborted, 'the signal is aborted');
    t.equal(table.readMetrics().slotsUsed, 0, 'the slot is released');
    await sleep(50);
    t.equal(unhandled(), 0);
  });

  t.test('a task that rejects after timing out causes no unhandled rejection', async (t) => {
    const unhandled = watchUnhandled(t);
    const table = openTable(t);
    let finallyRan = false;
    const id = table.observe(
      new ObservableTask({
        name: 'late-reject',
        category: 'timeouts',
        iterableTask: new ObservableTaskTimeoutIterator({
          inactivityTimeout: 0.1,
          iterableTask: async function* () {
            try {
              yield new ObservableTaskStatusUpdate('running', null);
              await sleep(250);
              throw new Error('too late');
            } finally {
              finallyRan = true;
            }
          },
        }),
      }),
    );
    await waitFor(() => table.getStatus(id)?.status === 'timed_out', { what: 'timed_out' });
    await waitFor(() => finallyRan, { what: 'finally' });
    await sleep(50);
    t.equal(table.getStatus(id)?.status, 'timed_out', 'the late error does not change the row');
    t.equal(unhandled(), 0);
  });

  t.test('a task that ends by itself is closed, not aborted', async (t) => {
    const table = openTable(t);
    for (const final of ['finished', 'return'] as const) {
      let aborted = false;
      let finallyRan = false;
      const id = table.observe(
        new ObservableTask({
          name: `ends with ${final}`,
          category: 'timeout',
          iterableTask: new ObservableTaskTimeoutIterator({
            inactivityTimeout: 5,
            iterableTask: async function* (signal) {
              signal.addEventListener('abort', () => (aborted = true));
              try {
                yield new ObservableTaskStatusUpdate('running', null);
                if (final === 'finished') yield new ObservableTaskStatusUpdate('finished', null);
              } finally {
                finallyRan = true;
              }
            },
          }),
        }),
      );
      await waitFor(() => table.getStatus(id)?.status === 'finished' && finallyRan, {
        what: `the task to end (${final})`,
      });
      await sleep(20);
      t.notOk(aborted, `the signal of a task that ended (${final}) is not aborted`);
    }
  });

  t.test('updates keep the task alive', async (t) => {
    const table = openTable(t);
    const id = table.observe(
      new ObservableTask({
        name: 'chatty',
        category: 'timeouts',
        iterableTask: new ObservableTaskTimeoutIterator({
          inactivityTimeout: 0.15,
          iterableTask: async function* () {
            for (let i = 0; i < 6; i++) {
              yield new ObservableTaskStatusUpdate('running', { i });
              await sleep(50);
            }
          },
        }),
      }),
    );
    await waitFor(() => table.getStatus(id)?.status === 'finished', { what: 'finished' });
    t.same(table.getStatus(id)?.data, { i: 5 });
  });

  t.test('rejects invalid options', async (t) => {
    const task = async function* () {};
    t.throws(
      () => new ObservableTaskTimeoutIterator({ iterableTask: task, inactivityTimeout: 0 }),
      {
        code: 'ERR_OUT_OF_RANGE',
      },
    );
    t.throws(
      () =>
        new ObservableTaskTimeoutIterator({ iterableTask: task, inactivityTimeout: Number.NaN }),
      {
        code: 'ERR_OUT_OF_RANGE',
      },
    );
    t.throws(
      () =>
        new ObservableTaskTimeoutIterator({
          iterableTask: task,
          inactivityTimeout: '5' as unknown as number,
        }),
      { code: 'ERR_INVALID_ARG_TYPE' },
    );
    t.throws(
      () =>
        new ObservableTaskTimeoutIterator({
          iterableTask: null as unknown as typeof task,
          inactivityTimeout: 1,
        }),
      { code: 'ERR_INVALID_ARG_TYPE' },
    );
  });
});

t.test('ObservableTaskTable#run() inactivityTimeout', async (t) => {
  const table = openTable(t);
  let signalReason: unknown;
  const started = Date.now();
  const result = table.run(
    { name: 'quiet', category: 'timeouts', inactivityTimeout: TIMEOUT_S },
    async (report, signal) => {
      report.progress(0.1);
      try {
        await sleep(60_000, undefined, { signal });
      } catch (error) {
        signalReason = signal.reason;
        throw error;
      }
    },
  );
  await t.rejects(result, { name: 'AbortError' }, "fn's own error reaches the caller");
  const elapsed = Date.now() - started;
  t.ok(elapsed <= TIMEOUT_S * 1000 + GRACE_MS, `timed out after ${elapsed} ms`);
  t.match(signalReason, { name: 'TimeoutError' });
  const [row] = [...table].map(([, r]) => r);
  t.equal(row?.status, 'timed_out', 'the row says timed_out, not failed');
});
