/**
 * Options of {@link ObservableTaskTable.open}: defaults, validation and the environment
 * default, all resolved in one place (`resolveTableOptions`) before anything reaches C++.
 */
import {
  checkInteger,
  checkObject,
  checkString,
  invalidType,
  invalidValue,
  outOfRange,
} from './internal/validate.js';
import { LIMITS } from './internal/limits.js';

/** What `observe()` and `run()` do when every slot is taken. */
export type OnFullPolicy = 'throw' | 'run-untracked';

/** Options of `ObservableTaskTable.open()`. */
export interface ObservableTaskTableOptions {
  /**
   * Name of the shared-memory object (`/dev/shm/<name>` on Linux): letters, digits, `.`,
   * `_` and `-`, 1 to 200 characters, not starting with `.`. Default: the environment
   * variable `OBSERVABLE_TASK_TABLE`, else `observable-task-table`.
   */
  name?: string;
  /** Number of rows, i.e. tasks that can run at once. 1 to 1,000,000. Default 10000. */
  maxTasks?: number;
  /**
   * Bytes of serialized JSON data per row. 64 to 1,048,576. Default 1024. Data that does
   * not fit is replaced by a small marker and counted (reason `data_too_large`).
   */
  dataSize?: number;
  /**
   * Distinct categories with their own counters. 1 to 65535. Default 256. Further
   * categories are counted under `other` (reason `categories`).
   */
  maxCategories?: number;
  /**
   * Upper bounds, in seconds, of the duration and wait-time histogram buckets: 1 to 32
   * strictly ascending positive numbers. Default 10 ms to 1 hour (17 buckets).
   */
  durationBuckets?: readonly number[];
  /** Attach only: never create, never write. Default false. */
  readOnly?: boolean;
  /** Permission bits of a table this call creates. Default 0o600 (owner only). */
  mode?: number;
  /** What to do when the table is full. Default 'throw'. */
  onFull?: OnFullPolicy;
  /**
   * Directory of the shared-memory file system (Linux). Default `/dev/shm`. Point it at
   * another tmpfs to size or isolate tables.
   */
  directory?: string;
  /**
   * How often, in milliseconds, the owning process checks its running tasks for cancel
   * requests and refreshes their liveness lease. 5 to 1000. Default 20.
   */
  watchIntervalMs?: number;
}

/** Options after defaults; `explicit` lists the layout options the caller passed. */
export interface ResolvedTableOptions {
  name: string;
  maxTasks: number;
  dataSize: number;
  maxCategories: number;
  durationBuckets: readonly number[];
  readOnly: boolean;
  mode: number;
  onFull: OnFullPolicy;
  directory: string;
  watchIntervalMs: number;
  explicit: ReadonlySet<'maxTasks' | 'dataSize' | 'maxCategories' | 'durationBuckets'>;
}

/** Default histogram bounds in seconds: 10 ms to 1 hour. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
]);

/** The defaults of every option except `name` (which comes from the environment). */
export const DEFAULT_TABLE_OPTIONS = Object.freeze({
  name: 'observable-task-table',
  maxTasks: 10000,
  dataSize: 1024,
  maxCategories: 256,
  durationBuckets: DEFAULT_DURATION_BUCKETS,
  readOnly: false,
  mode: 0o600,
  onFull: 'throw' as OnFullPolicy,
  directory: '/dev/shm',
  watchIntervalMs: 20,
});

/** Environment variable that names the default table. */
export const TABLE_NAME_ENV = 'OBSERVABLE_TASK_TABLE';

const TABLE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

const KNOWN_OPTIONS = new Set<string>([
  'name',
  'maxTasks',
  'dataSize',
  'maxCategories',
  'durationBuckets',
  'readOnly',
  'mode',
  'onFull',
  'directory',
  'watchIntervalMs',
]);

/** Likely misspellings, each with the option it was meant to be. */
const TYPO_HINTS: Record<string, string> = {
  readonly: 'readOnly',
  read_only: 'readOnly',
  maxtasks: 'maxTasks',
  max_tasks: 'maxTasks',
  size: 'maxTasks',
  capacity: 'maxTasks',
  datasize: 'dataSize',
  data_size: 'dataSize',
  buckets: 'durationBuckets',
  maxcategories: 'maxCategories',
  onfull: 'onFull',
  dir: 'directory',
  path: 'directory',
};

/** Checks a table name; throws a TypeError naming `path`. */
export function validateTableName(value: unknown, path = 'options.name'): string {
  const name = checkString(path, value);
  if (!TABLE_NAME.test(name)) {
    throw invalidValue(
      path,
      "must be 1 to 200 letters, digits, '.', '_' or '-', not starting with '.' (no '/')",
      value,
    );
  }
  return name;
}

