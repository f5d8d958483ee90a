/** `task-table ls`: the rows of a table, as aligned text or JSON. */
import type { ObservableTaskTableRow } from '../../../lib/index.js';
import { TABLE_OPTION, flagValue, stringValue, type Command } from '../args.js';
import {
  createStyle,
  formatAge,
  formatColumns,
  formatPercent,
  sanitize,
  shouldColor,
} from '../format.js';
import { openExistingTable } from '../open-table.js';
import { ROW_FILTER_OPTIONS, parseRowFilter } from '../row-filter.js';

/** The rows of `table`, oldest first. */
export function sortedRows(
  table: Iterable<[string, ObservableTaskTableRow]>,
): ObservableTaskTableRow[] {
  const rows = [...table].map(([, row]) => row);
  return rows.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.slot - b.slot);
}

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list the rows of a table',
  usage: 'ls [--table NAME] [--json] [--status STATUS]... [--category CATEGORY]...',
  description:
    'Lists every row that holds a task, running or ended (until its slot is reused), oldest\n' +
    'first: id, status, category, name, progress and age. Ids are what `task-table cancel` takes.\n' +
    'Repeat --status or --category to keep the rows that match any of the values.',
  options: {
    table: TABLE_OPTION,
    json: { type: 'boolean', description: 'print the rows as a JSON array (row.toJSON())' },
    ...ROW_FILTER_OPTIONS,
  },
  async run({ values }) {
    const filter = parseRowFilter(values, 'ls');
    const table = openExistingTable(stringValue(values, 'table'), 'read');
    let all: ObservableTaskTableRow[];
    try {
      all = sortedRows(table);
    } finally {
      table.close();
    }
    const rows = all.filter(filter.matches);
    if (flagValue(values, 'json')) {
      process.stdout.write(
        `${JSON.stringify(
          rows.map((row) => row.toJSON()),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write(
        all.length === 0
          ? `no rows in table "${table.name}"\n`
          : `no rows match ${filter.text} in table "${table.name}" ` +
              `(${all.length} ${all.length === 1 ? 'row' : 'rows'} in all)\n`,
      );
      return 0;
    }
    const style = createStyle(shouldColor(process.stdout));
    const now = Date.now();
    const cells = rows.map((row) => [
      row.id,
      row.status,
      sanitize(row.category),
      formatPercent(row.progress),
      formatAge(now - row.startedAt.getTime()),
      sanitize(row.name),
    ]);
    const lines = formatColumns(
      ['ID', 'STATUS', 'CATEGORY', 'PROGRESS', 'AGE', 'NAME'],
      cells,
      new Set([3, 4]),
    );
    // Colour after layout, so escape codes never count towards column widths.
    const colored = lines.map((line, i) => {
      const row = rows[i - 1];
      if (i === 0) return style.bold(line);
      if (row === undefined || !style.enabled) return line;
      return line.replace(row.status, style.status(row.status));
    });
    process.stdout.write(`${colored.join('\n')}\n`);
    return 0;
  },
};
