/** `task-table serve`: the collector: /metrics, the dashboard, /api/tasks, OTLP push. */
import { setTimeout as sleep } from 'node:timers/promises';

import {
  TaskTableNotFoundError,
  TaskTableNotReadyError,
  type ObservableTaskTable,
} from '../../../lib/index.js';
import {
  UsageError,
  flagValue,
  integerValue,
  stringValue,
  stringValues,
  type Command,
} from '../args.js';
import { startCollector } from '../collector.js';
import { openExistingTable } from '../open-table.js';
import { waitForShutdown, type ShutdownReason } from '../shutdown-signal.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the collector: Prometheus /metrics, dashboard, JSON API, OTLP push',
  usage:
    'serve [--table NAME]... [--host 127.0.0.1] [--port 9464] [--otlp-endpoint URL]\n' +
    '                  [--otlp-interval-ms N] [--cancel-token-env VAR] [--wait]',
  description:
    'Serves one or more existing tables over HTTP: /metrics (Prometheus), /observable_task_table\n' +
    '(live dashboard), /events, /api/tasks and /healthz; optionally pushes the same metrics with\n' +
    'OTLP/HTTP. Tables are opened for writing when permitted, so rows of processes that died\n' +
    'are reclaimed. Stops on Ctrl-C or SIGTERM, after a final OTLP push. A table that does not\n' +
    'exist is an error, unless --wait is given: then serve waits until its writers create it.',
  options: {
    table: {
      type: 'string',
      multiple: true,
      placeholder: 'NAME',
      description:
        'table to serve; repeat for several (default: env OBSERVABLE_TASK_TABLE, else observable-task-table)',
    },
    host: {
      type: 'string',
      placeholder: 'HOST',
      description: 'address to listen on (default 127.0.0.1)',
    },
    port: {
      type: 'string',
      placeholder: 'PORT',
      description: 'port to listen on (default 9464, 0: any free port)',
    },
    'otlp-endpoint': {
      type: 'string',
      placeholder: 'URL',
      description: 'push metrics with OTLP/HTTP to URL, e.g. http://127.0.0.1:4318/v1/metrics',
    },
    'otlp-interval-ms': {
      type: 'string',
      placeholder: 'N',
      description: 'milliseconds between OTLP pushes (default 10000)',
    },
    wait: {
      type: 'boolean',
      description:
        'wait for tables that do not exist yet instead of failing (a collector started next to its app)',
    },
    'cancel-token-env': {
      type: 'string',
      placeholder: 'VAR',
      description: 'enable cancelling tasks over HTTP with the token in environment variable VAR',
    },
  },
  async run({ values }) {
    const host = stringValue(values, 'host') ?? '127.0.0.1';
    const port = integerValue(values, 'port', { min: 0, max: 65535, fallback: 9464 }, 'serve');
    const intervalMs = integerValue(
      values,
      'otlp-interval-ms',
      { min: 100, max: 3_600_000, fallback: 10_000 },
      'serve',
    );
    const endpoint = stringValue(values, 'otlp-endpoint');
    if (endpoint !== undefined && !isHttpUrl(endpoint)) {
      throw new UsageError(
        `--otlp-endpoint must be an http(s) URL (received '${endpoint}')`,
        'serve',
      );
    }
    const tokenVar = stringValue(values, 'cancel-token-env');
    let cancelToken: string | undefined;
    if (tokenVar !== undefined) {
      cancelToken = process.env[tokenVar];
      if (cancelToken === undefined || cancelToken === '') {
        throw new UsageError(
          `environment variable ${tokenVar} (from --cancel-token-env) is empty or not set`,
          'serve',
        );
      }
    }
    const names = [...new Set(stringValues(values, 'table'))];
    const tables: ObservableTaskTable[] = [];
    const failed = new AbortController();
    const shutdown = waitForShutdown(undefined, failed.signal);
    try {
      for (const name of names.length === 0 ? [undefined] : names) {
        const table = await openTable(name, flagValue(values, 'wait'), shutdown);
        if (typeof table === 'string') {
          process.stdout.write(`task-table: ${table} while waiting, stopping\n`);
          return 0;
        }
        tables.push(table);
      }
      const collector = await startCollector({
        tables,
        host,
        port,
        ...(cancelToken === undefined ? {} : { cancelToken }),
        command: 'serve',
      });
      let push: { shutdown(): Promise<void> } | undefined;
      try {
        if (endpoint !== undefined) {
          const { startOtlpPush } = await import('../../otel/index.js');
          const warned = new Set<string>();
          push = startOtlpPush({
            tables,
            endpoint,
            intervalMs,
            // A down endpoint fails every interval; say so once per distinct reason.
            onError: (error) => {
              if (warned.has(error.message)) return;
              warned.add(error.message);
              process.stderr.write(
                `task-table: OTLP push to ${endpoint} failed: ${error.message}\n`,
              );
            },
          });
        }
        const list = tables
          .map((t) => `"${t.name}"${t.layout.readOnly ? ' (read-only)' : ''}`)
          .join(', ');
        process.stdout.write(
          `task-table: serving ${list} on ${collector.url}\n` +
            `  dashboard: ${collector.dashboardUrl}\n` +
            `  metrics:   ${collector.metricsUrl}\n` +
            (endpoint === undefined ? '' : `  OTLP push: ${endpoint} every ${intervalMs} ms\n`),
        );
        const reason = await shutdown;
        process.stdout.write(`task-table: ${reason}, shutting down\n`);
      } finally {
        // The final OTLP export happens in shutdown() (which never rejects): flush before
        // closing the tables.
        await push?.shutdown();
        await collector.close();
      }
      return 0;
    } catch (error) {
      failed.abort();
      throw error;
    } finally {
      for (const table of tables) table.close();
    }
  },
};

/** How often `serve --wait` looks for a table that does not exist yet. */
const WAIT_POLL_MS = 250;

/**
 * Attaches to table `name`; with `wait`, a table that does not exist yet (or is being
 * created) is looked for again until it does, or until `shutdown` settles (returned).
 */
async function openTable(
  name: string | undefined,
  wait: boolean,
  shutdown: Promise<ShutdownReason>,
): Promise<ObservableTaskTable | ShutdownReason> {
  let announced = false;
  for (;;) {
    try {
      return openExistingTable(name, 'prefer-write');
    } catch (error) {
      const absent =
        error instanceof TaskTableNotFoundError || error instanceof TaskTableNotReadyError;
      if (!wait || !absent) throw error;
      if (!announced) {
        process.stdout.write(`task-table: waiting for table "${error.table}" to be created\n`);
        announced = true;
      }
    }
    const stopped = await Promise.race([shutdown, sleep(WAIT_POLL_MS, null, { ref: false })]);
    if (stopped !== null) return stopped;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
