// Liveness of a row's owner is decided by pid, process start time and pid namespace
// (issue 6, item 2). The rows below are forged by writing owner identities straight into
// the shared-memory file (offsets from native/core/layout.h), because real pid reuse
// cannot be provoked on demand; the last test runs a real writer in another pid namespace
// with unshare(1).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { readSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import t, { type Test } from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { SharedTable } from '../../lib/internal/shared-table.js';
import { resolveTableOptions } from '../../lib/options.js';
import { fixturePath, uniqueTableName, waitFor } from '../helpers/index.js';

const RUNNING = 2;
const FAILED = 4;
const LEASE_TIMEOUT_MS = 15_000; // lib/observable-task-table.ts
const PID_MASK = (1n << 24n) - 1n;

/** Offsets inside a row (native/core/layout.h RowHead and RowBody). */
const ROW = Object.freeze({
  claim: 0,
  seq: 8,
  lease: 24,
  generation: 32,
  pid: 52,
  startTime: 56,
  pidNamespace: 64,
});

/** Reads and writes row fields through the table's file, as another process could. */
class RowFile {
  readonly #fd: number;
  readonly #rowsOffset: number;
  readonly #rowBytes: number;

  constructor(shared: SharedTable) {
    this.#fd = openSync(shared.path, 'r+');
    this.#rowsOffset = shared.layout.rowsOffset;
    this.#rowBytes = shared.layout.rowBytes;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #at(slot: number, field: number): number {
    return this.#rowsOffset + slot * this.#rowBytes + field;
  }

