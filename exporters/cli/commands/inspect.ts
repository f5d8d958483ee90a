/** `task-table inspect`: a table's header, layout and usage counters. */
import { TABLE_OPTION, flagValue, stringValue, type Command } from '../args.js';
import { formatBytes } from '../format.js';
import { openExistingTable } from '../open-table.js';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: "show a table's header, layout and usage",
  usage: 'inspect [--table NAME] [--json]',
  description:
    "Shows a table's header and layout (name, path, layout version, maxTasks, dataSize,\n" +
    'maxCategories, histogram buckets, sizes, creation time) and its usage: slots in use,\n' +
    'rows, unreadable rows and the dropped-observation counters per reason.',
  options: {
    table: TABLE_OPTION,
    json: { type: 'boolean', description: 'print one JSON object' },
  },
  async run({ values }) {
    const table = openExistingTable(stringValue(values, 'table'), 'read');
    let info;
    try {
      const layout = table.layout;
      const metrics = table.readMetrics();
      info = {
        name: layout.name,
        path: layout.path,
        layoutVersion: layout.layoutVersion,
        maxTasks: layout.maxTasks,
        dataSize: layout.dataSize,
        maxCategories: layout.maxCategories,
        durationBuckets: layout.durationBuckets,
        totalBytes: layout.totalBytes,
        rowBytes: layout.rowBytes,
        createdAt: layout.createdAt.toISOString(),
        slotsUsed: metrics.slotsUsed,
        rows: metrics.rows,
        unreadableRows: metrics.unreadableRows,
        categories: metrics.categories.length,
        dropped: metrics.dropped,
      };
    } finally {
      table.close();
    }
    if (flagValue(values, 'json')) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    const dropped = Object.entries(info.dropped)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason}=${n}`);
    const lines: [string, string][] = [
      ['name', info.name],
      ['path', info.path],
      ['layout version', String(info.layoutVersion)],
      ['created at', info.createdAt],
      ['maxTasks', String(info.maxTasks)],
      ['dataSize', `${info.dataSize} bytes`],
      ['maxCategories', String(info.maxCategories)],
      ['duration buckets', `${info.durationBuckets.join(', ')} s`],
      ['total size', `${info.totalBytes} bytes (${formatBytes(info.totalBytes)})`],
      ['bytes per row', String(info.rowBytes)],
      ['slots used', `${info.slotsUsed} of ${info.maxTasks}`],
      ['rows', String(info.rows)],
      ['unreadable rows', String(info.unreadableRows)],
      ['categories', String(info.categories)],
      ['dropped', dropped.length === 0 ? 'none' : dropped.join(', ')],
    ];
    const width = Math.max(...lines.map(([key]) => key.length));
    process.stdout.write(
      lines.map(([key, value]) => `${`${key}:`.padEnd(width + 1)}  ${value}`).join('\n') + '\n',
    );
    return 0;
  },
};
