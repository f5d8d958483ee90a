/** `task-table cancel ID`: asks the process that runs a task to cancel it. */
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinalStatus } from '../../../lib/index.js';
import { TABLE_OPTION, UsageError, integerValue, stringValue, type Command } from '../args.js';
import { sanitize } from '../format.js';
import { openExistingTable } from '../open-table.js';

const TASK_ID = /^\d{1,7}:\d{1,15}$/;

export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'ask the owner of a running task to cancel it',
  usage: 'cancel ID [--table NAME] [--wait-ms N]',
  description:
    'Sets the cancel-request flag of task ID (as `task-table ls` shows it, e.g. 12:3). The\n' +
    "process that runs the task aborts the task's signal and the row ends cancelled. Exits 0\n" +
    'once the request is made, 1 when there is no such running task.',
  options: {
    table: TABLE_OPTION,
    'wait-ms': {
      type: 'string',
      placeholder: 'N',
      description: 'wait up to N ms for the owner to end the row (default 2000, 0: do not wait)',
    },
  },
  positionals: { names: ['ID'], min: 1, max: 1 },
  async run({ values, positionals }) {
    const id = positionals[0] as string;
    if (!TASK_ID.test(id)) {
      throw new UsageError(
        `'${id}' is not a task id (ids look like 12:3; task-table ls shows them)`,
        'cancel',
      );
    }
    const waitMs = integerValue(
      values,
      'wait-ms',
      { min: 0, max: 600_000, fallback: 2000 },
      'cancel',
    );
    const table = openExistingTable(stringValue(values, 'table'), 'write');
    try {
      const row = table.getRow(id);
      if (row === null || isFinalStatus(row.status) || !table.cancel(id)) {
        const now = row === null ? '' : ` (it has ended: ${row.status})`;
        process.stderr.write(
          `task-table: no running task with id ${id} in table "${table.name}"${now}\n`,
        );
        return 1;
      }
      process.stdout.write(
        `cancel requested for task ${id} "${sanitize(row.name)}" (pid ${row.pid})\n`,
      );
      // The owner polls its cancel flags (every 20 ms by default); report what it did.
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline) {
        const status = table.getStatus(id)?.status;
        if (status === undefined || isFinalStatus(status)) {
          process.stdout.write(`task ${id} ended: ${status ?? 'its slot was reused'}\n`);
          return 0;
        }
        await sleep(20);
      }
      if (waitMs > 0) {
        process.stdout.write(
          `task ${id} is still running; its owner (pid ${row.pid}) has not acted yet\n`,
        );
      }
      return 0;
    } finally {
      table.close();
    }
  },
};
