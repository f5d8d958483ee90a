/**
 * The dashboard at /observable_task_table, rendered on the server so it works without
 * JavaScript; dashboard-client.js then keeps its table body current from /events. Every
 * string from a table goes through escapeHtml() here and through textContent in the
 * client. No inline script or style: the page is served under a strict CSP.
 */
import { OBSERVABLE_TASK_STATUSES } from '../../lib/index.js';
import { escapeHtml } from './escape.js';
import type { TableStatus, TaskFilters, TaskRowsRead } from './task-rows.js';

/** Most rows the dashboard and the live feed show; the JSON API has them all. */
export const DASHBOARD_ROW_LIMIT = 1000;
/** Characters of a row's JSON data shown in the table. */
const DATA_DISPLAY_CHARS = 160;

/** A row as the dashboard shows it (and as /events sends it). */
export interface DashboardRow {
  table: string;
  id: string;
  slot: number;
  status: string;
  category: string;
  name: string;
  /** ISO 8601 time of the last update. */
  modifiedAt: string;
  progress: number | null;
  ageSeconds: number;
  /** JSON of the row's data, cut for display. */
  data: string;
  overdue: boolean;
}

/** What the page and each live update show. */
export interface DashboardView {
  collectedAt: string;
  /** Rows that matched the filters, before the display limit. */
  total: number;
  tables: TableStatus[];
  rows: DashboardRow[];
}

/** Builds the view of one read, cut to {@link DASHBOARD_ROW_LIMIT} rows. */
export function dashboardView(read: TaskRowsRead): DashboardView {
  return {
    collectedAt: read.collectedAt.toISOString(),
    total: read.rows.length,
    tables: read.tables,
    rows: read.rows.slice(0, DASHBOARD_ROW_LIMIT).map(({ table, row, json }) => ({
      table,
      id: row.id,
      slot: row.slot,
      status: row.status,
      category: row.category,
      name: row.name,
      modifiedAt: row.modifiedAt.toISOString(),
      progress: row.progress,
      ageSeconds: json.ageSeconds,
      data: displayData(json.data),
      overdue: json.overdue,
    })),
  };
}

/** The row's data as JSON, cut to a display length at a code point boundary. */
export function displayData(data: unknown): string {
  if (data === null || data === undefined) return '';
  const text = JSON.stringify(data) ?? '';
  if (text.length <= DATA_DISPLAY_CHARS) return text;
  let end = DATA_DISPLAY_CHARS;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1; // do not split a surrogate pair
  return `${text.slice(0, end)}…`;
}

/** "2026-01-02 03:04:05Z" from an ISO time: readable, sortable, the same in the client. */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** A short duration: 850ms, 12.3s, 4m 05s, 2h 03m, 3d 04h (also in dashboard-client.js). */
export function formatAge(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}

function renderRow(row: DashboardRow): string {
  const progress =
    row.progress === null
      ? '<span class="muted">—</span>'
      : `<progress max="1" value="${escapeHtml(row.progress)}">${escapeHtml(Math.round(row.progress * 100))}%</progress>`;
  return (
    `<tr data-status="${escapeHtml(row.status)}"${row.overdue ? ' class="overdue"' : ''}>` +
    `<td class="num">${escapeHtml(row.slot)}</td>` +
    `<td><span class="status status-${escapeHtml(row.status)}">${escapeHtml(row.status)}</span></td>` +
    `<td>${escapeHtml(row.category)}</td>` +
    `<td class="name" title="${escapeHtml(`${row.table} ${row.id}`)}">${escapeHtml(row.name)}</td>` +
    `<td><time datetime="${escapeHtml(row.modifiedAt)}">${escapeHtml(formatTime(row.modifiedAt))}</time></td>` +
    `<td>${progress}</td>` +
    `<td class="num">${escapeHtml(formatAge(row.ageSeconds))}</td>` +
    `<td class="data"><code>${escapeHtml(row.data)}</code></td>` +
    `<td>${row.overdue ? '<span class="flag">overdue</span>' : ''}</td>` +
    '</tr>'
  );
}

function renderOptions(
  values: readonly string[],
  selected: string | undefined,
  anyLabel: string,
): string {
  const all = selected !== undefined && !values.includes(selected) ? [...values, selected] : values;
  return [
    `<option value="">${escapeHtml(anyLabel)}</option>`,
    ...all.map(
      (v) =>
        `<option value="${escapeHtml(v)}"${v === selected ? ' selected' : ''}>${escapeHtml(v)}</option>`,
    ),
  ].join('');
}

function renderTableStates(tables: readonly TableStatus[]): string {
  return tables
    .map(
      (t) =>
        `<li class="table-state state-${escapeHtml(t.state)}"><strong>${escapeHtml(t.table)}</strong> ` +
        `${escapeHtml(t.state)}${t.error === null ? '' : `: ${escapeHtml(t.error)}`}</li>`,
    )
    .join('');
}

/** The summary line, also rebuilt by the client. */
export function summaryText(view: Pick<DashboardView, 'total' | 'rows' | 'collectedAt'>): string {
  const shown =
    view.rows.length < view.total ? `${view.rows.length} of ${view.total}` : `${view.total}`;
  return `${shown} task${view.total === 1 ? '' : 's'} · collected ${formatTime(view.collectedAt)}`;
}

/** Query string of the filters, for the live feed URL. */
export function filterQuery(filters: TaskFilters): string {
  const query = new URLSearchParams();
  if (filters.status !== undefined) query.set('status', filters.status);
  if (filters.category !== undefined) query.set('category', filters.category);
  if (filters.table !== undefined) query.set('table', filters.table);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

/** The whole dashboard page. */
export function renderDashboard(
  view: DashboardView,
  filters: TaskFilters,
  categories: readonly string[],
  refreshSeconds: number,
): string {
  const tableNames = view.tables.map((t) => t.table);
  const tableFilter =
    tableNames.length > 1
      ? `<label>Table <select name="table">${renderOptions(tableNames, filters.table, 'any')}</select></label>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Observable task table</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/dashboard.css">
<noscript><meta http-equiv="refresh" content="${escapeHtml(refreshSeconds)}"></noscript>
<script src="assets/dashboard.js" defer></script>
</head>
<body>
<header>
<h1>Observable task table</h1>
<p id="summary">${escapeHtml(summaryText(view))}</p>
<p id="live" class="muted">live updates off</p>
</header>
<ul id="tables" class="tables">${renderTableStates(view.tables)}</ul>
<form method="get" action="observable_task_table" class="filters">
<label>Status <select name="status">${renderOptions(OBSERVABLE_TASK_STATUSES, filters.status, 'any')}</select></label>
<label>Category <select name="category">${renderOptions(categories, filters.category, 'any')}</select></label>
${tableFilter}<button type="submit">Filter</button>
</form>
<div class="table-scroll">
<table id="tasks" data-events="events${escapeHtml(filterQuery(filters))}">
<thead><tr><th>Slot</th><th>Status</th><th>Category</th><th>Name</th><th>Last update</th><th>Progress</th><th>Age</th><th>Data</th><th>Overdue</th></tr></thead>
<tbody>${view.rows.map(renderRow).join('')}</tbody>
</table>
</div>
</body>
</html>
`;
}
