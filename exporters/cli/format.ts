/**
 * Text helpers shared by `ls`, `top` and `inspect`: ages, sizes, progress, aligned
 * columns, terminal-safe strings and optional ANSI colours.
 */
import type { ObservableTaskStatus } from '../../lib/index.js';

/**
 * Makes a string from the table safe to print on a terminal: control characters (which a
 * hostile task name could use to move the cursor or rewrite the screen) become `?`.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Cuts `text` to at most `width` characters, marking the cut with `…`. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, Math.max(0, width)).join('');
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** A duration in milliseconds as a short age: `0.4s`, `12s`, `3m04s`, `1h02m`, `2d03h`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const two = (n: number): string => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${two((s % 86400) / 3600)}h`;
}

/** Bytes with a binary unit: `512 B`, `1.5 KiB`, `3.2 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A progress fraction as a percentage, or `-` when the task never reported progress. */
export function formatPercent(progress: number | null): string {
  return progress === null ? '-' : `${Math.floor(progress * 100)}%`;
}

/**
 * Lays out rows as columns separated by two spaces; `right` lists the columns to align
 * right. Cells must already be sanitized and uncoloured (widths are counted in chars).
 */
export function formatColumns(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => [...(r[i] ?? '')].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const pad = (widths[i] ?? 0) - [...cell].length;
        if (i === cells.length - 1 && !right.has(i)) return cell;
        return right.has(i) ? ' '.repeat(pad) + cell : cell + ' '.repeat(pad);
      })
      .join('  ');
  return [line(header), ...rows.map(line)];
}

/** ANSI styling that turns into no-ops when colour is off. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  inverse(text: string): string;
  status(status: ObservableTaskStatus, text?: string): string;
}

const STATUS_COLORS: Record<ObservableTaskStatus, number> = {
  pending: 33, // yellow
  running: 36, // cyan
  finished: 32, // green
  failed: 31, // red
  cancelled: 35, // magenta
  timed_out: 91, // bright red
};

/**
 * Colour for `stream` unless NO_COLOR is set to a non-empty value (https://no-color.org)
 * or the stream is not a terminal.
 */
export function shouldColor(stream: NodeJS.WriteStream, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/** Returns ANSI helpers, or identity functions when `enabled` is false. */
export function createStyle(enabled: boolean): Style {
  const wrap =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    inverse: wrap(7, 27),
    status: (status, text = status) => wrap(STATUS_COLORS[status], 39)(text),
  };
}
