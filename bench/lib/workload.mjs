// Shared plumbing of the bench modules: uniquely named tables that are always unlinked,
// child processes that are always killed, bounded waits, and filling a table with live
// tasks directly through the internal SharedTable (fast, and the owner stays alive).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { ObservableTaskTable } from '../../dist/lib/index.js';
import { STATUS_CODES } from '../../dist/lib/internal/native.js';
import { SharedTable } from '../../dist/lib/internal/shared-table.js';
import { resolveTableOptions } from '../../dist/lib/options.js';

export { STATUS_CODES };

const tableNames = new Set();
const children = new Set();
let tableCounter = 0;

/** A table name no other run uses; unlinked by cleanup() even when the run fails. */
export function uniqueTableName(label) {
  const name = `ott-bench-${process.pid}-${++tableCounter}-${label}`;
  tableNames.add(name);
  return name;
}

/** Opens the internal SharedTable (a writer handle) with the given options. */
export function openShared(options) {
  return SharedTable.open(resolveTableOptions(options));
}

/** Registers a process (a server, a child) to be killed by cleanup() at the latest. */
export function trackProcess(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Unlinks one table now (its handles must be closed by the caller first). */
export function unlinkTable(name) {
  try {
    ObservableTaskTable.unlink(name);
  } catch {
    // Already gone, or never created: nothing to clean.
  }
  tableNames.delete(name);
}

/** Kills every child still running and unlinks every table this run created. */
export function cleanup() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const name of [...tableNames]) unlinkTable(name);
}

/** Rejects after `ms` with a message naming `what`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Path of bench/fixtures/<name>. */
export function fixturePath(name) {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * Forks bench/fixtures/<name> with IPC. The child is killed by cleanup() at the latest;
 * `next(type, ms)` waits (bounded) for its next message of that type.
 */
export function forkFixture(name, args = [], { execArgv = [] } = {}) {
  const child = fork(fixturePath(name), args.map(String), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  children.add(child);
  // A child that has just exited may still look connected: a late send fails with EPIPE,
  // which must not become an unhandled 'error' event of the bench process.
  child.on('error', () => {});
  const post = (message) => {
    if (child.connected) child.send(message, () => {});
  };
  const queue = [];
  const waiters = [];
  let exited = null;
  child.on('message', (message) => {
    const i = waiters.findIndex((w) => w.types.includes(message?.type));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(message);
    else queue.push(message);
  });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
    for (const w of waiters.splice(0)) {
      w.reject(
        new Error(`fixture ${name} exited (code ${code}, signal ${signal}) before '${w.types}'`),
      );
    }
  });
  return {
    child,
    send: post,
    /**
     * The next message whose type is `type` (or one of them), within `ms`. A message of
     * type 'error' rejects (fixtures report their failures that way).
     */
    async next(type, ms = 30000) {
      const types = [type, 'error'].flat();
      let message;
      const i = queue.findIndex((m) => types.includes(m?.type));
      if (i >= 0) {
        message = queue.splice(i, 1)[0];
      } else {
        if (exited !== null) throw new Error(`fixture ${name} already exited before '${type}'`);
        const waiter = {};
        const waiting = new Promise((resolve, reject) => {
          Object.assign(waiter, { types, resolve, reject });
          waiters.push(waiter);
        });
        try {
          message = await withTimeout(waiting, ms, `fixture ${name} waiting for '${type}'`);
        } finally {
          const k = waiters.indexOf(waiter);
          if (k >= 0) waiters.splice(k, 1);
        }
      }
      if (message.type === 'error' && !types.slice(0, -1).includes('error')) {
        throw new Error(`fixture ${name}: ${message.message}`);
      }
      return message;
    },
    /** Asks the child to stop, then kills it if it has not exited within `ms`. */
    async stop(ms = 5000) {
      if (exited !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      post({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** The 50 category names of the scrape workload (or `count` of them). */
export function categoryNames(count = 50) {
  return Array.from({ length: count }, (_, i) => `category-${String(i).padStart(2, '0')}`);
}

/**
 * Fills `shared` with `count` live tasks over `categories`: one in ten stays pending, the
 * others are running with small JSON data and a progress value, as a real workload's
 * rows look. Before that, `history` tasks run to a final status (mixed) so that the
 * counters and histograms hold values. Returns the live claims.
 */
export function fillTable(shared, count, { categories = categoryNames(), history = 0 } = {}) {
  const finals = [
    STATUS_CODES.finished,
    STATUS_CODES.failed,
    STATUS_CODES.cancelled,
    STATUS_CODES.timed_out,
  ];
  for (let i = 0; i < history; i++) {
    const claim = shared.claim(`done-${i}`, categories[i % categories.length], 0);
    if (claim === null) throw new Error(`table ${shared.name} full after ${i} history tasks`);
    shared.update(claim.slot, claim.generation, STATUS_CODES.running, undefined);
    const status = finals[i % 7 === 0 ? 1 + (i % 3) : 0];
    shared.update(claim.slot, claim.generation, status, JSON.stringify({ i }));
  }
  const claims = [];
  for (let i = 0; i < count; i++) {
    const claim = shared.claim(`task-${i}.bin`, categories[i % categories.length], 60000);
    if (claim === null) throw new Error(`table ${shared.name} full after ${i} live tasks`);
    if (i % 10 !== 0) {
      const data = JSON.stringify({ file: `input-${i}.bin`, bytes: i * 1024 });
      shared.update(claim.slot, claim.generation, STATUS_CODES.running, data, (i % 100) / 100);
    }
    claims.push(claim);
  }
  return claims;
}

/** Ends `claims` (each row finished), releasing their slots. */
export function finishAll(shared, claims) {
  for (const claim of claims) {
    shared.update(claim.slot, claim.generation, STATUS_CODES.finished, undefined);
  }
}

/** Resolves after `ms` (used to pace fixtures, never to wait for a condition). */
export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
