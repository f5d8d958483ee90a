/**
 * The collector (`observable-task-table/collector`): an HTTP server with Prometheus
 * metrics, a live dashboard, a JSON API and health, for one or more tables.
 */
export { createCollectorServer } from './server.js';
export type { CollectorAddress, CollectorServer, CollectorServerStats } from './server.js';
export { DEFAULT_COLLECTOR_OPTIONS } from './collector-options.js';
export type { CollectorServerOptions } from './collector-options.js';
export { escapeHtml, safeJson } from './escape.js';
export type { TableState } from '../table-snapshot.js';