/** Applies defaults, validates every option and returns the resolved set. */
export function resolveTableOptions(options: unknown = {}): ResolvedTableOptions {
  const input = checkObject('options', options ?? {});
  for (const key of Object.keys(input)) {
    if (KNOWN_OPTIONS.has(key)) continue;
    const hint = TYPO_HINTS[key] ?? TYPO_HINTS[key.toLowerCase()];
    throw invalidValue(
      `options.${key}`,
      hint
        ? `is not an option; did you mean ${hint}?`
        : `is not an option of ObservableTaskTable.open()`,
      input[key],
    );
  }
  const explicit = new Set<'maxTasks' | 'dataSize' | 'maxCategories' | 'durationBuckets'>();
  const envName = process.env[TABLE_NAME_ENV];
  const defaultName =
    envName !== undefined && envName !== '' ? envName : DEFAULT_TABLE_OPTIONS.name;
  const name = validateTableName(
    // Only a missing name takes the default: `name: null` is a mistake, not "the default
    // table", and must not attach to (or create) a table nobody named.
    input.name !== undefined ? input.name : defaultName,
    input.name === undefined && envName ? `env ${TABLE_NAME_ENV}` : 'options.name',
  );
  const integer = (
    key: 'maxTasks' | 'dataSize' | 'maxCategories',
    min: number,
    max: number,
  ): number => {
    if (input[key] === undefined) return DEFAULT_TABLE_OPTIONS[key];
    explicit.add(key);
    return checkInteger(`options.${key}`, input[key], min, max);
  };
  const maxTasks = integer('maxTasks', 1, LIMITS.maxTasks);
  const dataSize = integer('dataSize', LIMITS.minDataSize, LIMITS.maxDataSize);
  const maxCategories = integer('maxCategories', 1, LIMITS.maxCategories);
  let durationBuckets = DEFAULT_DURATION_BUCKETS;
  if (input.durationBuckets !== undefined) {
    explicit.add('durationBuckets');
    durationBuckets = validateBuckets(input.durationBuckets);
  }
  const readOnly = input.readOnly ?? false;
  if (typeof readOnly !== 'boolean') throw invalidType('options.readOnly', 'a boolean', readOnly);
  const mode =
    input.mode === undefined
      ? DEFAULT_TABLE_OPTIONS.mode
      : checkInteger('options.mode', input.mode, 0, 0o777);
  if ((mode & 0o600) !== 0o600) {
    throw outOfRange(
      'options.mode',
      'permission bits that let the owner read and write (0o600 at least)',
      mode,
    );
  }
  const onFull = input.onFull ?? DEFAULT_TABLE_OPTIONS.onFull;
  if (onFull !== 'throw' && onFull !== 'run-untracked') {
    throw invalidValue('options.onFull', "must be 'throw' or 'run-untracked'", onFull);
  }
  const directory =
    input.directory === undefined
      ? DEFAULT_TABLE_OPTIONS.directory
      : checkString('options.directory', input.directory);
  if (!directory.startsWith('/') || directory.includes('\0')) {
    throw invalidValue('options.directory', 'must be an absolute path', directory);
  }
  const watchIntervalMs =
    input.watchIntervalMs === undefined
      ? DEFAULT_TABLE_OPTIONS.watchIntervalMs
      : checkInteger('options.watchIntervalMs', input.watchIntervalMs, 5, 1000);
  return {
    name,
    maxTasks,
    dataSize,
    maxCategories,
    durationBuckets,
    readOnly,
    mode,
    onFull,
    directory: directory.replace(/\/+$/, '') || '/',
    watchIntervalMs,
    explicit,
  };
}

function validateBuckets(value: unknown): readonly number[] {
  if (!Array.isArray(value))
    throw invalidType('options.durationBuckets', 'an array of numbers', value);
  if (value.length < 1 || value.length > LIMITS.maxBuckets) {
    throw outOfRange(
      'options.durationBuckets',
      `an array of 1 to ${LIMITS.maxBuckets} bounds`,
      value,
    );
  }
  value.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0) {
      throw outOfRange(
        `options.durationBuckets[${i}]`,
        'a positive finite number of seconds',
        bound,
      );
    }
    if (i > 0 && bound <= (value[i - 1] as number)) {
      throw outOfRange(
        `options.durationBuckets[${i}]`,
        `greater than ${value[i - 1]} (ascending)`,
        bound,
      );
    }
  });
  return Object.freeze([...(value as number[])]);
}
