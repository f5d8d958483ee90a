/**
 * The Prometheus text exposition (format 0.0.4) of the table metrics, written directly
 * from one set of snapshots. The collector serves /metrics from this: prom-client's
 * Registry formats label sets value by value (object walks and three regex replaces per
 * label), which for 10,000 rows over 50 categories costs tens of milliseconds, while this
 * costs about one (issue 4, "Performance"). Its output is byte-for-byte what
 * `registerTaskTableMetrics()` makes prom-client produce; a test holds the two together.
 */
import { TASK_TABLE_METRICS, type TaskTableMetricKey } from '../metric-definitions.js';
import {
  forEachHistogramSample,
  forEachNumberSample,
  isHistogramKey,
  type SampleLabels,
} from '../metric-samples.js';
import type { TableSnapshot } from '../table-snapshot.js';

/** Content-Type of the exposition. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const NEEDS_ESCAPE = /[\\\n"]/;

/** A label value as the text format requires: backslash, newline and quote escaped. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** HELP text: backslash and newline escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}

/**
 * `name="value",...` of a label set. Table and category strings repeat on every line of a
 * scrape, so their escaped forms are cached for the duration of one render.
 */
function labelText(labels: SampleLabels, cache: Map<string, string>): string {
  let text = '';
  for (const key in labels) {
    const raw = labels[key as keyof SampleLabels] as string;
    let escaped = cache.get(raw);
    if (escaped === undefined) {
      escaped = escapeLabelValue(raw);
      cache.set(raw, escaped);
    }
    text += text === '' ? `${key}="${escaped}"` : `,${key}="${escaped}"`;
  }
  return text;
}

/** `,le="<bound>"} ` per bound, made once per bucket layout (tables share theirs). */
const leCache = new WeakMap<readonly number[], string[]>();
function leSuffixes(bounds: readonly number[]): string[] {
  let suffixes = leCache.get(bounds);
  if (suffixes === undefined) {
    suffixes = bounds.map((bound) => `,le="${bound}"} `);
    leCache.set(bounds, suffixes);
  }
  return suffixes;
}

function familyLines(
  key: TaskTableMetricKey,
  snapshots: readonly TableSnapshot[],
  cache: Map<string, string>,
): string[] {
  const definition = TASK_TABLE_METRICS[key];
  const name = definition.prometheusName;
  const lines = [
    `# HELP ${name} ${escapeHelp(definition.help)}`,
    `# TYPE ${name} ${definition.type}`,
  ];
  if (!isHistogramKey(key)) {
    forEachNumberSample(key, snapshots, ({ labels, value }) => {
      lines.push(`${name}{${labelText(labels, cache)}} ${formatValue(value)}`);
    });
    return lines;
  }
  const bucket = `${name}_bucket{`;
  forEachHistogramSample(key, snapshots, ({ labels, histogram }) => {
    const base = labelText(labels, cache);
    const { bounds, cumulativeCounts, count, sum } = histogram;
    const le = leSuffixes(bounds);
    for (let i = 0; i < bounds.length; i++) {
      lines.push(bucket + base + (le[i] as string) + formatValue(cumulativeCounts[i] as number));
    }
    lines.push(`${name}_bucket{${base},le="+Inf"} ${formatValue(count)}`);
    lines.push(`${name}_sum{${base}} ${formatValue(sum)}`);
    lines.push(`${name}_count{${base}} ${formatValue(count)}`);
  });
  return lines;
}

/** Every family of metric-definitions.ts for `snapshots`, as exposition text. */
export function renderPrometheusText(snapshots: readonly TableSnapshot[]): string {
  const cache = new Map<string, string>();
  const families = (Object.keys(TASK_TABLE_METRICS) as TaskTableMetricKey[]).map((key) =>
    familyLines(key, snapshots, cache).join('\n'),
  );
  // The same layout as prom-client's Registry#metrics(): a blank line between families.
  return `${families.join('\n\n')}\n`;
}
