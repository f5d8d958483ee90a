/**
 * One frame of `task-table top`, as plain lines: a header with counts per status (rows
 * now in the table, and totals since the table was created, from its shared counters),
 * then one line per row, in the order given, with a progress bar. Pure: the command owns
 * the terminal; this only lays out text, so it can be tested and printed without a TTY.
 */
import {
  FINAL_OBSERVABLE_TASK_STATUSES,
  OBSERVABLE_TASK_STATUSES,
  type ObservableTaskStatus,
  type ObservableTaskTableRow,
  type TaskTableMetrics,
} from '../../lib/index.js';
import { formatAge, formatPercent, sanitize, truncate, type Style } from './format.js';

/** What a frame shows and how much room it has. */
export interface TopFrameInput {
  rows: readonly ObservableTaskTableRow[];
  metrics: TaskTableMetrics;
  now: number;
  style: Style;
  /** Terminal columns; undefined: no line is cut. */
  width?: number;
  /** Terminal lines; undefined: every row is shown. */
  height?: number;
  /** Block characters for bars (a terminal), else ASCII (a pipe or a log). */
  unicode: boolean;
  /** A last line such as "q: quit". */
  footer?: string;
  /** The filter options that chose `rows` (`--status running`), when some did. */
  filter?: string;
}

const BAR_WIDTH = 20;

/** Renders a frame; every line is at most `width` visible characters. */
export function renderTopFrame(input: TopFrameInput): string[] {
  const { rows, metrics, style } = input;
  const rowCounts = countBy(OBSERVABLE_TASK_STATUSES, (s) =>
    metrics.categories.reduce((n, c) => n + c.tasks[s], 0),
  );
  const completed = countBy(FINAL_OBSERVABLE_TASK_STATUSES, (s) =>
    metrics.categories.reduce((n, c) => n + c.completed[s], 0),
  );
  const started = metrics.categories.reduce((n, c) => n + c.started, 0);
  const dropped = Object.values(metrics.dropped).reduce((n, v) => n + v, 0);
  const clock = new Date(input.now).toTimeString().slice(0, 8);

  const header: Line[] = [
    line(
      style.bold(`task-table top: "${sanitize(metrics.table)}"`),
      `task-table top: "${sanitize(metrics.table)}"`,
    )
      .plus(`  slots ${metrics.slotsUsed}/${metrics.capacity}  rows ${metrics.rows}  ${clock}`)
      .plus(input.filter === undefined ? '' : `  showing ${input.filter}`),
    statusLine('now:  ', OBSERVABLE_TASK_STATUSES, rowCounts, style),
    statusLine(
      `total: started ${started}  `,
      FINAL_OBSERVABLE_TASK_STATUSES,
      completed,
      style,
    ).plus(
      `  dropped ${dropped}${metrics.unreadableRows > 0 ? `  unreadable ${metrics.unreadableRows}` : ''}`,
    ),
    line(''),
  ];

  const idWidth = Math.max(2, ...rows.map((r) => r.id.length));
  const categoryWidth = Math.min(
    16,
    Math.max(8, ...rows.map((r) => [...sanitize(r.category)].length)),
  );
  const progressWidth = BAR_WIDTH + 2 + 1 + 4;
  const fixed = idWidth + 9 + progressWidth + 6 + categoryWidth + 5 * 2;
  const nameWidth = input.width === undefined ? Infinity : Math.max(4, input.width - fixed);
  const widths = [idWidth, 9, progressWidth, -6, categoryWidth, 0];
  header.push(
    joinCells(
      ['ID', 'STATUS', 'PROGRESS', 'AGE', 'CATEGORY', 'NAME'].map((h) => line(style.bold(h), h)),
      widths,
    ),
  );

  const footerLines = input.footer === undefined ? 0 : 1;
  const room =
    input.height === undefined ? Infinity : Math.max(1, input.height - header.length - footerLines);
  const shown = rows.length > room ? rows.slice(0, Math.max(0, room - 1)) : rows;
  const body = shown.map((row) => {
    const bar = progressBar(row.progress, input.unicode);
    const percent = formatPercent(row.progress).padStart(4);
    const name = sanitize(row.name);
    return joinCells(
      [
        line(row.id),
        line(style.status(row.status), row.status),
        line(`${style.status(row.status, bar)} ${percent}`, `${bar} ${percent}`),
        line(formatAge(input.now - row.startedAt.getTime())),
        line(truncate(sanitize(row.category), categoryWidth)),
        line(nameWidth === Infinity ? name : truncate(name, nameWidth)),
      ],
      widths,
    );
  });
  const note = (text: string): Line => line(style.dim(text), text);
  if (shown.length < rows.length) body.push(note(`… ${rows.length - shown.length} more rows`));
  if (rows.length === 0) {
    body.push(note(input.filter === undefined ? '(no rows)' : `(no rows match ${input.filter})`));
  }
  const lines = [...header, ...body];
  if (input.footer !== undefined) lines.push(note(input.footer));
  return lines.map((l) => fit(l, input.width));
}

/** A line with its coloured text and its plain text (whose length is the visible width). */
interface Line {
  text: string;
  plain: string;
  plus(suffix: string): Line;
}

function line(text: string, plain = text): Line {
  return { text, plain, plus: (suffix) => line(text + suffix, plain + suffix) };
}

/**
 * Joins cells with two spaces, padding each to `widths[i]` visible characters: positive
 * pads on the right, negative aligns right, 0 leaves the (last) cell as it is.
 */
function joinCells(cells: Line[], widths: readonly number[]): Line {
  let text = '';
  let plain = '';
  cells.forEach((cell, i) => {
    const width = widths[i] ?? 0;
    const pad = ' '.repeat(Math.max(0, Math.abs(width) - [...cell.plain].length));
    const sep = i === 0 ? '' : '  ';
    text += sep + (width < 0 ? pad + cell.text : cell.text + pad);
    plain += sep + (width < 0 ? pad + cell.plain : cell.plain + pad);
  });
  return line(text, plain);
}

function statusLine<S extends ObservableTaskStatus>(
  label: string,
  statuses: readonly S[],
  counts: Record<S, number>,
  style: Style,
): Line {
  const parts = statuses.map(
    (s) => [`${s} ${counts[s]}`, style.status(s, `${s} ${counts[s]}`)] as const,
  );
  return line(label + parts.map(([, c]) => c).join('  '), label + parts.map(([p]) => p).join('  '));
}

function countBy<S extends string>(
  statuses: readonly S[],
  count: (s: S) => number,
): Record<S, number> {
  return Object.fromEntries(statuses.map((s) => [s, count(s)])) as Record<S, number>;
}

function progressBar(progress: number | null, unicode: boolean): string {
  const [full, empty] = unicode ? ['█', '░'] : ['#', '-'];
  if (progress === null) return `[${' '.repeat(BAR_WIDTH)}]`;
  const filled = Math.round(Math.min(1, Math.max(0, progress)) * BAR_WIDTH);
  return `[${full.repeat(filled)}${empty.repeat(BAR_WIDTH - filled)}]`;
}

/** Cuts a line to `width` visible characters; colour is dropped from a line that is cut. */
function fit(l: Line, width: number | undefined): string {
  if (width === undefined || [...l.plain].length <= width) return l.text;
  return truncate(l.plain, width);
}
