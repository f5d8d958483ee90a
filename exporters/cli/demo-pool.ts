/**
 * The primary side of `task-table demo`: forks the worker processes, hands them jobs over
 * IPC (each worker holds at most two: one running, one queued), cancels the tasks planned
 * for cancelling once they run, and stops the workers on shutdown.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ObservableTaskTable } from '../../lib/index.js';
import {
  planJob,
  type DemoFile,
  type JobMessage,
  type JobOutcome,
  type WorkerMessage,
} from './demo-files.js';

/** Jobs a worker holds at once: the running one and one queued behind it (shown pending). */
const JOBS_PER_WORKER = 2;
const CANCEL_POLL_MS = 100;
const STOP_GRACE_MS = 5000;
/** A task planned for cancelling is cancelled once it ran this long, so it visibly ran. */
const CANCEL_AFTER_RUNNING_MS = 500;

interface Worker {
  child: ChildProcess;
  ready: boolean;
  jobs: number;
}

interface PendingCancel {
  index: number;
  name: string;
  pid: number;
  /** When this process first saw the task running. */
  runningSince?: number;
}

/** Options of {@link DemoPool}. */
export interface DemoPoolOptions {
  table: ObservableTaskTable;
  files: readonly DemoFile[];
  workers: number;
  /** Called with a one-line message for the log. */
  log(message: string): void;
}

/** The worker pool; `start()` it, then `stop()` it. */
export class DemoPool {
  readonly #options: DemoPoolOptions;
  readonly #workers = new Set<Worker>();
  readonly #cancels: PendingCancel[] = [];
  readonly outcomes: Record<JobOutcome, number> = {
    finished: 0,
    failed: 0,
    timed_out: 0,
    cancelled: 0,
  };
  #next = 0;
  #stopping = false;
  #restarts = 0;
  #cancelTimer: NodeJS.Timeout | undefined;

  constructor(options: DemoPoolOptions) {
    this.#options = options;
  }

  /** Tasks handed to workers so far. */
  get dispatched(): number {
    return this.#next;
  }

  start(): void {
    for (let i = 0; i < this.#options.workers; i++) this.#spawn();
    this.#cancelTimer = setInterval(() => this.#cancelPlanned(), CANCEL_POLL_MS);
  }

  /**
   * Stops the workers: SIGTERM, after which each exits and the library ends its unfinished
   * rows `cancelled`; SIGKILL for any still alive after the grace period.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#cancelTimer);
    await Promise.all(
      [...this.#workers].map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #spawn(): void {
    const path = fileURLToPath(new URL('./demo-worker.js', import.meta.url));
    const child = fork(path, [this.#options.table.name], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const worker: Worker = { child, ready: false, jobs: 0 };
    this.#workers.add(worker);
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') worker.ready = true;
      else if (message.type === 'done') {
        worker.jobs--;
        this.outcomes[message.outcome]++;
        const i = this.#cancels.findIndex((c) => c.index === message.index);
        if (i >= 0) this.#cancels.splice(i, 1);
      }
      this.#dispatch(worker);
    });
    // A send racing the worker's exit fails here; the exit handler below deals with it.
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      this.#workers.delete(worker);
      if (this.#stopping) return;
      // Its rows are reclaimed (ended `failed`, owner died) by the collector.
      this.#options.log(`worker ${child.pid} exited (${signal ?? `code ${code}`})`);
      if (this.#restarts++ < 3 * this.#options.workers) this.#spawn();
    });
  }

  #dispatch(worker: Worker): void {
    const { files } = this.#options;
    while (
      !this.#stopping &&
      worker.ready &&
      worker.jobs < JOBS_PER_WORKER &&
      worker.child.connected
    ) {
      const index = this.#next++;
      // Past the last file, start over: the demo loops until stopped.
      const job = planJob(index, files[index % files.length] as DemoFile);
      worker.jobs++;
      if (job.fault === 'cancel')
        this.#cancels.push({ index, name: job.name, pid: worker.child.pid ?? 0 });
      worker.child.send({ type: 'job', job } satisfies JobMessage);
    }
  }

  /** Cancels, from this process, the planned tasks that are running by now. */
  #cancelPlanned(): void {
    if (this.#cancels.length === 0) return;
    const now = Date.now();
    for (const [id, row] of this.#options.table) {
      if (row.status !== 'running') continue;
      const i = this.#cancels.findIndex((c) => c.name === row.name && c.pid === row.pid);
      const planned = this.#cancels[i];
      if (planned === undefined) continue;
      planned.runningSince ??= now;
      if (now - planned.runningSince < CANCEL_AFTER_RUNNING_MS) continue;
      this.#cancels.splice(i, 1);
      this.#options.table.cancel(id);
    }
  }
}
