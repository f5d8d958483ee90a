/**
 * The collector's routes (design.md, "Collector contract"): /metrics, the dashboard and
 * its assets, /events, /api/tasks, /healthz, and the cancel route that exists only when a
 * token is configured. Unknown paths answer 404, known paths with another method 405 with
 * an Allow header; HEAD is served wherever GET is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ObservableTaskTable } from '../../lib/index.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText } from '../prometheus/exposition.js';
import { dashboardView, renderDashboard } from './dashboard.js';
import type { LiveFeed } from './live-feed.js';
import {
  BodyTooLargeError,
  DASHBOARD_CSP,
  baseHeaders,
  readBody,
  send,
  sendError,
  sendJson,
} from './responses.js';
import { filterTaskRows, parseTaskFilters, readTaskRows } from './task-rows.js';
import { collectTableSnapshots, readTable, resolveTables } from '../table-snapshot.js';

/** What the routes need from the server. */
export interface RouteContext {
  tables: readonly ObservableTaskTable[];
  feed: LiveFeed;
  /** SHA-256 of the cancel token, or null when cancelling is not enabled. */
  cancelTokenHash: Buffer | null;
  pollIntervalMs: number;
  assets: { script: Buffer; stylesheet: Buffer };
  /** Host names (without port) a request may name, or null for any. */
  allowedHosts: ReadonlySet<string> | null;
}

type Handler = (
  ctx: RouteContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  params: string[],
) => void | Promise<void>;

interface Route {
  /** An exact path, or a pattern whose groups become `params`. */
  path: string | RegExp;
  methods: Partial<Record<'GET' | 'POST', Handler>>;
  /** When false for this server, the route does not exist (404). */
  enabled?: (ctx: RouteContext) => boolean;
}

const ROUTES: readonly Route[] = [
  { path: '/', methods: { GET: redirectToDashboard } },
  { path: '/metrics', methods: { GET: metrics } },
  { path: '/observable_task_table', methods: { GET: dashboard } },
  { path: '/assets/dashboard.js', methods: { GET: script } },
  { path: '/assets/dashboard.css', methods: { GET: stylesheet } },
  { path: '/events', methods: { GET: events } },
  { path: '/api/tasks', methods: { GET: apiTasks } },
  { path: '/healthz', methods: { GET: healthz } },
  {
    path: /^\/api\/tasks\/([^/]+)\/([^/]+)\/cancel$/,
    methods: { POST: cancel },
    enabled: (ctx) => ctx.cancelTokenHash !== null,
  },
];

/** Answers one request. Never rejects: every failure becomes a response. */
export async function handleRequest(
  ctx: RouteContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  let json = false;
  try {
    const url = new URL(request.url ?? '/', 'http://collector.invalid');
    json = url.pathname.startsWith('/api/');
    if (ctx.allowedHosts !== null && !ctx.allowedHosts.has(hostName(request.headers.host))) {
      // DNS rebinding: a page on another origin that resolves to 127.0.0.1 must not read
      // the tasks through the victim's browser; such requests carry that origin's host.
      sendError(response, 403, 'host not allowed; use the address the collector listens on', {
        json,
      });
      return;
    }
    const match = findRoute(ctx, url.pathname);
    if (match === null) {
      sendError(response, 404, 'not found', { json });
      return;
    }
    const { route, params } = match;
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const handler = method === 'GET' || method === 'POST' ? route.methods[method] : undefined;
    if (handler === undefined) {
      const allow = Object.keys(route.methods).flatMap((m) =>
        m === 'GET' ? ['GET', 'HEAD'] : [m],
      );
      sendError(response, 405, 'method not allowed', {
        json,
        headers: { Allow: allow.join(', ') },
      });
      return;
    }
    await readBody(request);
    await handler(ctx, request, response, url, params);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      // The rest of the body is never read, so the connection cannot be reused.
      sendError(response, 413, error.message, { json, headers: { Connection: 'close' } });
      return;
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    sendError(response, 500, `internal error: ${message.split('\n')[0]}`, { json });
  }
}

function findRoute(ctx: RouteContext, path: string): { route: Route; params: string[] } | null {
  for (const route of ROUTES) {
    if (route.enabled !== undefined && !route.enabled(ctx)) continue;
    if (typeof route.path === 'string') {
      if (route.path === path) return { route, params: [] };
      continue;
    }
    const m = route.path.exec(path);
    if (m !== null) return { route, params: m.slice(1) };
  }
  return null;
}

/** The host name of a Host header, lower case, without port ("[::1]" keeps brackets). */
function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  try {
    return new URL(`http://${header}`).hostname.toLowerCase();
  } catch {
    return '';
  }
}

function redirectToDashboard(
  _ctx: RouteContext,
  _request: IncomingMessage,
  response: ServerResponse,
): void {
  send(response, 302, 'text/plain; charset=utf-8', 'see observable_task_table\n', {
    Location: 'observable_task_table',
  });
}

