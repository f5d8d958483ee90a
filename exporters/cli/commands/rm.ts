/** `task-table rm NAME`: removes a table's shared memory. */
import {
  ObservableTaskTable,
  ObservableTaskTableError,
  TaskTableCorruptError,
  TaskTableIncompatibleError,
  TaskTableNotReadyError,
  TaskTablePermissionError,
} from '../../../lib/index.js';
import { CliError, argumentUsageError, flagValue, type Command } from '../args.js';

export const rmCommand: Command = {
  name: 'rm',
  summary: "remove a table's shared memory",
  usage: 'rm NAME [--force]',
  description:
    'Removes the shared-memory object of table NAME (/dev/shm/NAME on Linux). Processes that\n' +
    'have it open keep their mapping until they close it; the next open() creates a new table.\n' +
    'Refuses an object that is not an observable-task-table (no header, or one with another\n' +
    'magic number) unless --force. A corrupt table, or one of another layout version, is removed.',
  options: {
    force: {
      type: 'boolean',
      description: 'remove NAME even when it is not an observable-task-table',
    },
  },
  positionals: { names: ['NAME'], min: 1, max: 1 },
  async run({ values, positionals }) {
    const name = positionals[0] as string;
    let removed: boolean;
    try {
      if (!flagValue(values, 'force')) checkIsTable(name);
      removed = ObservableTaskTable.unlink(name);
    } catch (error) {
      // The library rejects names that could not be a table (a '/', a leading '.').
      throw (
        argumentUsageError(error, 'rm', { from: ['options.name', 'name'], to: 'NAME' }) ?? error
      );
    }
    if (!removed) {
      process.stderr.write(`task-table: no table named "${name}"\n`);
      return 1;
    }
    process.stdout.write(`removed table "${name}"\n`);
    return 0;
  },
};

/**
 * Attaches read-only to check that `name` holds an observable-task-table's header: the
 * same check open() makes. An object with our magic number is a table, even a corrupt one
 * or one of another layout version: removing those is what rm is for. An object without a
 * header (too short, or its magic still 0) is not one: on Linux a table appears under its
 * name only once its header is written, so that is another program's object, or a
 * leftover of an older version, and is removed only with --force.
 * @throws {CliError} when the object is not a table, or cannot be read to tell.
 */
function checkIsTable(name: string): void {
  try {
    ObservableTaskTable.open({ name, readOnly: true }).close();
  } catch (error) {
    const force = `to remove it anyway: task-table rm --force ${name}`;
    if (error instanceof TaskTableIncompatibleError && error.field === 'magic') {
      throw new CliError(
        `"${name}" is not an observable-task-table (its header has another magic number); ${force}`,
      );
    }
    if (error instanceof TaskTableCorruptError && error.field === 'file size') {
      throw new CliError(
        `"${name}" is too short (${error.existing} bytes) to be an observable-task-table; ${force}`,
      );
    }
    if (error instanceof TaskTableNotReadyError) {
      throw new CliError(
        `"${name}" has no table header (another program's object, or a table still being ` +
          `created); ${force}`,
      );
    }
    if (error instanceof TaskTablePermissionError) {
      throw new CliError(
        `cannot read "${name}" to check that it is an observable-task-table (${error.errno}); ${force}`,
      );
    }
    // Corrupt, another layout version, or missing (unlink() says so).
    if (error instanceof ObservableTaskTableError) return;
    throw error;
  }
}