  u64(slot: number, field: number): bigint {
    const buffer = Buffer.alloc(8);
    readSync(this.#fd, buffer, 0, 8, this.#at(slot, field));
    return buffer.readBigUInt64LE();
  }

  setU64(slot: number, field: number, value: bigint): void {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64LE(value);
    writeSync(this.#fd, buffer, 0, 8, this.#at(slot, field));
  }

  u32(slot: number, field: number): number {
    const buffer = Buffer.alloc(4);
    readSync(this.#fd, buffer, 0, 4, this.#at(slot, field));
    return buffer.readUInt32LE();
  }

  setU32(slot: number, field: number, value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(value);
    writeSync(this.#fd, buffer, 0, 4, this.#at(slot, field));
  }

  claimPid(slot: number): number {
    return Number(this.u64(slot, ROW.claim) & PID_MASK);
  }

  /** Makes `pid` the owner in both the claim word and the body (same generation). */
  setOwner(slot: number, pid: number, bodyPid = pid): void {
    const generation = this.u64(slot, ROW.claim) >> 24n;
    this.setU64(slot, ROW.claim, (generation << 24n) | BigInt(pid));
    this.setU32(slot, ROW.pid, bodyPid);
  }

  setLease(slot: number, epochMs: number): void {
    this.setU64(slot, ROW.lease, BigInt(Math.round(epochMs)));
  }
}

/** Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot. */
function processStartTime(pid: number | 'self'): bigint {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return BigInt(fields[22 - 3] as string);
}

/** Inode of a process's pid namespace, as the core records it. */
function pidNamespaceInode(pid: number | 'self'): bigint {
  return BigInt(statSync(`/proc/${pid}/ns/pid`).ino);
}

/** A pid that no process has in this namespace (and that the core can store). */
function unusedPid(): number {
  for (let pid = 4_000_000; pid > 1000; pid -= 7919) {
    if (!existsSync(`/proc/${pid}`)) return pid;
  }
  throw new Error('no unused pid found');
}

function startSleeper(t: Test): ChildProcess {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => {
    if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
  });
  return sleeper;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function open(
  t: Test,
  maxTasks = 16,
): {
  table: ObservableTaskTable;
  shared: SharedTable;
  file: RowFile;
} {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks });
  const shared = SharedTable.open(resolveTableOptions({ name }));
  const file = new RowFile(shared);
  t.teardown(() => {
    file.close();
    shared.close();
    table.close();
  });
  return { table, shared, file };
}

/** Claims a running row in this process; its owner identity is then forged. */
function claimRow(shared: SharedTable, name: string): { slot: number; generation: number } {
  const claim = shared.claim(name, 'identity', 0);
  if (claim === null) throw new Error('table full');
  shared.update(claim.slot, claim.generation, RUNNING, JSON.stringify({ name }));
  return { slot: claim.slot, generation: claim.generation };
}

function rowAt(shared: SharedTable, slot: number) {
  const row = shared.readRow(slot);
  if (row === null || row === 'unreadable') throw new Error(`slot ${slot}: ${row}`);
  return row;
}

function assertReclaimed(t: Test, shared: SharedTable, slot: number, what: string): void {
  const row = rowAt(shared, slot);
  t.equal(row.status, FAILED, `${what}: failed`);
  t.ok(row.reclaimed, `${what}: marked reclaimed`);
  t.equal(row.live, false, `${what}: slot released`);
  t.match(JSON.parse(row.data), { reason: 'owner_died' }, `${what}: reason owner_died`);
}

function assertUntouched(
  t: Test,
  shared: SharedTable,
  file: RowFile,
  slot: number,
  pid: number,
  what: string,
): void {
  const row = rowAt(shared, slot);
  t.equal(row.status, RUNNING, `${what}: still running`);
  t.notOk(row.reclaimed, `${what}: not marked reclaimed`);
  t.equal(file.claimPid(slot), pid, `${what}: still claimed by pid ${pid}`);
}

t.test(
  'ObservableTaskTable#reclaim(): pid reuse is detected by the process start time',
  async (t) => {
    const { table, shared, file } = open(t);
    const sleeper = startSleeper(t);
    const pid = sleeper.pid as number;
    await waitFor(() => existsSync(`/proc/${pid}/stat`), { what: 'sleep to start' });
    const startTime = processStartTime(pid);

    // The row's pid now belongs to `sleep`, which started at another time: its owner died.
    const reused = claimRow(shared, 'owner-died-pid-reused');
    file.setOwner(reused.slot, pid);
    file.setU64(reused.slot, ROW.startTime, startTime + 12345n);
    // The same pid with the right start time is the live `sleep` itself.
    const alive = claimRow(shared, 'owner-alive');
    file.setOwner(alive.slot, pid);
    file.setU64(alive.slot, ROW.startTime, startTime);
    // The pid is now the reclaiming process's own, but an earlier process had it.
    const ownPidReused = claimRow(shared, 'owner-died-our-pid-reused');
    file.setU64(ownPidReused.slot, ROW.startTime, processStartTime('self') + 777n);
    // A row this process really owns.
    const own = claimRow(shared, 'own-row');

    t.equal(table.reclaim(), 2, 'reclaimed the two rows of dead owners, nothing else');
    assertReclaimed(t, shared, reused.slot, 'pid now used by another process');
    assertReclaimed(t, shared, ownPidReused.slot, 'pid now used by the reclaimer');
    assertUntouched(t, shared, file, alive.slot, pid, 'owner alive (same start time)');
    assertUntouched(t, shared, file, own.slot, process.pid, 'own row');
    t.match(
      JSON.parse(rowAt(shared, reused.slot).data),
      { pid, message: /died while the task was running/ },
      'the reason names the dead owner',
    );
    t.equal(table.reclaim(), 0, 'a second pass finds nothing');

    await killAndWait(sleeper);
    t.equal(table.reclaim(), 1, 'once the owner exits, its row is reclaimed');
    assertReclaimed(t, shared, alive.slot, 'owner exited');
    const metrics = table.readMetrics();
    t.equal(metrics.slotsUsed, 1, 'only the own row still holds a slot');
    t.equal(metrics.dropped.owner_died, 3, 'each reclaimed row counted once');
    const identity = metrics.categories.find((c) => c.category === 'identity');
    t.equal(identity?.completed.failed, 3, 'each reclaimed row counted as a failed completion');
  },
);

t.test(
  'ObservableTaskTable#reclaim(): an owner that exited but was not reaped is dead',
  async (t) => {
    // A zombie keeps its pid and /proc entry (start time included) until its parent waits
    // for it, which a busy or careless parent may never do: `sh` below runs a child in the
    // background and then becomes `sleep 30`, which never waits.
    const { table, shared, file } = open(t);
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    t.teardown(() => {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    });
    const lines = createInterface({ input: parent.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, 'line')) as [string];
    const zombie = Number(line);
    await waitFor(() => readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z '), {
      what: `pid ${zombie} to become a zombie`,
    });
    const row = claimRow(shared, 'owner-zombie');
    file.setOwner(row.slot, zombie);
    file.setU64(row.slot, ROW.startTime, processStartTime(zombie));

    t.equal(table.reclaim(), 1, "the zombie's row is reclaimed");
    assertReclaimed(t, shared, row.slot, 'zombie owner');
  },
);

t.test(
  'ObservableTaskTable#reclaim(): a row taken over by a live reclaimer is left to it',
  async (t) => {
    // While process R reclaims a row, the claim word holds R's pid but the body still names
    // the dead owner. Another reclaimer must check R, not the dead owner, or two processes
    // write the row at once (and count its completion twice).
    const { table, shared, file } = open(t);
    const sleeper = startSleeper(t);
    const reclaimerPid = sleeper.pid as number;
    const row = claimRow(shared, 'being-reclaimed');
    file.setOwner(row.slot, reclaimerPid, unusedPid());

    t.equal(table.reclaim(), 0, 'the row being reclaimed by a live process is not taken');
    t.equal(file.claimPid(row.slot), reclaimerPid, 'the live reclaimer still holds the claim');
    t.equal(rowAt(shared, row.slot).status, RUNNING, 'the row is unchanged');

    await killAndWait(sleeper);
    // The lease is still the dead owner's last heartbeat.
    file.setLease(row.slot, Date.now() - 2000);
    t.equal(table.reclaim(), 1, 'the reclaimer died too: the row is reclaimed');
    assertReclaimed(t, shared, row.slot, 'after both died');
  },
);

t.test(
  'ObservableTaskTable#reclaim(): owners in another pid namespace go by their lease',
  async (t) => {
    const { table, shared, file } = open(t);
    const otherNamespace = pidNamespaceInode('self') + 1n;
    const forge = (name: string, leaseAgeMs: number) => {
      const row = claimRow(shared, name);
      const pid = unusedPid(); // means nothing here: the owner lives in another namespace
      file.setOwner(row.slot, pid);
      file.setU64(row.slot, ROW.pidNamespace, otherNamespace);
      file.setLease(row.slot, Date.now() - leaseAgeMs);
      return { ...row, pid };
    };

    const fresh = forge('lease-fresh', 0);
    const young = forge('lease-14s', LEASE_TIMEOUT_MS - 1000);
    const expired = forge('lease-16s', LEASE_TIMEOUT_MS + 1000);
    // The owner stopped inside a write: the row stays odd, so it cannot be read
    // consistently, but its identity (written when the slot was claimed) still holds.
    const midWrite = forge('mid-write', 0);
    file.setU32(midWrite.slot, ROW.seq, file.u32(midWrite.slot, ROW.seq) + 1);
    t.equal(shared.readRow(midWrite.slot), 'unreadable', 'the mid-write row is unreadable');

    t.equal(table.reclaim(), 1, 'only the row with an expired lease is reclaimed');
    assertReclaimed(t, shared, expired.slot, 'lease older than the timeout');
    assertUntouched(t, shared, file, young.slot, young.pid, 'lease younger than the timeout');
    assertUntouched(t, shared, file, fresh.slot, fresh.pid, 'fresh lease');
    t.equal(file.claimPid(midWrite.slot), midWrite.pid, 'mid-write row with a fresh lease: kept');
    t.equal(shared.readRow(midWrite.slot), 'unreadable', 'and left as it is');

    file.setLease(midWrite.slot, Date.now() - LEASE_TIMEOUT_MS - 1000);
    t.equal(table.reclaim(), 1, 'the mid-write row is reclaimed once its lease expires');
    assertReclaimed(t, shared, midWrite.slot, 'mid-write row with an expired lease');
    t.equal(table.readMetrics().unreadableRows, 0, 'and it is readable again');
  },
);

t.test(
  'ObservableTaskTable#reclaim(): a slot claimed but never written waits for the lease',
  async (t) => {
    // Between its claim CAS and its first row write, an owner's identity is not in the row
    // yet: only the claim word's pid (meaningless if the owner is in another pid namespace)
    // and the lease stored right after the CAS. Such a slot is reclaimed only when the pid
    // is gone here and the lease is older than a second.
    const { table, shared, file } = open(t);
    const row = claimRow(shared, 'old-task');
    const ended = shared.update(row.slot, row.generation, 3, JSON.stringify({ ended: true }));
    t.equal(ended, 0, 'the first task ended');
    const pid = unusedPid();
    file.setU64(row.slot, ROW.claim, (BigInt(row.generation + 1) << 24n) | BigInt(pid));
    file.setLease(row.slot, Date.now());

    t.equal(table.reclaim(), 0, 'not while the lease is fresh');
    t.equal(file.claimPid(row.slot), pid, 'still claimed');
    file.setLease(row.slot, Date.now() - 1500);
    t.equal(table.reclaim(), 0, 'released, not counted as a reclaimed task');
    t.equal(file.claimPid(row.slot), 0, 'the slot is free again');
    const old = rowAt(shared, row.slot);
    t.equal(old.status, 3, 'the previous task of the slot still reads finished');
    t.equal(old.generation, row.generation, 'with its own generation');
    t.equal(table.readMetrics().slotsUsed, 0, 'no slot leaks');
  },
);

interface NsReport {
  type: 'ready';
  role: 'init' | 'child';
  pid: number;
  namespace: string;
  ids: string[];
}

const cannotUnshare =
  process.getuid?.() !== 0 || spawnSync('unshare', ['--version']).status !== 0
    ? 'needs root and util-linux unshare'
    : false;

t.test(
  'ObservableTaskTable#reclaim(): a live writer in another pid namespace',
  { skip: cannotUnshare },
  async (t) => {
    const { table, shared, file } = open(t, 64);
    const name = table.name;
    // In-namespace pids that name no process here, so that a check by pid would call the
    // child writer dead (the init writer is pid 1, which names init here).
    const free: number[] = [];
    for (let pid = 60; pid < 2000 && free.length < 400; pid++)
      if (!existsSync(`/proc/${pid}`)) free.push(pid);

    const unshare = spawn(
      'unshare',
      [
        '--pid',
        '--fork',
        '--mount-proc',
        process.execPath,
        fixturePath('ns-writer.mjs'),
        'init',
        name,
        free.join(','),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const unshareExit = once(unshare, 'exit');
    t.teardown(async () => {
      if (unshare.exitCode === null && unshare.signalCode === null) {
        killNamespace(unshare.pid as number);
        await unshareExit;
      }
    });
    const reports = new Map<string, NsReport>();
    createInterface({ input: unshare.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const report = JSON.parse(line) as NsReport;
      reports.set(report.role, report);
    });
    await waitFor(() => reports.size === 2, {
      timeoutMs: 20_000,
      what: 'both writers in the new pid namespace to start',
    });
    const init = reports.get('init') as NsReport;
    const child = reports.get('child') as NsReport;
    t.equal(init.pid, 1, 'the init writer is pid 1 in its namespace');
    t.not(init.namespace, readlinkSync('/proc/self/ns/pid'), 'in another pid namespace');
    t.notOk(existsSync(`/proc/${child.pid}`), `the child's pid ${child.pid} names no process here`);
    const theirs = new Set([init.pid, child.pid]);

    // Reclaim as fast as possible while both write at full speed: their rows are often
    // mid-write, and their pids mean nothing (1) or nothing alive (child) here.
    let passes = 0;
    let reclaimed = 0;
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      for (let i = 0; i < 20; i++, passes++) reclaimed += table.reclaim();
      await yieldToEventLoop();
    }
    t.equal(reclaimed, 0, `${passes} reclaim passes took none of their rows`);
    const live = shared.snapshot().rows.filter((row) => theirs.has(row.pid) && row.live);
    const longTasks = [...init.ids, ...child.ids];
    t.ok(
      longTasks.every((id) => live.some((row) => `${row.slot}:${row.generation}` === id)),
      'every long task of both writers is still live',
    );
    t.ok(
      live.every((row) => !row.reclaimed && row.status === RUNNING),
      'and running, not reclaimed',
    );

    // Killed from outside: the lease decides, since their pids cannot be checked here.
    killNamespace(unshare.pid as number);
    await unshareExit;
    const slots = [...Array(shared.layout.maxTasks).keys()].filter((slot) =>
      theirs.has(file.claimPid(slot)),
    );
    t.ok(
      slots.length >= longTasks.length,
      `${slots.length} slots still claimed by the dead writers`,
    );
    t.equal(table.reclaim(), 0, 'not reclaimed while their lease is younger than 15 s');
    for (const slot of slots) file.setLease(slot, Date.now() - LEASE_TIMEOUT_MS + 2000);
    t.equal(table.reclaim(), 0, 'nor with a 13 s old lease');
    for (const slot of slots) file.setLease(slot, Date.now() - LEASE_TIMEOUT_MS - 1000);
    t.equal(table.reclaim(), slots.length, 'every row is reclaimed once the lease is 16 s old');
    for (const id of longTasks) {
      const row = rowAt(shared, Number(id.split(':')[0]));
      t.equal(row.status, FAILED, `${id}: failed`);
      t.match(JSON.parse(row.data), { reason: 'owner_died' }, `${id}: owner_died`);
    }
    const metrics = table.readMetrics();
    t.equal(metrics.slotsUsed, 0, 'no slot leaks');
    t.equal(metrics.unreadableRows, 0, 'no row is left unreadable');
  },
);

/** SIGKILLs the init process of the namespace unshare(1) created (and so all of it). */
function killNamespace(unsharePid: number): void {
  let list = '';
  try {
    list = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8');
  } catch {
    return; // unshare has exited, and its namespace with it
  }
  const children = list.trim().split(/\s+/).filter(Boolean).map(Number);
  for (const pid of children) process.kill(pid, 'SIGKILL');
}
