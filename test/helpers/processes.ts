// Child processes and worker threads for cross-process tests: every one is bounded in
// time and killed in teardown, so a hung fixture fails its test instead of hanging CI.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Test } from 'tap';

import { fixturePath } from './index.js';

export interface FixtureResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Output of every forked fixture, read from the moment it starts: an unread pipe fills
 * (64 KiB) and then blocks the child's next write to stdout or stderr, which are
 * synchronous for pipes on Linux, so a chatty fixture would hang until someone read it.
 */
const outputs = new WeakMap<ChildProcess, { stdout: string; stderr: string }>();

/** What `child` (forked by forkFixture) has written so far. */
export function outputOf(child: ChildProcess): { stdout: string; stderr: string } {
  return outputs.get(child) ?? { stdout: '', stderr: '' };
}

/** Forks test/fixtures/<name> with IPC; killed with SIGKILL in t's teardown. */
export function forkFixture(
  t: Pick<Test, 'teardown'>,
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const child = fork(fixturePath(name), args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output = { stdout: '', stderr: '' };
  outputs.set(child, output);
  child.stdout?.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output.stderr += d.toString()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Collects a child's output and waits (bounded) for it to exit. */
export async function waitForExit(child: ChildProcess, timeoutMs = 15000): Promise<FixtureResult> {
  let output = outputs.get(child);
  if (output === undefined) {
    // Not forked by forkFixture: read from now on.
    const own = { stdout: '', stderr: '' };
    child.stdout?.on('data', (d: Buffer) => (own.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (own.stderr += d.toString()));
    output = own;
  }
  const result = (
    code: number | null,
    signal: NodeJS.Signals | null,
    note = '',
  ): FixtureResult => ({
    code,
    signal,
    stdout: output.stdout,
    stderr: output.stderr + note,
  });
  if (child.exitCode !== null || child.signalCode !== null) {
    return result(child.exitCode, child.signalCode);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return result(
    code,
    signal,
    signal === 'SIGKILL' && timeoutMs > 0 ? `\n[killed after ${timeoutMs} ms]` : '',
  );
}

/** Resolves with the next IPC message matching `predicate` (bounded). */
/** Anything that emits 'message': a child process or a worker thread. */
export interface MessageSource {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

export function nextMessage<T = Record<string, unknown>>(
  child: MessageSource,
  predicate: (message: T) => boolean = () => true,
  timeoutMs = 10000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no matching message within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(message: unknown): void {
      if (!predicate(message as T)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    }
    child.on('message', onMessage);
  });
}
