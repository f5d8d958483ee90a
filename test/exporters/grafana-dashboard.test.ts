import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { PROMETHEUS_METRIC_NAMES } from '../../exporters/metric-definitions.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dashboard = JSON.parse(
  readFileSync(join(root, 'dashboards/observable-task-table.json'), 'utf8'),
) as {
  templating: { list: Array<{ name: string }> };
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};
const expressions = dashboard.panels.flatMap((p) =>
  p.targets.map((target) => ({ panel: p.title, expr: target.expr })),
);
const knownNames = new Set(PROMETHEUS_METRIC_NAMES);

t.test('dashboards/observable-task-table.json', async (t) => {
  t.same(
    dashboard.templating.list.map((v) => v.name),
    ['datasource', 'table', 'category'],
    'variables for data source, table and category',
  );
  for (const title of [
    'Running tasks by category',
    'Completions per second by status',
    'Failure ratio by category',
    'Task duration (finished)',
    'Wait time (pending to running)',
    'Oldest update age by category',
    'Overdue tasks by category',
    'Table usage',
  ]) {
    t.ok(
      dashboard.panels.some((p) => p.title === title),
      `has a panel "${title}"`,
    );
  }
  t.ok(expressions.length >= 14);
  for (const { panel, expr } of expressions) {
    for (const [, inner] of expr.matchAll(/\b(?:rate|increase)\((\w+)\{/g)) {
      t.ok(
        inner?.endsWith('_total') || inner?.endsWith('_bucket'),
        `${panel}: rate()/increase() only on counters (${inner})`,
      );
    }
    if (expr.includes('histogram_quantile')) {
      t.match(
        expr,
        /histogram_quantile\([\d.]+, sum by \(le\) \(rate\(\w+_bucket\{/,
        `${panel}: quantile of summed bucket rates`,
      );
    }
    for (const [name] of expr.matchAll(/\bobservable_\w+/g)) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      t.ok(knownNames.has(name) || knownNames.has(base), `${panel}: ${name} is a metric we export`);
    }
    t.match(expr, /table=~"\$table"/, `${panel}: filtered by the table variable`);
  }
});
