// Crash torture (issue 6, item 1): writer processes work at full speed (claims, updates
// with checksummed data, progress, final statuses, counters) and are killed with SIGKILL
// at random moments, then replaced. Throughout, this process reads the table and checks
// that no row is ever torn or mixed, that reads, claims and writes stay fast, that
// counters never decrease, that the rows of a live owner (the survivor) are never
// touched, and that every row of a dead writer ends `failed` (reason owner_died) within
// 2 seconds: by a running collector (`task-table serve`), or without one by the next
// open() or by a claim that finds the table full. At the end no slot leaks.
//
// At least 200 kills with the collector by default; more with TORTURE_KILLS=N.
// Writers: test/fixtures/torture-writer.mjs; live owner: torture-survivor.mjs.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';

import { ObservableTaskTable, type TaskTableMetrics } from '../../lib/index.js';
import type { RawRow } from '../../lib/internal/row-decoder.js';
import { SharedTable } from '../../lib/internal/shared-table.js';
import { resolveTableOptions } from '../../lib/options.js';
import { fixturePath, uniqueTableName, waitFor } from '../helpers/index.js';

const KILLS = Math.max(1, Number(process.env.TORTURE_KILLS ?? 200));
/** Every read, claim and write must return within this. */
const BOUND_MS = 250;
/** Every row of a dead writer must be reclaimed within this. */
const RECLAIM_WITHIN_MS = 2000;
const SURVIVOR_TASKS = 8;
const SURVIVOR_W = 0;

const PENDING = 1;
const RUNNING = 2;
const FAILED = 4;
const isFinal = (status: number): boolean => status >= 3 && status <= 6;

const CLI = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  'dist/exporters/cli/task-table.js',
);

interface ChecksummedData {
  decodeData(text: string): { w: number; k: number; n: number } | { error: string };
}
const codec = (await import(
  pathToFileURL(fixturePath('checksummed-data.mjs')).href
)) as ChecksummedData;

interface WriterStats {
  claims: number;
  writes: number;
  tasks: number;
  full: number;
  lost: number;
  maxClaimMs: number;
  maxWriteMs: number;
}

interface Writer {
  w: number;
  pid: number;
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  killAt?: number;
  /** Date.now() when its exit was seen, and when it started its own open(). */
  exitAt?: number;
  openStartedAt?: number;
  stats: WriterStats;
}

/**
 * One torture run on one table: spawns and kills writers, reads the table meanwhile and
 * collects every problem and figure.
 */
class Torture {
  readonly problems: string[] = [];
  readonly writers = new Map<number, Writer>();
  readonly byPid = new Map<number, Writer>();
  /** Killed writers whose rows are not all reclaimed yet: pid -> kill time. */
  readonly pending = new Map<number, number>();
  readonly reclaimLatencies: number[] = [];
  kills = 0;
  survivorPid = -1;
  survivorFinishing = false;
  maxSnapshotMs = 0;
  maxMetricsMs = 0;
  snapshots = 0;
  rowsChecked = 0;
  reclaimedRowsSeen = 0;
  /** Slots seen unreadable (mid-write) on successive scans: slot -> first seen. */
  readonly #unreadableSince = new Map<number, number>();
  readonly stuckRecoveries: number[] = [];
  readonly #validated = new Map<number, RawRow>();
  #previousMetrics: TaskTableMetrics | undefined;
  #nextW = 1;
  #stopReading = false;
  #reading: Promise<void> | undefined;

  constructor(
    readonly t: Test,
    readonly table: ObservableTaskTable,
    readonly shared: SharedTable,
  ) {}

  problem(text: string): void {
    if (this.problems.length < 50) this.problems.push(text);
  }

  /** waitFor() that records a timeout as a problem (reported with the others). */
  async until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<boolean> {
    try {
      await waitFor(predicate, { timeoutMs, intervalMs: 5, what });
      return true;
    } catch (error) {
      this.problem((error as Error).message);
      return false;
    }
  }

