/**
 * The demo's input: regular files under a directory, and the plan of each task (which
 * file, and which deliberate fault) so that every status shows up at a fixed, known rate.
 */
import { readdir } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';

/** A file to process. */
export interface DemoFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the demo directory: the task's name. */
  name: string;
  /** Top-level subdirectory, or the extension for files at the top level. */
  category: string;
}

/** What a worker should do with one task; sent over IPC, so plain JSON. */
export interface DemoJob {
  /** Global task number, counting on across passes over the directory. */
  index: number;
  path: string;
  name: string;
  category: string;
  /**
   * `stall`: stop reporting mid-file until the inactivity timeout ends the task;
   * `cancel`: run slowly so the primary can cancel it; `none`: just process the file.
   * (Failures need no flag: their path is missing or a directory.)
   */
  fault: 'none' | 'stall' | 'cancel';
  /** A number in [0, 1) derived from the index, to vary each task's pace. */
  jitter: number;
}

/** Message from the primary to a worker. */
export interface JobMessage {
  type: 'job';
  job: DemoJob;
}

/** How a task ended, as its worker saw it. */
export type JobOutcome = 'finished' | 'failed' | 'timed_out' | 'cancelled';

/** Messages from a worker to the primary. */
export type WorkerMessage =
  { type: 'ready' } | { type: 'done'; index: number; outcome: JobOutcome };

/** One task in 50 opens a path that fails (alternately missing and a directory). */
export const FAIL_EVERY = 50;
/** One task in 40 stalls past its inactivity timeout. */
export const STALL_EVERY = 40;
/** One task in 60 is cancelled by the primary while it runs. */
export const CANCEL_EVERY = 60;

/**
 * Lists regular files under `root` (symlinks, sockets and the like are skipped), in
 * sorted order, at most `maxFiles`. Unreadable subdirectories are skipped.
 * @throws the fs error when `root` itself cannot be read.
 */
export async function listDemoFiles(root: string, maxFiles: number): Promise<DemoFile[]> {
  const files: DemoFile[] = [];
  const walk = async (dir: string, isRoot: boolean): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isRoot) throw error;
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= maxFiles) return;
      const path = join(dir, entry.name);
      // Dirent types come from lstat: a symlink is neither a file nor a directory here.
      if (entry.isDirectory()) await walk(path, false);
      else if (entry.isFile()) files.push(describe(root, path));
    }
  };
  await walk(root, true);
  return files;
}

function describe(root: string, path: string): DemoFile {
  const name = relative(root, path);
  const slash = name.indexOf(sep);
  const category = slash > 0 ? name.slice(0, slash) : extname(name).slice(1) || 'files';
  return { path, name, category };
}

/**
 * The job for task number `index`. Faults follow fixed residues of the index (the first
 * stall is task 1, the first failure task 2, the first cancel task 9), so even a short
 * run shows every final status, and a test can rely on it.
 */
export function planJob(index: number, file: DemoFile): DemoJob {
  const jitter = (Math.imul(index + 1, 2654435761) >>> 0) / 2 ** 32;
  const base = { index, category: file.category, jitter };
  if (index % FAIL_EVERY === 2) {
    // A missing file (ENOENT at open) or a directory (EISDIR at the first read).
    if (Math.floor(index / FAIL_EVERY) % 2 === 0) {
      return { ...base, path: `${file.path}.missing`, name: `${file.name}.missing`, fault: 'none' };
    }
    const dir = dirname(file.name);
    return {
      ...base,
      path: dirname(file.path),
      name: dir === '.' ? `.${sep}` : `${dir}${sep}`,
      fault: 'none',
    };
  }
  if (index % STALL_EVERY === 1)
    return { ...base, path: file.path, name: file.name, fault: 'stall' };
  if (index % CANCEL_EVERY === 9)
    return { ...base, path: file.path, name: file.name, fault: 'cancel' };
  return { ...base, path: file.path, name: file.name, fault: 'none' };
}
