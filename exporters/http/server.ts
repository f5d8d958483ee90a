/**
 * The collector's HTTP server (node:http): binds 127.0.0.1 by default, bounds every
 * request in size and time, answers malformed requests without ever crashing, runs the
 * live feed's shared poll and reclaims rows of dead owners once per poll interval.
 */
import { readFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { resolveTables } from '../table-snapshot.js';
import { resolveCollectorOptions, type CollectorServerOptions } from './collector-options.js';
import { LiveFeed } from './live-feed.js';
import { handleRequest, type RouteContext } from './routes.js';
import { readTaskRows } from './task-rows.js';

export type { CollectorServerOptions } from './collector-options.js';

/** Where a listening collector can be reached. */
export interface CollectorAddress {
  /** Base URL, for example `http://127.0.0.1:9464/`. */
  url: string;
  host: string;
  port: number;
}

/**
 * Internal. Counters for tests and diagnostics: live clients, whether the shared poll and
 * the reclaim timer run, and open connections.
 */
export interface CollectorServerStats {
  eventClients: number;
  polling: boolean;
  reclaiming: boolean;
  connections: number;
}

/** A collector server from {@link createCollectorServer}. */
export interface CollectorServer {
  /**
   * Starts listening. Resolves with the address; rejects with the system error (its
   * `code` is `EADDRINUSE` for a busy port). Calling it again returns the same promise.
   */
  listen(): Promise<CollectorAddress>;
  /**
   * Ends live streams, stops the timers, closes connections and the listening socket.
   * Idempotent; resolves once everything is closed (at most about a second later).
   */
  close(): Promise<void>;
  /** The address while listening, else null. */
  readonly address: CollectorAddress | null;
  /** Internal. See {@link CollectorServerStats}. */
  readonly stats: CollectorServerStats;
}

/** How long close() lets in-flight responses finish before cutting their connections. */
const CLOSE_GRACE_MS = 1000;

/** The idle timeout of a connection, in multiples of headersTimeoutMs (30 s by default). */
const IDLE_TIMEOUT_FACTOR = 3;

function readAsset(name: string): Buffer {
  try {
    return readFileSync(new URL(name, import.meta.url));
  } catch (error) {
    throw new Error(
      `observable-task-table collector: dashboard asset ${name} is missing next to ` +
        `${new URL('.', import.meta.url).pathname}; rebuild with npm run build:ts`,
      { cause: error },
    );
  }
}

/** Answer of the parser's errors, as node:http would give without a 'clientError' listener. */
function clientErrorStatus(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

/**
 * Creates the collector: Prometheus metrics, the dashboard, live events, the JSON API and
 * health, for `options.tables`. Nothing listens until `listen()`.
 * @throws {TypeError|RangeError} for invalid options, and an Error when the dashboard
 *   assets are missing from the installation.
 */
export function createCollectorServer(options: CollectorServerOptions): CollectorServer {
  const {
    tables,
    host,
    port,
    pollIntervalMs,
    headersTimeoutMs,
    maxEventClients,
    cancelTokenHash,
    allowedHosts,
  } = resolveCollectorOptions(options);

  // A connection on which nothing moves, in either direction, for this long is destroyed:
  // a client that stops reading a large response would otherwise hold the connection, and
  // the response queued for it, forever (node:http has no such limit by default). A live
  // stream writes once per poll, so it gets at least three polls.
  const idleTimeoutMs = headersTimeoutMs * IDLE_TIMEOUT_FACTOR;
  const feed = new LiveFeed({
    read: () => readTaskRows(tables),
    intervalMs: pollIntervalMs,
    maxClients: maxEventClients,
    idleTimeoutMs: Math.max(idleTimeoutMs, pollIntervalMs * 3),
  });
  const ctx: RouteContext = {
    tables,
    feed,
    cancelTokenHash,
    pollIntervalMs,
    assets: {
      script: readAsset('./dashboard-client.js'),
      stylesheet: readAsset('./dashboard.css'),
    },
    allowedHosts,
  };

  const server: Server = createServer({
    headersTimeout: headersTimeoutMs,
    // Bounds the whole request (headers and body); /events streams a response, which
    // this does not limit.
    requestTimeout: headersTimeoutMs * 2,
    keepAliveTimeout: 5000,
    // 16 KiB of headers at most; larger ones get 431.
    maxHeaderSize: 16 * 1024,
    // How often node:http checks the two timeouts above (its default is 30 s, which
    // would let a slow client hold a connection far longer than headersTimeout).
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeoutMs / 4))),
  });
  server.timeout = idleTimeoutMs;
  server.maxHeadersCount = 64;
  server.maxRequestsPerSocket = 1000;
  server.on('request', (request, response) => {
    // handleRequest answers every failure itself; this only guards against a bug there.
    handleRequest(ctx, request, response).catch(() => response.destroy());
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(error.code);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  });
  const connections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  // After listen() resolved, a server error (rare: the socket failing) must not be an
  // unhandled 'error' event that ends the process.
  server.on('error', () => undefined);

  let reclaimTimer: NodeJS.Timeout | undefined;
  const reclaim = (): void => {
    for (const table of resolveTables(tables)) {
      try {
        if (!table.closed && !table.layout.readOnly) table.reclaim();
      } catch {
        // A closed or removed table is reported by /healthz and the up metric.
      }
    }
  };

  let listening: Promise<CollectorAddress> | undefined;
  let closing: Promise<void> | undefined;
  let address: CollectorAddress | null = null;

  return {
    listen(): Promise<CollectorAddress> {
      if (closing !== undefined)
        return Promise.reject(new Error('the collector server was closed'));
      listening ??= new Promise<CollectorAddress>((resolve, reject) => {
        const onError = (error: Error): void => {
          server.off('listening', onListening);
          listening = undefined;
          reject(error);
        };
        const onListening = (): void => {
          server.off('error', onError);
          const info = server.address() as AddressInfo;
          const urlHost = info.address.includes(':') ? `[${info.address}]` : info.address;
          address = { url: `http://${urlHost}:${info.port}/`, host: info.address, port: info.port };
          reclaimTimer = setInterval(reclaim, pollIntervalMs);
          // The server keeps the process alive; this timer alone must not.
          reclaimTimer.unref();
          resolve(address);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
      return listening;
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await listening?.catch(() => undefined);
        if (reclaimTimer !== undefined) clearInterval(reclaimTimer);
        reclaimTimer = undefined;
        feed.closeAll();
        address = null;
        if (!server.listening) return;
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
      })();
      return closing;
    },

    get address(): CollectorAddress | null {
      return address;
    },

    get stats(): CollectorServerStats {
      return {
        eventClients: feed.clientCount,
        polling: feed.polling,
        reclaiming: reclaimTimer !== undefined,
        connections: connections.size,
      };
    },
  };
}