  spawnWriter(mode: 'low' | 'run' | 'fill', lanes: number, w = this.#nextW++): Writer {
    const child = fork(
      fixturePath('torture-writer.mjs'),
      [mode, this.table.name, String(w), String(lanes)],
      { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const stats: WriterStats = {
      claims: 0,
      writes: 0,
      tasks: 0,
      full: 0,
      lost: 0,
      maxClaimMs: 0,
      maxWriteMs: 0,
    };
    let onReady = (): void => undefined;
    const writer: Writer = {
      w,
      pid: child.pid as number,
      child,
      stats,
      ready: new Promise<void>((resolve) => (onReady = resolve)),
      exited: once(child, 'exit').then(([code, signal]) => {
        writer.exitAt = Date.now();
        if (signal !== 'SIGKILL') {
          this.problem(`writer ${w} exited by itself (${code}, ${signal}): ${stderr.trim()}`);
        }
      }),
    };
    child.on(
      'message',
      (message: { type: string; openStartedAt?: number } & Partial<WriterStats>) => {
        if (message.type === 'ready') {
          writer.openStartedAt = message.openStartedAt;
          onReady();
        }
        if (message.type === 'stats') Object.assign(stats, message);
      },
    );
    this.t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    this.writers.set(w, writer);
    this.byPid.set(writer.pid, writer);
    return writer;
  }

  async kill(writer: Writer): Promise<void> {
    writer.killAt = performance.now();
    this.pending.set(writer.pid, writer.killAt);
    writer.child.kill('SIGKILL');
    this.kills++;
    await writer.exited;
  }

  /**
   * Kills `kills` writers, `processes` at a time: each works for a random moment (or is
   * killed while it starts) while its replacement is already starting.
   */
  async killAndReplace(
    kills: number,
    processes: number,
    mode: 'low' | 'run',
    onReady: (writer: Writer) => void = () => undefined,
  ): Promise<void> {
    // Counted when spawned, not when killed: a lane that spawned a replacement while
    // another lane took the last kill would leave that writer alive, its rows claimed.
    let spawned = 0;
    const spawn = (): Writer | undefined =>
      spawned < kills ? (spawned++, this.spawnWriter(mode, 4)) : undefined;
    const lane = async (): Promise<void> => {
      let next = spawn();
      while (next !== undefined) {
        const writer = next;
        const duringStartup = Math.random() < 0.15;
        if (!duringStartup) {
          const ready = await Promise.race([writer.ready.then(() => true), sleep(15_000)]);
          if (ready !== true) this.problem(`writer ${writer.w} did not get ready`);
          onReady(writer);
        }
        next = spawn();
        await sleep(duringStartup ? Math.random() * 80 : 3 + Math.random() * 45);
        await this.kill(writer);
      }
    };
    await Promise.all(Array.from({ length: processes }, lane));
  }

  startReading(): void {
    this.#reading = (async () => {
      let lastMetrics = 0;
      let lastScan = 0;
      while (!this.#stopReading) {
        const until = performance.now() + 5;
        while (performance.now() < until) {
          this.checkSnapshot();
          const now = performance.now();
          if (now - lastMetrics >= 40) {
            lastMetrics = now;
            this.checkMetrics();
          }
          if (now - lastScan >= 100) {
            lastScan = now;
            this.scanUnreadable();
          }
        }
        // Leave the CPU to the writers half of the time (2 cores for every process).
        await sleep(5);
      }
    })();
  }

  async stopReading(): Promise<void> {
    this.#stopReading = true;
    await this.#reading;
  }

  /** One snapshot: every row must be whole and consistent; resolves dead writers. */
  checkSnapshot(): RawRow[] {
    const started = performance.now();
    const { rows } = this.shared.snapshot();
    const now = performance.now();
    this.maxSnapshotMs = Math.max(this.maxSnapshotMs, now - started);
    this.snapshots++;
    const unresolved = new Set<number>();
    for (const row of rows) {
      this.checkRow(row);
      if (row.live || !isFinal(row.status)) unresolved.add(row.pid);
    }
    for (const [pid, killAt] of this.pending) {
      if (unresolved.has(pid)) continue;
      this.pending.delete(pid);
      this.reclaimLatencies.push(now - killAt);
    }
    return rows;
  }

