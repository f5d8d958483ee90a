// Shared test helpers (style.md 2.8). Only node: modules, so helpers load before the
// addon is built and never hide a failure of the code under test.

import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

const TEST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES_DIR = join(TEST_DIR, 'fixtures');

/** Table names accepted by the library: a POSIX shm name without the leading slash. */
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;

let tableCounter = 0;

/**
 * Returns a table name no other test (in this or a parallel test process) will use, and
 * registers a teardown on `t` that removes the shared-memory object if the test left it
 * behind. The name matches TABLE_NAME_PATTERN and never starts with '.'.
 */
export function uniqueTableName(t: Pick<Test, 'teardown'>): string {
  tableCounter += 1;
  const name = `ott-test-${process.pid}-${tableCounter}-${randomBytes(4).toString('hex')}`;
  t.teardown(() => removeShm(name));
  return name;
}

export interface WaitForOptions {
  /** Give up after this many milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Delay between two polls, in milliseconds. Default 10. */
  intervalMs?: number;
  /** What is being waited for, used in the timeout error message. */
  what?: string;
}

/**
 * Polls `predicate` until it returns (or resolves to) true, and rejects once `timeoutMs`
 * has passed without that. An exception from the predicate rejects at once. Use instead of
 * fixed sleeps: every wait in a test is bounded.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, intervalMs = 10, what = 'condition' }: WaitForOptions = {},
): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let polls = 0;
  for (;;) {
    polls += 1;
    if (await predicate()) return;
    const now = Date.now();
    if (now >= deadline) {
      throw new Error(
        `waitFor: timed out after ${now - started} ms (limit ${timeoutMs} ms, ` +
          `${polls} polls) waiting for ${what}`,
      );
    }
    await sleep(Math.min(intervalMs, deadline - now));
  }
}

/**
 * Deletes the shared-memory object `/dev/shm/<name>` if it exists. On platforms without
 * /dev/shm (macOS) this does nothing; tests there rely on ObservableTaskTable.unlink().
 */
export async function removeShm(name: string): Promise<void> {
  if (!TABLE_NAME_PATTERN.test(name) || name.startsWith('.')) {
    throw new TypeError(`removeShm: refusing unsafe shared-memory name ${JSON.stringify(name)}`);
  }
  try {
    await rm(join('/dev/shm', name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Absolute path of `test/fixtures/<name>`. */
export function fixturePath(name: string): string {
  return join(FIXTURES_DIR, name);
}
