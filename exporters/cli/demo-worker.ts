/**
 * A worker process of `task-table demo` (started with child_process.fork by the primary).
 * It attaches to the table named in argv[2], takes jobs over IPC and runs one task per
 * file with table.run(). It holds up to two jobs: one running, one queued behind it,
 * shown as `pending` until its turn comes. On SIGTERM, SIGINT or a lost primary it exits;
 * the library then ends its unfinished rows as `cancelled`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ObservableTaskTable, type TaskReport } from '../../lib/index.js';
import type { DemoJob, JobMessage, JobOutcome, WorkerMessage } from './demo-files.js';
import { digestFile } from './file-digest.js';

/** Seconds without a report after which a task ends `timed_out`. */
const INACTIVITY_TIMEOUT = 2;
/** How often a queued task says it is still waiting (keeps it clear of the timeout). */
const QUEUED_HEARTBEAT_MS = 500;
/** Pause after a task, so its final row stays in view for a moment. */
const PAUSE_AFTER_FINISHED_MS = 300;
/** A longer pause after a failure, as a worker backing off would. */
const PAUSE_AFTER_PROBLEM_MS = 1000;

/** Lets one task at a time read; the others wait in FIFO order. */
class Turn {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  /** True when acquire() would have to wait. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Waits for the turn; calls `heartbeat` while waiting; rejects when `signal` aborts. */
  acquire(signal: AbortSignal, heartbeat: () => void): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setInterval(heartbeat, QUEUED_HEARTBEAT_MS);
      const grant = (): void => {
        clearInterval(timer);
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearInterval(timer);
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#busy = false;
    else next();
  }
}

const table = ObservableTaskTable.open({ name: process.argv[2] });
const turn = new Turn();

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/** The pace of a task: 0.2 to 2 s (at least 1.5 s for one that will be cancelled). */
function durationMs(job: DemoJob, size: number): number {
  const ms = 200 + job.jitter * 600 + Math.min(1200, (size / (4 * 1024 * 1024)) * 1000);
  return job.fault === 'cancel' ? Math.max(ms, 1500) : ms;
}

async function runJob(job: DemoJob): Promise<void> {
  let taskSignal: AbortSignal | undefined;
  let holdsTurn = false;
  let outcome: JobOutcome = 'finished';
  try {
    await table.run(
      { name: job.name, category: job.category, inactivityTimeout: INACTIVITY_TIMEOUT },
      async (report: TaskReport, signal: AbortSignal) => {
        taskSignal = signal;
        if (turn.busy) {
          const queued = { queued: true, pid: process.pid };
          report.status('pending', queued);
          await turn.acquire(signal, () => report.status('pending', queued));
          holdsTurn = true;
          report.status('running');
        } else {
          await turn.acquire(signal, () => undefined);
          holdsTurn = true;
        }
        const digest = await digestFile(job.path, {
          report,
          signal,
          durationMs: (size) => durationMs(job, size),
          ...(job.fault === 'stall' ? { stallAt: 0.3 } : {}),
        });
        report.status('finished', digest);
        return digest;
      },
    );
  } catch {
    // The row already records why (the error, the timeout or the cancel); we only tally.
    const reason = taskSignal?.aborted ? (taskSignal.reason as { name?: unknown }) : undefined;
    outcome =
      reason === undefined ? 'failed' : reason.name === 'TimeoutError' ? 'timed_out' : 'cancelled';
  }
  await sleep(outcome === 'finished' ? PAUSE_AFTER_FINISHED_MS : PAUSE_AFTER_PROBLEM_MS);
  if (holdsTurn) turn.release();
  send({ type: 'done', index: job.index, outcome });
}

process.on('message', (message: JobMessage) => {
  if (message.type === 'job') void runJob(message.job);
});

// process.exit() runs the library's exit hook, which ends our unfinished rows `cancelled`
// (a signal's default action would kill us without it, leaving them to be reclaimed).
const exit = (): void => process.exit(0);
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
process.on('disconnect', exit);

send({ type: 'ready' });