  checkRow(row: RawRow): void {
    const survivorRow = row.pid === this.survivorPid;
    if (survivorRow && !this.survivorFinishing && !(row.live && row.status === RUNNING)) {
      this.problem(`survivor row ${row.slot}: status ${row.status}, live ${row.live}`);
    }
    const seen = this.#validated.get(row.slot);
    if (
      seen !== undefined &&
      seen.generation === row.generation &&
      seen.status === row.status &&
      seen.data === row.data &&
      seen.name === row.name &&
      seen.pid === row.pid &&
      seen.reclaimed === row.reclaimed
    ) {
      return; // validated before
    }
    this.rowsChecked++;
    const where = `slot ${row.slot} (${row.name}, pid ${row.pid})`;
    const writer = this.byPid.get(row.pid);
    if (row.reclaimed) {
      this.reclaimedRowsSeen++;
      if (row.status !== FAILED) this.problem(`${where}: reclaimed with status ${row.status}`);
      let reason: { reason?: unknown; pid?: unknown } = {};
      try {
        reason = JSON.parse(row.data) as typeof reason;
      } catch {
        this.problem(`${where}: reclaimed row data ${JSON.stringify(row.data.slice(0, 80))}`);
      }
      if (reason.reason !== 'owner_died' || reason.pid !== row.pid)
        this.problem(`${where}: reclaimed row data ${row.data.slice(0, 120)}`);
      if (survivorRow) this.problem(`${where}: a row of the live survivor was reclaimed`);
      else if (writer === undefined) this.problem(`${where}: reclaimed row of an unknown pid`);
      else if (writer.killAt === undefined)
        this.problem(`${where}: a row of live writer ${writer.w} was reclaimed`);
    } else {
      const match = /^writer-(\d+)-row-(\d+)$/.exec(row.name);
      const w = Number(match?.[1]);
      const k = Number(match?.[2]);
      const owner = this.writers.get(w);
      if (match === null) this.problem(`${where}: bad name`);
      else if (owner === undefined) this.problem(`${where}: no writer ${w}`);
      else if (owner.pid !== row.pid) this.problem(`${where}: writer ${w} is pid ${owner.pid}`);
      if (row.status < PENDING || row.status > 6) this.problem(`${where}: status ${row.status}`);
      if (row.data === '') {
        if (isFinal(row.status)) this.problem(`${where}: ended without data`);
      } else {
        const decoded = codec.decodeData(row.data);
        if ('error' in decoded) this.problem(`${where}: ${decoded.error}`);
        else if (decoded.w !== w || decoded.k !== k)
          this.problem(`${where}: holds data of writer ${decoded.w} row ${decoded.k}`);
      }
    }
    this.#validated.set(row.slot, row);
  }

  /** Counters, histograms and drop counts never decrease; the read stays fast. */
  checkMetrics(): TaskTableMetrics {
    const started = performance.now();
    const metrics = this.table.readMetrics();
    this.maxMetricsMs = Math.max(this.maxMetricsMs, performance.now() - started);
    const previous = this.#previousMetrics;
    this.#previousMetrics = metrics;
    if (previous === undefined) return metrics;
    const before = flattenCounters(previous);
    for (const [key, value] of flattenCounters(metrics)) {
      const old = before.get(key) ?? 0;
      if (value < old) this.problem(`counter ${key} went down from ${old} to ${value}`);
    }
    return metrics;
  }

  /** Tracks rows that stay unreadable (a writer died mid-write) until they read again. */
  scanUnreadable(): void {
    const now = performance.now();
    for (let slot = 0; slot < this.shared.layout.maxTasks; slot++) {
      const unreadable = this.shared.readRow(slot) === 'unreadable';
      const since = this.#unreadableSince.get(slot);
      if (unreadable && since === undefined) this.#unreadableSince.set(slot, now);
      if (!unreadable && since !== undefined) {
        this.#unreadableSince.delete(slot);
        // Unreadable on at least two scans: the writer was not just in the middle of one.
        if (now - since >= 100) this.stuckRecoveries.push(now - since);
      }
    }
  }