function metrics(ctx: RouteContext, _request: IncomingMessage, response: ServerResponse): void {
  // One read of each table, rendered directly: the same text prom-client makes from
  // registerTaskTableMetrics(), without its per-value formatting cost.
  const text = renderPrometheusText(collectTableSnapshots(ctx.tables));
  send(response, 200, PROMETHEUS_CONTENT_TYPE, text);
}

function dashboard(
  ctx: RouteContext,
  _request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): void {
  const filters = parseTaskFilters(url.searchParams);
  if (typeof filters === 'string') {
    sendError(response, 400, filters);
    return;
  }
  const read = readTaskRows(ctx.tables);
  const view = dashboardView(filterTaskRows(read, filters));
  // Without JavaScript the page reloads itself instead (a <meta refresh> in <noscript>).
  const refreshSeconds = Math.max(5, Math.ceil(ctx.pollIntervalMs / 1000));
  const html = renderDashboard(view, filters, read.categories, refreshSeconds);
  send(response, 200, 'text/html; charset=utf-8', html, {
    'Content-Security-Policy': DASHBOARD_CSP,
  });
}

function script(ctx: RouteContext, _request: IncomingMessage, response: ServerResponse): void {
  send(response, 200, 'text/javascript; charset=utf-8', ctx.assets.script);
}

function stylesheet(ctx: RouteContext, _request: IncomingMessage, response: ServerResponse): void {
  send(response, 200, 'text/css; charset=utf-8', ctx.assets.stylesheet);
}

function events(
  ctx: RouteContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): void {
  const filters = parseTaskFilters(url.searchParams);
  if (typeof filters === 'string') {
    sendError(response, 400, filters);
    return;
  }
  if (request.method === 'HEAD') {
    response.writeHead(200, {
      ...baseHeaders(),
      'Content-Type': 'text/event-stream; charset=utf-8',
    });
    response.end();
    return;
  }
  if (ctx.feed.full) {
    sendError(response, 503, 'too many live clients; try again later', {
      headers: { 'Retry-After': '10' },
    });
    return;
  }
  ctx.feed.add(response, filters);
}

function apiTasks(
  ctx: RouteContext,
  _request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): void {
  const filters = parseTaskFilters(url.searchParams);
  if (typeof filters === 'string') {
    sendError(response, 400, filters, { json: true });
    return;
  }
  const read = filterTaskRows(readTaskRows(ctx.tables), filters);
  sendJson(response, 200, {
    collectedAt: read.collectedAt.toISOString(),
    tables: read.tables,
    total: read.rows.length,
    tasks: read.rows.map((r) => r.json),
  });
}

function healthz(ctx: RouteContext, _request: IncomingMessage, response: ServerResponse): void {
  const tables = resolveTables(ctx.tables).map((table) => {
    const { value: _value, ...state } = readTable(table, (t) => t.readMetrics());
    return state;
  });
  const ok = tables.every((t) => t.state === 'ok');
  sendJson(response, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', tables });
}

/** True when the request carries `Authorization: Bearer <token>` with the right token. */
function authorized(ctx: RouteContext, request: IncomingMessage): boolean {
  const expected = ctx.cancelTokenHash;
  const header = request.headers.authorization;
  if (expected === null || header === undefined) return false;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (match === null) return false;
  // Hashing first gives both sides the same length, which timingSafeEqual requires, and
  // keeps the comparison time independent of the token's length as well as its content.
  const given = createHash('sha256')
    .update(match[1] as string)
    .digest();
  return timingSafeEqual(given, expected);
}

function cancel(
  ctx: RouteContext,
  request: IncomingMessage,
  response: ServerResponse,
  _url: URL,
  params: string[],
): void {
  if (!authorized(ctx, request)) {
    sendError(response, 401, 'a valid Authorization: Bearer token is required', {
      json: true,
      headers: { 'WWW-Authenticate': 'Bearer realm="observable-task-table"' },
    });
    return;
  }
  let tableName: string;
  let id: string;
  try {
    tableName = decodeURIComponent(params[0] as string);
    id = decodeURIComponent(params[1] as string);
  } catch {
    sendError(response, 400, 'malformed table name or task id', { json: true });
    return;
  }
  const table = resolveTables(ctx.tables).find((t) => t.name === tableName);
  if (table === undefined) {
    sendError(response, 404, `no table named ${JSON.stringify(tableName)} is served`, {
      json: true,
    });
    return;
  }
  let cancelled: boolean;
  try {
    cancelled = table.cancel(id);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    sendError(response, code === 'ERR_TASK_TABLE_READ_ONLY' ? 409 : 503, message, { json: true });
    return;
  }
  if (!cancelled) {
    sendError(
      response,
      404,
      `no running task ${JSON.stringify(id)} in table ${JSON.stringify(tableName)}`,
      {
        json: true,
      },
    );
    return;
  }
  sendJson(response, 202, { table: tableName, id, cancelRequested: true });
}
