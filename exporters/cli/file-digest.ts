/**
 * The demo's unit of work: read a file in chunks, hash it (sha256) and gzip it (counting
 * the compressed bytes, discarding them), reporting progress in bytes. Reading is paced
 * so that a task stays visible for a while; it is a demo.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import type { TaskReport } from '../../lib/index.js';

/** The result a finished task records. */
export interface FileDigest {
  bytes: number;
  gzipBytes: number;
  sha256: string;
}

/** How to process one file. */
export interface DigestOptions {
  report: TaskReport;
  signal: AbortSignal;
  /** How long a file of `size` bytes should take, in ms (reading is slowed to match). */
  durationMs(size: number): number;
  /** Stop reporting once this fraction is read and wait for the signal (a stuck task). */
  stallAt?: number;
}

const MAX_CHUNK = 64 * 1024;
const MIN_CHUNK = 1024;
/** Longest pause between two reports, well under the demo's 2 s inactivity timeout. */
const MAX_PAUSE_MS = 400;

/**
 * Processes `path`. Rejects with the fs error for a missing or unreadable file, and with
 * the signal's reason once the task is cancelled or times out.
 */
export async function digestFile(path: string, options: DigestOptions): Promise<FileDigest> {
  const { report, signal } = options;
  const handle = await open(path, 'r');
  const gzip = createGzip();
  try {
    const { size } = await handle.stat();
    const hash = createHash('sha256');
    let gzipBytes = 0;
    gzip.on('data', (chunk: Buffer) => {
      gzipBytes += chunk.length;
    });
    // About ten reports per file, so a small file's progress bar moves too.
    const chunkSize = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.ceil(size / 10)));
    const targetMs = options.durationMs(size);
    const started = Date.now();
    let bytes = 0;
    let reported = 0;
    report.progress(0);
    for (;;) {
      signal.throwIfAborted();
      // A fresh buffer per read: gzip may still hold the previous chunk.
      const { bytesRead, buffer } = await handle.read(
        Buffer.allocUnsafe(chunkSize),
        0,
        chunkSize,
        null,
      );
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      bytes += bytesRead;
      hash.update(chunk);
      if (!gzip.write(chunk)) await once(gzip, 'drain', { signal });
      const fraction = size > 0 ? Math.min(1, bytes / size) : 1;
      if (options.stallAt !== undefined && fraction >= options.stallAt) {
        // Stuck on something that never answers; only the signal ends this wait.
        await sleep(2 ** 31 - 1, undefined, { signal });
      }
      // The chunk counts as done at the paced time, so the bar moves at the paced rate
      // and reaches 100% only when the task is about to finish.
      await pace(started, targetMs * fraction, report, reported, signal);
      report.progress(fraction);
      reported = fraction;
    }
    gzip.end();
    await once(gzip, 'end', { signal });
    await pace(started, targetMs, report, reported, signal);
    report.progress(1);
    const digest = { bytes, gzipBytes, sha256: hash.digest('hex') };
    return digest;
  } finally {
    gzip.destroy();
    await handle.close();
  }
}

/** Waits until `dueMs` after `started`, reporting at least every MAX_PAUSE_MS. */
async function pace(
  started: number,
  dueMs: number,
  report: TaskReport,
  fraction: number,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    const wait = started + dueMs - Date.now();
    if (wait <= 0) return;
    await sleep(Math.min(wait, MAX_PAUSE_MS), undefined, { signal });
    report.progress(fraction);
  }
}