  get unreadableSlots(): number {
    return this.#unreadableSince.size;
  }

  get maxClaimMs(): number {
    return Math.max(0, ...[...this.writers.values()].map((w) => w.stats.maxClaimMs));
  }

  get maxWriteMs(): number {
    return Math.max(0, ...[...this.writers.values()].map((w) => w.stats.maxWriteMs));
  }

  /** Figures and the assertions every run shares. */
  report(t: Test, what: string, boundedLatency = true): void {
    const maxReclaim = Math.max(0, ...this.reclaimLatencies);
    const maxStuck = Math.max(0, ...this.stuckRecoveries);
    t.same(this.problems, [], `${what}: no torn, mixed or wrongly reclaimed row; no counter down`);
    t.equal(this.pending.size, 0, 'every killed writer has had all its rows reclaimed');
    if (boundedLatency)
      t.ok(maxReclaim <= RECLAIM_WITHIN_MS, `reclaimed within ${Math.round(maxReclaim)} ms`);
    t.ok(maxStuck <= RECLAIM_WITHIN_MS, `rows stuck mid-write read again within ${maxStuck} ms`);
    t.ok(this.maxSnapshotMs < BOUND_MS, `snapshot() took at most ${this.maxSnapshotMs} ms`);
    t.ok(this.maxMetricsMs < BOUND_MS, `readMetrics() took at most ${this.maxMetricsMs} ms`);
    t.ok(this.maxClaimMs < BOUND_MS, `a claim took at most ${this.maxClaimMs} ms`);
    t.ok(this.maxWriteMs < BOUND_MS, `a write took at most ${this.maxWriteMs} ms`);
    const totals = { claims: 0, writes: 0, tasks: 0, full: 0 };
    for (const { stats } of this.writers.values()) {
      totals.claims += stats.claims;
      totals.writes += stats.writes;
      totals.tasks += stats.tasks;
      totals.full += stats.full;
    }
    const sorted = [...this.reclaimLatencies].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    t.comment(
      `${what}: ${this.kills} kills; writers reported ${totals.claims} claims, ` +
        `${totals.writes} writes, ${totals.tasks} tasks ended, ${totals.full} full-table ` +
        `claims; reader: ${this.snapshots} snapshots, ${this.rowsChecked} distinct rows ` +
        `checked, ${this.reclaimedRowsSeen} reclaimed rows seen, ` +
        `${this.stuckRecoveries.length} rows stuck mid-write recovered (max ` +
        `${Math.round(maxStuck)} ms); reclaim latency median ${Math.round(median)} ms, max ` +
        `${Math.round(maxReclaim)} ms; max durations: snapshot ` +
        `${this.maxSnapshotMs.toFixed(1)} ms, readMetrics ${this.maxMetricsMs.toFixed(1)} ms, ` +
        `claim ${this.maxClaimMs.toFixed(1)} ms, write ${this.maxWriteMs.toFixed(1)} ms`,
    );
  }
}

/** Every monotonic quantity of a metrics read, by a stable key. */
function flattenCounters(metrics: TaskTableMetrics): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of metrics.categories) {
    out.set(`${c.category}.started`, c.started);
    for (const [status, n] of Object.entries(c.completed))
      out.set(`${c.category}.completed.${status}`, n);
    const histograms = { ...c.duration, wait: c.wait };
    for (const [key, h] of Object.entries(histograms)) {
      out.set(`${c.category}.${key}.count`, h.count);
      out.set(`${c.category}.${key}.sum`, h.sum);
      h.cumulativeCounts.forEach((n, i) => out.set(`${c.category}.${key}.le${i}`, n));
    }
  }
  for (const [reason, n] of Object.entries(metrics.dropped)) out.set(`dropped.${reason}`, n);
  return out;
}

function openTable(t: Test, maxTasks: number): { table: ObservableTaskTable; shared: SharedTable } {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks });
  const shared = SharedTable.open(resolveTableOptions({ name }));
  t.teardown(() => {
    shared.close();
    table.close();
  });
  return { table, shared };
}

