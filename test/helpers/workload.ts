// A known workload for exporter tests: tasks in three categories ending in every final
// status, and one task left running, so that exported counters can be checked exactly.

import type { ObservableTaskTable } from '../../lib/index.js';
import { waitFor } from './index.js';

/** What {@link runKnownWorkload} did, per category. */
export const KNOWN_WORKLOAD = Object.freeze({
  started: { alpha: 5, beta: 2, gamma: 1 },
  completed: {
    alpha: { finished: 3, failed: 2, cancelled: 0, timed_out: 0 },
    beta: { finished: 0, failed: 0, cancelled: 1, timed_out: 1 },
    gamma: { finished: 0, failed: 0, cancelled: 0, timed_out: 0 },
  },
  running: { alpha: 0, beta: 0, gamma: 1 },
});

function waitForAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Runs the workload on `table` and resolves once every task but the running one has
 * ended. Call `finish()` to end the running one (it then finishes).
 */
export async function runKnownWorkload(
  table: ObservableTaskTable,
): Promise<{ finish: () => Promise<void> }> {
  // The table's watch timer (cancel requests, inactivity timeouts) is unref()'d, and the
  // tasks below wait on nothing but their signal: keep the event loop alive meanwhile.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    return await workload(table);
  } finally {
    clearInterval(keepAlive);
  }
}

async function workload(table: ObservableTaskTable): Promise<{ finish: () => Promise<void> }> {
  for (let i = 0; i < 3; i++) {
    await table.run({ name: `ok-${i}`, category: 'alpha' }, async (report) => {
      report.progress(0.5);
      return i;
    });
  }
  for (let i = 0; i < 2; i++) {
    await table
      .run({ name: `bad-${i}`, category: 'alpha' }, async () => {
        throw new Error(`failure ${i}`);
      })
      .catch(() => undefined);
  }

  // Cancelled from "another process": through the table, by id.
  const cancelled = table
    .run({ name: 'to-cancel', category: 'beta' }, (_report, signal) => waitForAbort(signal))
    .catch(() => undefined);
  let id: string | undefined;
  await waitFor(
    () => {
      for (const [rowId, row] of table)
        if (row.name === 'to-cancel' && row.status === 'running') id = rowId;
      return id !== undefined;
    },
    { what: 'the task to cancel to run' },
  );
  table.cancel(id as string);
  await cancelled;

  await table
    .run({ name: 'stalls', category: 'beta', inactivityTimeout: 0.05 }, (_report, signal) =>
      waitForAbort(signal),
    )
    .catch(() => undefined);

  let release: () => void = () => undefined;
  const running = table.run({ name: 'still-running', category: 'gamma' }, async (report) => {
    report.progress(0.25, { step: 'waiting' });
    await new Promise<void>((resolve) => {
      release = resolve;
    });
  });
  await waitFor(
    () => [...table].some(([, row]) => row.name === 'still-running' && row.progress === 0.25),
    {
      what: 'the running task to report progress',
    },
  );
  return {
    finish: async () => {
      release();
      await running;
    },
  };
}
