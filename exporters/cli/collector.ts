/**
 * Starting the HTTP collector for `serve` and `demo`, with the CLI's error messages: a
 * busy port or an unusable address is one clear line, not a stack trace.
 */
import type { ObservableTaskTable } from '../../lib/index.js';
import { CliError, UsageError } from './args.js';

/** Options of {@link startCollector}. */
export interface CollectorOptions {
  tables: ObservableTaskTable[];
  host: string;
  /** 0 picks a free port. */
  port: number;
  cancelToken?: string;
  /** The command whose flags these are, for the usage hint of a bad value. */
  command: string;
}

/** The command-line flag behind each server option the CLI passes on. */
const OPTION_FLAGS: Record<string, string> = {
  host: '--host',
  port: '--port',
  cancelToken: 'the token in the variable named by --cancel-token-env',
};

/** A started collector and the URLs to print. */
export interface RunningCollector {
  url: string;
  dashboardUrl: string;
  metricsUrl: string;
  apiUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the collector server. Loaded on demand so that `ls`, `top` and the other
 * read-only commands never pay for loading prom-client.
 * @throws {CliError} when the port is in use or the address cannot be bound.
 */
export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const { createCollectorServer } = await import('../http/index.js');
  let server: ReturnType<typeof createCollectorServer>;
  try {
    server = createCollectorServer({
      tables: options.tables,
      host: options.host,
      port: options.port,
      ...(options.cancelToken === undefined ? {} : { cancelToken: options.cancelToken }),
    });
  } catch (error) {
    // The server validates its options at setup with TypeError/RangeError naming
    // `options.<key>`; on the command line that is bad usage of the flag behind the key,
    // one line without a stack trace. The message never contains the value of a token.
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    const message = error.message.replace(
      /^options\.(\w+)/,
      (whole, key: string) => OPTION_FLAGS[key] ?? whole,
    );
    throw new UsageError(message, options.command);
  }
  let address: { url: string; host: string; port: number };
  try {
    address = await server.listen();
  } catch (error) {
    await server.close().catch(() => undefined);
    throw new CliError(describeListenError(error, options.host, options.port), { cause: error });
  }
  const at = (path: string): string => new URL(path, address.url).href;
  return {
    url: address.url,
    dashboardUrl: at('/observable_task_table'),
    metricsUrl: at('/metrics'),
    apiUrl: at('/api/tasks'),
    close: () => server.close(),
  };
}

function describeListenError(error: unknown, host: string, port: number): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is in use; pass --port`;
  if (code === 'EACCES')
    return `no permission to listen on port ${port} on ${host}; pass --port above 1023`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot listen on ${host}: no such local address; pass --host`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `cannot listen on ${host}:${port}: ${message}`;
}