interface SurvivorResult {
  problems: string[];
  writes: number;
}

async function startSurvivor(t: Test, torture: Torture, tasks: number): Promise<ChildProcess> {
  const child = fork(
    fixturePath('torture-survivor.mjs'),
    [torture.table.name, String(SURVIVOR_W), String(tasks)],
    { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const [ready] = (await Promise.race([
    once(child, 'message'),
    sleep(20_000).then(() => {
      throw new Error('the survivor did not start');
    }),
  ])) as [{ pid: number; ids: string[] }];
  torture.survivorPid = ready.pid;
  torture.writers.set(SURVIVOR_W, {
    w: SURVIVOR_W,
    pid: ready.pid,
    child,
    ready: Promise.resolve(),
    exited: Promise.resolve(),
    stats: { claims: 0, writes: 0, tasks: 0, full: 0, lost: 0, maxClaimMs: 0, maxWriteMs: 0 },
  });
  t.equal(ready.ids.length, tasks, `the survivor runs ${tasks} tasks`);
  return child;
}

async function finishSurvivor(t: Test, torture: Torture, child: ChildProcess): Promise<void> {
  torture.survivorFinishing = true;
  const result = once(child, 'message') as Promise<[SurvivorResult]>;
  child.send('finish');
  const [{ problems, writes }] = await Promise.race([
    result,
    sleep(10_000).then(() => [{ problems: ['no answer'], writes: 0 }] as [SurvivorResult]),
  ]);
  t.same(
    problems,
    [],
    `the survivor's rows were its own and running throughout (${writes} writes)`,
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 0, 'the survivor exited cleanly');
}

/** Starts `task-table serve` on the table; resolves once it serves. */
async function startCollector(t: Test, name: string): Promise<ChildProcess> {
  const collector = spawn(process.execPath, [CLI, 'serve', '--table', name, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (collector.exitCode === null && collector.signalCode === null) collector.kill('SIGKILL');
  });
  const lines = createInterface({ input: collector.stdout as NodeJS.ReadableStream });
  await Promise.race([
    new Promise<void>((resolve) =>
      lines.on('line', (line) => {
        if (line.includes('serving')) resolve();
      }),
    ),
    sleep(20_000).then(() => {
      throw new Error('task-table serve did not start');
    }),
  ]);
  return collector;
}

/** Free slots: the survivor's (or nobody's) only, nothing unreadable. */
async function waitForNoLeak(
  torture: Torture,
  slotsUsed: number,
  reclaim: () => void = () => undefined,
): Promise<number> {
  const started = performance.now();
  const ok = await torture.until(() => {
    reclaim();
    const metrics = torture.checkMetrics();
    return metrics.slotsUsed === slotsUsed && metrics.unreadableRows === 0;
  }, `slotsUsed to fall to ${slotsUsed}`);
  if (!ok) torture.problem(`slots still claimed: ${JSON.stringify(claimedSlots(torture))}`);
  return performance.now() - started;
}

/** Diagnostics: the slots claimed by anything but the survivor, read from the file. */
function claimedSlots(torture: Torture): unknown[] {
  const { shared } = torture;
  const fd = openSync(shared.path, 'r');
  const word = Buffer.alloc(8);
  const out: unknown[] = [];
  try {
    for (let slot = 0; slot < shared.layout.maxTasks; slot++) {
      readSync(fd, word, 0, 8, shared.layout.rowsOffset + slot * shared.layout.rowBytes);
      const claim = word.readBigUInt64LE();
      const pid = Number(claim & 0xffffffn);
      if (pid === 0 || pid === torture.survivorPid) continue;
      const row = shared.readRow(slot);
      out.push({
        slot,
        pid,
        generation: Number(claim >> 24n),
        exists: existsSync(`/proc/${pid}`),
        writer: torture.byPid.get(pid)?.w,
        row:
          row === null || row === 'unreadable'
            ? row
            : { pid: row.pid, generation: row.generation, status: row.status, lease: row.leaseMs },
      });
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

t.test('SIGKILLed writers with a collector running', async (t) => {
  const { table, shared } = openTable(t, 512);
  const torture = new Torture(t, table, shared);
  const collector = await startCollector(t, table.name);
  const survivor = await startSurvivor(t, torture, SURVIVOR_TASKS);
  torture.startReading();

  const started = performance.now();
  await torture.killAndReplace(KILLS, 3, 'low');
  const tortureMs = performance.now() - started;
  await waitFor(() => torture.pending.size === 0, {
    timeoutMs: 5000,
    what: 'the rows of every killed writer to be reclaimed',
  });
  const leakMs = await waitForNoLeak(torture, SURVIVOR_TASKS);
  await torture.stopReading();
  torture.checkSnapshot();

  t.ok(torture.kills >= KILLS, `${torture.kills} writers killed in ${Math.round(tortureMs)} ms`);
  torture.report(t, 'with a collector');
  t.comment(`after the last kill, slots were back to the survivor's within ${leakMs} ms`);
  t.ok(torture.reclaimedRowsSeen > 0, 'reclaimed rows were seen');

  await finishSurvivor(t, torture, survivor);
  const metrics = torture.checkMetrics();
  t.equal(metrics.slotsUsed, 0, 'no slot leaks once the survivor has finished');
  t.equal(metrics.unreadableRows, 0, 'no row is left unreadable');
  collector.kill('SIGTERM');
  const [code] = (await once(collector, 'exit')) as [number | null];
  t.equal(code, 0, 'the collector ran throughout and stopped cleanly');
});

t.test('SIGKILLed writers without a collector', async (t) => {
  t.test('reclaimed by the next ObservableTaskTable.open()', async (t) => {
    const { table, shared } = openTable(t, 256);
    const torture = new Torture(t, table, shared);
    const survivor = await startSurvivor(t, torture, 4);
    torture.startReading();
    let checks = 0;
    // Each writer reports ready right after its own open(), which reclaims: by then every
    // row of a writer that had exited before that open() began must be reclaimed.
    await torture.killAndReplace(Math.ceil(KILLS / 4), 2, 'run', (writer) => {
      const openedAt = writer.openStartedAt ?? 0;
      const dead = new Set(
        [...torture.writers.values()]
          .filter((w) => w.exitAt !== undefined && w.exitAt < openedAt)
          .map((w) => w.pid),
      );
      checks++;
      for (const row of shared.snapshot().rows) {
        if (dead.has(row.pid) && (row.live || !isFinal(row.status))) {
          torture.problem(`slot ${row.slot} of dead pid ${row.pid} not reclaimed by open()`);
        }
      }
    });
    // Slots claimed but never written (a kill right after the claim) wait one second.
    const leakMs = await waitForNoLeak(torture, 4, () =>
      ObservableTaskTable.open({ name: table.name }).close(),
    );
    await torture.stopReading();
    torture.checkSnapshot();
    t.ok(checks > 0, `${checks} replacements found every earlier dead writer's rows reclaimed`);
    torture.report(t, 'open()');
    t.comment(`after the last kill, open() freed every slot within ${Math.round(leakMs)} ms`);
    await finishSurvivor(t, torture, survivor);
  });

  t.test('reclaimed by a claim that finds the table full', async (t) => {
    const { table, shared } = openTable(t, 24);
    const torture = new Torture(t, table, shared);
    // The churner runs tasks all the time; fillers take every slot (and any slot that
    // frees up) and are killed. Nobody else reclaims: fillers attach with the low-level
    // API, which never does. So it is the churner's claim on a full table that frees
    // their slots. One such claim reclaims what it finds dead at that moment, enough to
    // go on; rows of a process still tearing down wait for the next full table.
    const churner = torture.spawnWriter('run', 2);
    await churner.ready;
    torture.startReading();
    const cycles = 10;
    const fillers: Writer[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      const filler = torture.spawnWriter('fill', 4);
      await waitForMessage(filler.child, (m) => m.type === 'full');
      const fullBefore = churner.stats.full;
      await torture.until(
        () => churner.stats.full > fullBefore,
        "the churner's claims to fail on the full table",
      );
      await torture.until(
        () => fillers.every((dead) => !torture.pending.has(dead.pid)),
        'claims on the full table to reclaim every row of the earlier fillers',
        RECLAIM_WITHIN_MS,
      );
      await sleep(Math.random() * 40);
      for (const row of torture.checkSnapshot()) {
        if (row.pid === filler.pid && (!row.live || row.reclaimed))
          torture.problem(`slot ${row.slot} of the live filler was ended`);
      }
      const tasksBefore = churner.stats.tasks;
      await torture.kill(filler);
      fillers.push(filler);
      await torture.until(
        () => churner.stats.tasks > tasksBefore + 2,
        "the churner's claims on the full table to reclaim the dead filler's rows",
        RECLAIM_WITHIN_MS,
      );
    }
    await torture.kill(churner);
    await torture.stopReading();
    await waitForNoLeak(torture, 0, () => ObservableTaskTable.open({ name: table.name }).close());
    torture.checkSnapshot();
    // Latencies here include the wait for the next full table: not bounded by 2 s.
    torture.report(t, 'claim on a full table', false);
    t.equal(torture.kills, cycles + 1, `${cycles} fillers and the churner killed`);
  });
});

t.test('a row whose writer died mid-write reads again after reclaim', async (t) => {
  const { table, shared } = openTable(t, 8);
  const torture = new Torture(t, table, shared);
  const writer = torture.spawnWriter('fill', 2);
  await waitForMessage(writer.child, (m) => m.type === 'full');
  await torture.kill(writer);
  // Freeze the row as a kill inside SeqWriteBegin..End leaves it: sequence odd.
  const slot = 3;
  const rowAt = shared.layout.rowsOffset + slot * shared.layout.rowBytes;
  const fd = openSync(shared.path, 'r+');
  t.teardown(() => closeSync(fd));
  const seq = Buffer.alloc(4);
  readSync(fd, seq, 0, 4, rowAt + 8);
  seq.writeUInt32LE(seq.readUInt32LE() | 1);
  writeSync(fd, seq, 0, 4, rowAt + 8);
  // The row's liveness lease (RowHead.lease_ms, epoch ms) sits at byte 24 of the row.
  const setLease = (ms: number): void => {
    const lease = Buffer.alloc(8);
    lease.writeBigUInt64LE(BigInt(Math.round(ms)));
    writeSync(fd, lease, 0, 8, rowAt + 24);
  };
  t.equal(shared.readRow(slot), 'unreadable', 'the row is stuck mid-write');
  t.equal(table.readMetrics().unreadableRows, 1, 'and counted unreadable');

  // A fresh lease is what a claim still writing its first row looks like: its identity
  // words may be half the previous owner's, so the row is left alone for a grace second.
  setLease(Date.now());
  t.equal(table.reclaim(), 7, 'a mid-write row with a fresh lease is not judged yet');
  t.equal(table.readMetrics().unreadableRows, 1, 'and stays unreadable');
  setLease(Date.now() - 1_500);
  t.equal(table.reclaim(), 1, 'once its lease is older than the grace, it is reclaimed too');
  t.equal(table.readMetrics().unreadableRows, 0, 'no row is unreadable any more');
  const row = shared.readRow(slot);
  if (row === null || row === 'unreadable') throw new Error(`slot ${slot}: ${row}`);
  t.equal(row.status, FAILED, 'the stuck row ends failed');
  t.ok(row.reclaimed, 'marked reclaimed');
  t.match(JSON.parse(row.data), { reason: 'owner_died', pid: writer.pid }, 'with the reason');
  t.equal(table.readMetrics().slotsUsed, 0, 'every slot is free');
  t.same(torture.problems, []);
});

function waitForMessage(
  child: ChildProcess,
  predicate: (message: { type?: string }) => boolean,
  timeoutMs = 15_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no matching message within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(message: { type?: string }): void {
      if (!predicate(message)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve();
    }
    child.on('message', onMessage);
  });
}
