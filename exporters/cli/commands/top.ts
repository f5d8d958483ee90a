/** `task-table top`: a live terminal view of a table. */
import type { ObservableTaskTable, ObservableTaskTableRow } from '../../../lib/index.js';
import { compareRowsForDisplay } from '../../row-order.js';
import { TABLE_OPTION, flagValue, integerValue, stringValue, type Command } from '../args.js';
import { createStyle, shouldColor } from '../format.js';
import { openExistingTable } from '../open-table.js';
import { ROW_FILTER_OPTIONS, parseRowFilter, type RowFilter } from '../row-filter.js';
import { renderTopFrame } from '../top-frame.js';

// Alternate screen buffer, cursor visibility, cursor home, clear to end of line / screen.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_SCREEN_END = '\x1b[J';

export const topCommand: Command = {
  name: 'top',
  summary: 'live terminal view of a table',
  usage:
    'top [--table NAME] [--interval-ms N] [--once]\n' +
    '                 [--status STATUS]... [--category CATEGORY]...',
  description:
    'Shows the rows of a table with progress bars and counts per status, and redraws every\n' +
    '--interval-ms: tasks not yet ended first, the longest silent first (a stuck task is at the\n' +
    'top), then ended tasks, the most recent first. Quit with q or Ctrl-C. Honours NO_COLOR.\n' +
    'When stdout is not a terminal, or with --once, prints one frame and exits. Repeat --status\n' +
    'or --category to show the rows that match any of the values.',
  options: {
    table: TABLE_OPTION,
    'interval-ms': {
      type: 'string',
      placeholder: 'N',
      description: 'milliseconds between redraws (default 500)',
    },
    once: { type: 'boolean', description: 'print one frame and exit' },
    ...ROW_FILTER_OPTIONS,
  },
  async run({ values }) {
    const intervalMs = integerValue(
      values,
      'interval-ms',
      { min: 50, max: 60_000, fallback: 500 },
      'top',
    );
    const filter = parseRowFilter(values, 'top');
    const table = openExistingTable(stringValue(values, 'table'), 'read');
    try {
      const out = process.stdout;
      if (flagValue(values, 'once') || out.isTTY !== true) {
        printFrame(table, filter, out);
        return 0;
      }
      await runLive(table, filter, out, intervalMs);
      return 0;
    } finally {
      table.close();
    }
  },
};

/** The rows `top` shows, in display order (as the dashboard shows them). */
function topRows(table: ObservableTaskTable, filter: RowFilter): ObservableTaskTableRow[] {
  const rows = [...table].map(([, row]) => row);
  return (filter.all ? rows : rows.filter(filter.matches)).sort(compareRowsForDisplay);
}

function printFrame(table: ObservableTaskTable, filter: RowFilter, out: NodeJS.WriteStream): void {
  const tty = out.isTTY === true;
  const lines = renderTopFrame({
    rows: topRows(table, filter),
    ...(filter.all ? {} : { filter: filter.text }),
    metrics: table.readMetrics(),
    now: Date.now(),
    style: createStyle(shouldColor(out)),
    ...(tty ? { width: Math.max(40, out.columns - 1) } : {}),
    unicode: tty,
  });
  out.write(`${lines.join('\n')}\n`);
}

/**
 * Redraws without flicker: the alternate screen keeps the user's scrollback intact, each
 * frame moves the cursor home and overwrites lines in place (clearing only what a shorter
 * line leaves behind) instead of clearing the screen first, which is what flickers.
 * Resolves once the user quits; the terminal is restored on every path out.
 */
function runLive(
  table: ObservableTaskTable,
  filter: RowFilter,
  out: NodeJS.WriteStream,
  intervalMs: number,
): Promise<void> {
  const style = createStyle(shouldColor(out));
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  return new Promise((resolve) => {
    const draw = (): void => {
      // One column less than the terminal: a full-width line leaves the cursor in the
      // pending-wrap state, where clear-to-end-of-line would erase its last character.
      const lines = renderTopFrame({
        rows: topRows(table, filter),
        ...(filter.all ? {} : { filter: filter.text }),
        metrics: table.readMetrics(),
        now: Date.now(),
        style,
        width: Math.max(40, out.columns - 1),
        height: Math.max(6, out.rows),
        unicode: true,
        footer: 'q: quit',
      });
      out.write(HOME + lines.map((l) => l + CLEAR_LINE_END).join('\r\n') + CLEAR_SCREEN_END);
    };
    const restore = (): void => {
      out.write(LEAVE);
    };
    const onKey = (key: Buffer): void => {
      const text = key.toString('utf8');
      if (text === 'q' || text === 'Q' || text === '\x03') stop();
    };
    const onSignal = (): void => stop();
    const timer = setInterval(draw, intervalMs);
    function stop(): void {
      clearInterval(timer);
      out.off('resize', draw);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', restore);
      if (raw) {
        stdin.off('data', onKey);
        stdin.setRawMode(false);
        stdin.pause();
      }
      restore();
      resolve();
    }
    out.write(ENTER);
    // Restores the terminal even if something throws past us and the process exits.
    process.on('exit', restore);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    out.on('resize', draw);
    if (raw) {
      // Raw mode delivers q and Ctrl-C as keys at once, without waiting for Enter.
      stdin.setRawMode(true);
      stdin.on('data', onKey);
      stdin.resume();
    }
    draw();
  });
}
