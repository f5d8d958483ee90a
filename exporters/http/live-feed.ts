/**
 * The server-sent events behind the dashboard's live updates. However many clients are
 * connected, the tables are read by ONE shared poll: a timer that starts with the first
 * client and stops with the last, reads every table once per tick and sends each client
 * the rows its filters select (rendered once per distinct filter set). A closed
 * connection is forgotten on its 'close' event, so nothing of it stays behind.
 */
import type { ServerResponse } from 'node:http';

import { dashboardView } from './dashboard.js';
import { sseEvent } from './escape.js';
import { filterKey, filterTaskRows, type TaskFilters, type TaskRowsRead } from './task-rows.js';

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  /** Reads every table's rows once. */
  read: () => TaskRowsRead;
  /** Milliseconds between two polls while clients are connected. */
  intervalMs: number;
  /** Most clients at once; further ones are refused. */
  maxClients: number;
  /**
   * Milliseconds a stream may go without any byte written to its socket (a client that
   * stopped reading) before it is destroyed. More than one interval.
   */
  idleTimeoutMs: number;
}

interface FeedClient {
  readonly response: ServerResponse;
  readonly filters: TaskFilters;
  readonly key: string;
  /** The socket buffer is full: skip events until it drains rather than queue them. */
  blocked: boolean;
  /** Ticks skipped while blocked; a client that stays blocked too long is dropped. */
  skipped: number;
}

/** Ticks a client may stay blocked (its events skipped) before it is disconnected. */
const MAX_SKIPPED_TICKS = 30;

/** Response headers of an event stream. */
const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // Reverse proxies (nginx) would otherwise buffer the stream.
  'X-Accel-Buffering': 'no',
  // When the stream ends (close()), the socket goes with it instead of idling.
  Connection: 'close',
};

/** One shared poll fanned out to every connected event-stream client. */
export class LiveFeed {
  readonly #options: LiveFeedOptions;
  readonly #clients = new Set<FeedClient>();
  #timer: NodeJS.Timeout | undefined;
  #latest: TaskRowsRead | undefined;
  #latestAtMs = 0;

  constructor(options: LiveFeedOptions) {
    this.#options = options;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** True while the shared poll timer runs (exactly when clients are connected). */
  get polling(): boolean {
    return this.#timer !== undefined;
  }

  /** True when another client would be refused. */
  get full(): boolean {
    return this.#clients.size >= this.#options.maxClients;
  }

  /**
   * Starts an event stream on `response` and sends the current rows at once. The caller
   * checks `full` first.
   */
  add(response: ServerResponse, filters: TaskFilters): void {
    // Gone already (the client hung up while the request was read): 'close' has fired.
    if (response.socket === null || response.socket.destroyed) return;
    const client: FeedClient = {
      response,
      filters,
      key: filterKey(filters),
      blocked: false,
      skipped: 0,
    };
    this.#clients.add(client);
    response.once('close', () => this.#remove(client));
    // Replaces the server's idle timeout for this socket: a healthy stream is written once
    // per interval. Without a 'timeout' listener node:http destroys the socket.
    response.setTimeout(this.#options.idleTimeoutMs);
    response.writeHead(200, SSE_HEADERS);
    // Reconnect after 2 s when the stream breaks (the EventSource default is 3 s).
    response.write('retry: 2000\n\n');
    // A read younger than one interval is reused, so a burst of connects costs one read.
    const fresh =
      Date.now() - this.#latestAtMs < this.#options.intervalMs && this.#latest !== undefined;
    const read = fresh ? (this.#latest as TaskRowsRead) : this.#read();
    this.#send(client, render(read, filters));
    if (this.#timer === undefined && this.#clients.size > 0) {
      this.#timer = setInterval(() => this.#tick(), this.#options.intervalMs);
    }
  }

  /** Ends every stream and stops the poll. */
  closeAll(): void {
    for (const client of [...this.#clients]) {
      this.#clients.delete(client);
      client.response.end();
    }
    this.#stop();
  }

  #remove(client: FeedClient): void {
    this.#clients.delete(client);
    if (this.#clients.size === 0) this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#latest = undefined;
  }

  #read(): TaskRowsRead {
    this.#latest = this.#options.read();
    this.#latestAtMs = Date.now();
    return this.#latest;
  }

  #tick(): void {
    // A throw in a timer would end the process: the collector must never crash.
    try {
      const read = this.#read();
      const rendered = new Map<string, string>();
      for (const client of this.#clients) {
        let event = rendered.get(client.key);
        if (event === undefined) {
          event = render(read, client.filters);
          rendered.set(client.key, event);
        }
        this.#send(client, event);
      }
    } catch (error) {
      process.emitWarning(`observable-task-table collector: live update failed: ${String(error)}`, {
        code: 'TASK_TABLE_COLLECTOR_LIVE',
      });
    }
  }

  #send(client: FeedClient, event: string): void {
    const { response } = client;
    if (response.destroyed || response.writableEnded) return;
    if (client.blocked) {
      if (++client.skipped > MAX_SKIPPED_TICKS) response.destroy();
      return;
    }
    if (!response.write(event)) {
      client.blocked = true;
      response.once('drain', () => {
        client.blocked = false;
        client.skipped = 0;
      });
    }
  }
}

function render(read: TaskRowsRead, filters: TaskFilters): string {
  return sseEvent('rows', dashboardView(filterTaskRows(read, filters)));
}
