/**
 * Error classes of the package. Every class has a stable `code` and carries the values
 * involved; messages say what happened and what to do, and may improve over time, so
 * match on `code` (and the fields), never on the text.
 */

/** The stable codes of the errors this package throws. */
export type ErrorCode =
  | 'ERR_TASK_TABLE_FULL'
  | 'ERR_TASK_TABLE_LAYOUT_MISMATCH'
  | 'ERR_TASK_TABLE_CORRUPT'
  | 'ERR_TASK_TABLE_INCOMPATIBLE'
  | 'ERR_TASK_TABLE_NOT_READY'
  | 'ERR_TASK_TABLE_NOT_FOUND'
  | 'ERR_TASK_TABLE_NO_SPACE'
  | 'ERR_TASK_TABLE_PERMISSION'
  | 'ERR_TASK_TABLE_SHM'
  | 'ERR_TASK_TABLE_CLOSED'
  | 'ERR_TASK_TABLE_READ_ONLY'
  | 'ERR_TASK_TABLE_NATIVE';

/** Base class of every error of this package. */
export class ObservableTaskTableError extends Error {
  /** Stable identifier of the condition. */
  readonly code: ErrorCode;
  /** Name of the table involved. */
  readonly table: string;

  constructor(code: ErrorCode, table: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.table = table;
    // Non-enumerable, like Error's own `name`, so logs show the class without noise.
    Object.defineProperty(this, 'name', {
      value: new.target.name,
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
}

/** Every slot of the table holds a running task. */
export class TaskTableFullError extends ObservableTaskTableError {
  readonly capacity: number;
  constructor(table: string, capacity: number) {
    super(
      'ERR_TASK_TABLE_FULL',
      table,
      `Table "${table}" is full: ${capacity} of ${capacity} rows in use. Create it with a ` +
        `larger maxTasks, or open it with onFull: 'run-untracked'.`,
    );
    this.capacity = capacity;
  }
}

/** The table exists with a layout other than the one `open()` asked for. */
export class TaskTableLayoutMismatchError extends ObservableTaskTableError {
  readonly option: string;
  readonly existing: unknown;
  readonly requested: unknown;
  constructor(table: string, option: string, existing: unknown, requested: unknown) {
    super(
      'ERR_TASK_TABLE_LAYOUT_MISMATCH',
      table,
      `Table "${table}" already exists with ${option}=${format(existing)}, but open() asked ` +
        `for ${option}=${format(requested)}. Open it without ${option} to attach as it is, ` +
        `or remove it first with: task-table rm ${table}`,
    );
    this.option = option;
    this.existing = existing;
    this.requested = requested;
  }
}

/** The table's header or a row holds values no valid table can hold. */
export class TaskTableCorruptError extends ObservableTaskTableError {
  readonly field: string;
  readonly existing: number;
  readonly expected: number;
  constructor(table: string, field: string, existing: number, expected: number, detail: string) {
    super(
      'ERR_TASK_TABLE_CORRUPT',
      table,
      `Table "${table}" is corrupt: ${detail}. Stop its writers and recreate it with: ` +
        `task-table rm ${table}`,
    );
    this.field = field;
    this.existing = existing;
    this.expected = expected;
  }
}

/** The object is not a task table of this package, or one of another layout version. */
export class TaskTableIncompatibleError extends ObservableTaskTableError {
  readonly field: string;
  readonly existing: number;
  readonly expected: number;
  constructor(table: string, field: string, existing: number, expected: number, detail: string) {
    super('ERR_TASK_TABLE_INCOMPATIBLE', table, `Table "${table}" ${detail}`);
    this.field = field;
    this.existing = existing;
    this.expected = expected;
  }
}

/** Another process is still creating the table. */
export class TaskTableNotReadyError extends ObservableTaskTableError {
  constructor(table: string) {
    super(
      'ERR_TASK_TABLE_NOT_READY',
      table,
      `Table "${table}" exists but its creator has not finished initializing it. Retry in a ` +
        `moment. If this persists, the object is not a finished table (another program's, or ` +
        `left by an older version): remove it with task-table rm --force ${table}`,
    );
  }
}

/** Shape of Node's SystemError fields, for errors that come from a system call. */
export interface SystemErrorFields {
  errno: string;
  syscall: string;
  path: string;
}

/** A system call on the shared-memory object failed. */
export class SharedMemoryError extends ObservableTaskTableError implements SystemErrorFields {
  readonly errno: string;
  readonly syscall: string;
  readonly path: string;
  constructor(
    table: string,
    fields: SystemErrorFields,
    message?: string,
    code: ErrorCode = 'ERR_TASK_TABLE_SHM',
  ) {
    super(
      code,
      table,
      message ??
        `Shared memory for table "${table}" failed: ${fields.syscall} ${fields.path} ` +
          `returned ${fields.errno}.`,
    );
    this.errno = fields.errno;
    this.syscall = fields.syscall;
    this.path = fields.path;
  }
}

/** The shared-memory file system cannot hold the table. */
export class TaskTableNoSpaceError extends SharedMemoryError {
  readonly bytesNeeded: number;
  readonly bytesAvailable: number;
  constructor(
    table: string,
    fields: SystemErrorFields,
    bytesNeeded: number,
    bytesAvailable: number,
  ) {
    super(
      table,
      fields,
      `Not enough shared memory for table "${table}": it needs ${bytesNeeded} bytes ` +
        `(${mib(bytesNeeded)}) but ${fields.path.replace(/\/[^/]*$/, '') || '/dev/shm'} has ` +
        `${bytesAvailable} bytes (${mib(bytesAvailable)}) free. Lower maxTasks or dataSize, ` +
        `or give the container more shared memory (docker run --shm-size=256m, or a ` +
        `Kubernetes emptyDir with medium: Memory).`,
      'ERR_TASK_TABLE_NO_SPACE',
    );
    this.bytesNeeded = bytesNeeded;
    this.bytesAvailable = bytesAvailable;
  }
}

/** The process may not open the table (its permission bits or owner forbid it). */
export class TaskTablePermissionError extends SharedMemoryError {
  constructor(table: string, fields: SystemErrorFields) {
    super(
      table,
      fields,
      `Permission denied opening table "${table}" (${fields.path}). Tables are created ` +
        `with mode 0600: run this process as the table's owner, or create the table with ` +
        `a wider mode (for example mode: 0o660 and a shared group).`,
      'ERR_TASK_TABLE_PERMISSION',
    );
  }
}

/** `open({ readOnly: true })` or an unlink named a table that does not exist. */
export class TaskTableNotFoundError extends SharedMemoryError {
  constructor(table: string, fields: SystemErrorFields) {
    super(
      table,
      fields,
      `Table "${table}" does not exist (${fields.path}). Start a process that opens it ` +
        `for writing first, or check the name (env OBSERVABLE_TASK_TABLE).`,
      'ERR_TASK_TABLE_NOT_FOUND',
    );
  }
}

/** A method was called after `close()`. */
export class TaskTableClosedError extends ObservableTaskTableError {
  readonly method: string;
  constructor(table: string, method: string) {
    super(
      'ERR_TASK_TABLE_CLOSED',
      table,
      `Table "${table}" is closed: ${method}() cannot be used after close(). Open it again ` +
        `with ObservableTaskTable.open().`,
    );
    this.method = method;
  }
}

/** A write was attempted through a table opened with `readOnly: true`. */
export class TaskTableReadOnlyError extends ObservableTaskTableError {
  readonly method: string;
  constructor(table: string, method: string) {
    super(
      'ERR_TASK_TABLE_READ_ONLY',
      table,
      `Table "${table}" was opened with readOnly: true, so ${method}() is not available. ` +
        `Open it without readOnly to run or cancel tasks.`,
    );
    this.method = method;
  }
}

function format(value: unknown): string {
  return Array.isArray(value) ? `[${value.join(',')}]` : String(value);
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
