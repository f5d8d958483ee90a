/** `task-table demo` (`npm start`): the main job on real files, with the collector. */
import { isAbsolute, relative, sep } from 'node:path';
import { ObservableTaskTable } from '../../../lib/index.js';
import {
  CliError,
  TABLE_OPTION,
  integerValue,
  positiveNumberValue,
  stringValue,
  type Command,
} from '../args.js';
import { startCollector } from '../collector.js';
import { listDemoFiles } from '../demo-files.js';
import { DemoPool } from '../demo-pool.js';
import { defaultTableName } from '../open-table.js';
import { waitForShutdown } from '../shutdown-signal.js';

const STATUS_LOG_MS = 10_000;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'process real files in worker processes and serve the dashboard (npm start)',
  usage:
    'demo [--dir /usr/share] [--max-files 3000] [--workers 4] [--duration SECONDS]\n' +
    '                 [--host 127.0.0.1] [--port 9464] [--table NAME]',
  description:
    'Starts the collector, then a pool of worker processes that hash (sha256) and gzip every\n' +
    'regular file under --dir, one observed task per file, reporting progress in bytes. Some\n' +
    'tasks fail (missing files, directories), stall past their 2 s inactivity timeout, or are\n' +
    'cancelled, so every status appears. Loops over the files until Ctrl-C or --duration.',
  options: {
    dir: {
      type: 'string',
      placeholder: 'DIR',
      description: 'directory to process (default /usr/share)',
    },
    'max-files': {
      type: 'string',
      placeholder: 'N',
      description: 'process at most N files of the directory (default 3000)',
    },
    workers: { type: 'string', placeholder: 'N', description: 'worker processes (default 4)' },
    duration: {
      type: 'string',
      placeholder: 'SECONDS',
      description: 'stop after this many seconds (default: run until Ctrl-C)',
    },
    host: {
      type: 'string',
      placeholder: 'HOST',
      description: 'collector address (default 127.0.0.1)',
    },
    port: {
      type: 'string',
      placeholder: 'PORT',
      description: 'collector port (default 9464, 0: any free port)',
    },
    table: TABLE_OPTION,
  },
  async run({ values }) {
    const dir = stringValue(values, 'dir') ?? '/usr/share';
    const maxFiles = integerValue(
      values,
      'max-files',
      { min: 1, max: 1_000_000, fallback: 3000 },
      'demo',
    );
    const workers = integerValue(values, 'workers', { min: 1, max: 64, fallback: 4 }, 'demo');
    const duration = positiveNumberValue(values, 'duration', undefined, 'demo');
    const host = stringValue(values, 'host') ?? '127.0.0.1';
    const port = integerValue(values, 'port', { min: 0, max: 65535, fallback: 9464 }, 'demo');
    const name = stringValue(values, 'table');
    const log = (message: string): void => void process.stdout.write(`demo: ${message}\n`);

    let files;
    try {
      files = await listDemoFiles(dir, maxFiles);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new CliError(
        `cannot read directory ${dir}${typeof code === 'string' ? ` (${code})` : ''}; pass --dir`,
      );
    }
    if (files.length === 0) throw new CliError(`no regular files under ${dir}; pass --dir`);

    // The library's default layout, as a plain open() in the user's own code asks for: the
    // table the demo leaves behind is then one that code attaches to without a mismatch.
    // An existing table is used as it is.
    const table = ObservableTaskTable.open({ name });
    try {
      const collector = await startCollector({ tables: [table], host, port, command: 'demo' });
      const pool = new DemoPool({ table, files, workers, log });
      try {
        const tableHint =
          name === undefined || name === defaultTableName() ? '' : ` --table ${table.name}`;
        process.stdout.write(
          `task-table demo: ${files.length} files under ${dir}, ${workers} workers, table "${table.name}"\n` +
            `  dashboard: ${collector.dashboardUrl}\n` +
            `  metrics:   ${collector.metricsUrl}\n` +
            `  in a second terminal: ${selfCommand()} top${tableHint}\n` +
            `  stop with Ctrl-C${duration === undefined ? '' : ` (or after ${duration} s)`}\n`,
        );
        pool.start();
        const status = setInterval(() => log(summary(pool)), STATUS_LOG_MS);
        const reason = await waitForShutdown(duration === undefined ? undefined : duration * 1000);
        clearInterval(status);
        log(`${reason === 'duration' ? `${duration} s elapsed` : reason}; stopping the workers`);
        await pool.stop();
        log(summary(pool));
        // Kept so that `ls` and `top` can still show the rows; say how to clean up.
        log(
          `table "${table.name}" stays in shared memory for task-table ls and top; ` +
            `remove it with: ${selfCommand()} rm ${table.name}`,
        );
      } finally {
        await pool.stop();
        await collector.close();
      }
      return 0;
    } finally {
      table.close();
    }
  },
};

/**
 * How to run this CLI again from the current directory: `npx task-table` where the package
 * is installed (npx finds its bin), `node <path>` in a checkout of the package itself,
 * where npx would look for a package called task-table in the registry instead.
 */
function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (script === '' || script.split(sep).includes('node_modules')) return 'npx task-table';
  const path = relative(process.cwd(), script);
  return `node ${path.startsWith('..') || isAbsolute(path) ? script : path}`;
}

function summary(pool: DemoPool): string {
  const o = pool.outcomes;
  const done = o.finished + o.failed + o.timed_out + o.cancelled;
  return (
    `${done} tasks done of ${pool.dispatched} started: finished ${o.finished}, failed ${o.failed}, ` +
    `timed_out ${o.timed_out}, cancelled ${o.cancelled}`
  );
}
