/** `task-table rm NAME`: removes a table's shared memory. */
import { ObservableTaskTable } from '../../../lib/index.js';
import { argumentUsageError, type Command } from '../args.js';

export const rmCommand: Command = {
  name: 'rm',
  summary: "remove a table's shared memory",
  usage: 'rm NAME',
  description:
    'Removes the shared-memory object of table NAME (/dev/shm/NAME on Linux). Processes that\n' +
    'have it open keep their mapping until they close it; the next open() creates a new table.',
  options: {},
  positionals: { names: ['NAME'], min: 1, max: 1 },
  async run({ positionals }) {
    const name = positionals[0] as string;
    let removed: boolean;
    try {
      removed = ObservableTaskTable.unlink(name);
    } catch (error) {
      // The library rejects names that could not be a table (a '/', a leading '.').
      throw argumentUsageError(error, 'rm', { from: ['name'], to: 'NAME' }) ?? error;
    }
    if (!removed) {
      process.stderr.write(`task-table: no table named "${name}"\n`);
      return 1;
    }
    process.stdout.write(`removed table "${name}"\n`);
    return 0;
  },
};
