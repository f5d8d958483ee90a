/**
 * Options of the collector server: the one interface, its defaults, and their validation
 * (style.md 2.5), done once before anything listens.
 */
import { createHash } from 'node:crypto';

import type { ObservableTaskTable } from '../../lib/index.js';
import { checkTableSource } from '../table-snapshot.js';

/** Options of {@link createCollectorServer}. */
export interface CollectorServerOptions {
  /** The tables to serve. Each name at most once. */
  tables: ObservableTaskTable[];
  /** Address to bind. Default `127.0.0.1`: only this host can connect. */
  host?: string;
  /** TCP port. Default 9464 (the Prometheus exporter convention); 0 picks a free port. */
  port?: number;
  /**
   * Enables `POST /api/tasks/:table/:id/cancel` for requests carrying
   * `Authorization: Bearer <cancelToken>`: 16 to 1024 printable ASCII characters. Without
   * it the route does not exist and nothing served can change a table.
   */
  cancelToken?: string;
  /**
   * Milliseconds between two polls of the tables for live updates (only while a dashboard
   * is connected) and between two reclaims of dead owners' rows. 100 to 60000. Default 1000.
   */
  pollIntervalMs?: number;
  /**
   * Milliseconds a client may take to send its request headers; a request that takes
   * longer is answered 408 and closed. Twice this bounds the whole request (headers and
   * body), and a connection on which nothing is sent or received for three times this long
   * (a client that stopped reading its response, say) is closed; a live /events stream,
   * written once per poll, gets at least three poll intervals. 100 to 60000. Default 10000.
   */
  headersTimeoutMs?: number;
  /** Most live (/events) clients at once; more get 503. 1 to 10000. Default 100. */
  maxEventClients?: number;
  /**
   * Host names (without port) that requests may carry in their Host header when the
   * server listens on a loopback address. Default: `localhost`, `127.0.0.1`, `[::1]` and
   * `host`. Requests naming another host get 403, which stops DNS-rebinding pages from
   * reading the tasks through a local browser. Ignored for non-loopback addresses.
   */
  allowedHosts?: string[];
}

/** The defaults of {@link CollectorServerOptions}. */
export const DEFAULT_COLLECTOR_OPTIONS = Object.freeze({
  host: '127.0.0.1',
  port: 9464,
  pollIntervalMs: 1000,
  headersTimeoutMs: 10_000,
  maxEventClients: 100,
});

/** Internal. The options after defaults and validation. */
export interface ResolvedCollectorOptions {
  tables: readonly ObservableTaskTable[];
  host: string;
  port: number;
  pollIntervalMs: number;
  headersTimeoutMs: number;
  maxEventClients: number;
  /** SHA-256 of the cancel token, or null when cancelling is not enabled. */
  cancelTokenHash: Buffer | null;
  /** Host names a request may name, or null to accept any (non-loopback address). */
  allowedHosts: ReadonlySet<string> | null;
}

function checkInteger(path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${path} must be an integer from ${min} to ${max} (received ${String(value)})`,
    );
  }
  return value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** "[::1]" for an IPv6 literal, as URL.hostname writes it; other names unchanged. */
function hostKey(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/**
 * Applies defaults and validates every option.
 * @throws {TypeError|RangeError} naming the option.
 */
export function resolveCollectorOptions(options: CollectorServerOptions): ResolvedCollectorOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  if (!Array.isArray(options.tables)) {
    throw new TypeError('options.tables must be an array of ObservableTaskTable');
  }
  const tables = checkTableSource(
    'options.tables',
    options.tables,
  ) as readonly ObservableTaskTable[];
  const d = DEFAULT_COLLECTOR_OPTIONS;
  const host = options.host ?? d.host;
  if (typeof host !== 'string' || host === '')
    throw new TypeError('options.host must be a non-empty string');
  const integer = (
    key: 'port' | 'pollIntervalMs' | 'headersTimeoutMs' | 'maxEventClients',
    min: number,
    max: number,
  ) => checkInteger(`options.${key}`, options[key] ?? d[key], min, max);

  let cancelTokenHash: Buffer | null = null;
  if (options.cancelToken !== undefined) {
    if (
      typeof options.cancelToken !== 'string' ||
      !/^[\x21-\x7e]{16,1024}$/.test(options.cancelToken)
    ) {
      throw new RangeError(
        'options.cancelToken must be 16 to 1024 printable ASCII characters without spaces',
      );
    }
    cancelTokenHash = createHash('sha256').update(options.cancelToken).digest();
  }
  if (options.allowedHosts !== undefined && !Array.isArray(options.allowedHosts)) {
    throw new TypeError('options.allowedHosts must be an array of host names');
  }
  const allowedHosts = isLoopback(host)
    ? new Set(
        ['localhost', '127.0.0.1', '[::1]', host, ...(options.allowedHosts ?? [])].map((h) =>
          hostKey(String(h)),
        ),
      )
    : null;
  return {
    tables,
    host,
    port: integer('port', 0, 65535),
    pollIntervalMs: integer('pollIntervalMs', 100, 60_000),
    headersTimeoutMs: integer('headersTimeoutMs', 100, 60_000),
    maxEventClients: integer('maxEventClients', 1, 10_000),
    cancelTokenHash,
    allowedHosts,
  };
}
