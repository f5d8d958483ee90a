// Writes docs/benchmarks.md and docs/benchmarks.svg from one run's results, and the short
// summary printed on stdout. Every figure comes from `results` and `machine`; the only
// numbers in the text below are the targets' thresholds, which the issues set.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { isTime, median, nanos, num, ratio, value } from './format.mjs';
import { barChart, chartRows } from './svg-chart.mjs';
import { ALTERNATIVES, COMPARISONS, REFERENCES } from './targets.mjs';

function kindOf(key) {
  if (ALTERNATIVES.has(key)) return 'alternative';
  if (REFERENCES.has(key)) return 'reference';
  return 'ours';
}

function cell(text) {
  return String(text).replace(/\|/g, '\\|');
}

function machineSection(machine) {
  const gib = (bytes) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  const load = (l) => l.map((x) => x.toFixed(2)).join(', ');
  return [
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${cell(machine.cpu)} |`,
    `| Cores (logical) | ${machine.cores} |`,
    `| RAM | ${gib(machine.ram)} |`,
    `| OS | ${cell(machine.os)} |`,
    `| Node.js | ${machine.node} |`,
    `| prom-client / ioredis | ${machine.promClient} / ${machine.ioredis} |`,
    `| Redis | ${cell(machine.redis)} |`,
    `| Date | ${machine.date} |`,
    `| Mode | ${machine.mode}${machine.mode === 'quick' ? ' (few samples: figures are indicative only)' : ''} |`,
    `| Load average (1, 5, 15 min) at start / end | ${load(machine.loadStart)} / ${load(machine.loadEnd)} |`,
    `| Suite run time | ${num(machine.seconds)} s |`,
    '',
  ].join('\n');
}

function methodSection(profile) {
  return [
    '## Method',
    '',
    `Each timed row is measured after a warm-up (at least ${profile.warmupMs} ms and ` +
      `${profile.warmupCalls} batches) as up to ${profile.samples} samples (at least ` +
      `${profile.minSamples}, fewer only when a row would take longer than ` +
      `${num(profile.maxMs / 1000)} s). A sample times one batch of operations with ` +
      '`process.hrtime.bigint()` and divides by the batch size, which is calibrated so that ' +
      `a sample lasts about ${profile.sampleMs} ms; nanosecond-scale operations are therefore ` +
      'measured in batches of thousands. The tables give the median and the 99th percentile ' +
      '(nearest rank; with fewer than 100 samples that is the slowest sample) of the samples, ' +
      'and the number of samples. A p99 of a batched row is the p99 of batch averages, not ' +
      'of single operations. Rows marked *alternative* are other libraries doing the same ' +
      "job; *reference* rows are this machine's floors.",
    '',
    'Child processes (cluster workers, writers, the collector) are started by the suite and ' +
      'killed at its end; every table is created under a unique name and removed at the end; ' +
      'redis-server runs on a free port of 127.0.0.1 without persistence and is stopped at ' +
      'the end.',
    '',
  ].join('\n');
}

function targetsSection({ targets: evaluated, shared }) {
  const lines = [
    '## Targets',
    '',
    '| Target | Issue | Measured | Result |',
    '| --- | --- | --- | --- |',
  ];
  for (const t of evaluated) {
    const mark = t.status === 'PASS' ? '**PASS**' : t.status === 'MISS' ? '**MISS**' : t.status;
    lines.push(
      `| ${cell(t.text)} | ${t.issues.map((i) => `#${i}`).join(', ')} | ${cell(t.measured)} | ${mark} |`,
    );
  }
  lines.push('');
  const misses = evaluated.filter((t) => t.status === 'MISS');
  if (misses.length > 0) {
    lines.push('### Why the misses', '');
    for (const p of shared) lines.push(`#### ${p.title}`, '', p.text, '');
    if (shared.length > 0) lines.push('#### Each miss', '');
    for (const t of misses) lines.push(`**${t.text}** (${t.measured}). ${t.explanation}`, '');
  }
  const notes = evaluated.filter((t) => t.note);
  if (notes.length > 0) {
    lines.push('### Notes on passed targets', '');
    for (const t of notes) lines.push(`**${t.text}.** ${t.note}`, '');
  }
  return lines.join('\n');
}

function groupTable(results) {
  const lines = [
    '| Benchmark | Median | p99 | Samples | Kind |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const kind = kindOf(r.key);
    lines.push(
      `| ${cell(r.name)} | ${value(r.median, r.unit)} | ${r.n > 1 ? value(r.p99, r.unit) : '—'} | ${r.n} | ${kind === 'ours' ? '' : `*${kind}*`} |`,
    );
  }
  return lines.join('\n');
}

function comparisonTable(group, byKey) {
  const pairs = (COMPARISONS[group] ?? []).filter(([a, b]) => byKey.has(a) && byKey.has(b));
  if (pairs.length === 0) return '';
  const lines = [
    'Side by side (ratio = the other row’s median / ours; above 1 means ours is faster):',
    '',
    '| Ours | Median | Compared with | Median | Ratio |',
    '| --- | ---: | --- | ---: | ---: |',
  ];
  for (const [a, b] of pairs) {
    const ra = byKey.get(a);
    const rb = byKey.get(b);
    const x = ratio(nanos(rb.median, rb.unit), nanos(ra.median, ra.unit));
    lines.push(`| ${cell(ra.name)} | ${median(ra)} | ${cell(rb.name)} | ${median(rb)} | ${x} |`);
  }
  return `${lines.join('\n')}\n`;
}

function extraLines(group, results) {
  const byKey = new Map(results.map((r) => [r.key, r]));
  const lines = [];
  if (group === 'scrape') {
    const m = byKey.get('scrape.metrics');
    if (m) {
      lines.push(
        `Our /metrics output for this workload: ${num(m.extra.lines)} samples, ` +
          `${num(m.extra.bytes / 1024)} KiB.`,
      );
    }
    for (const w of [2, 4]) {
      const c = byKey.get(`scrape.cluster-${w}`);
      if (c) {
        lines.push(
          `Cluster aggregation with ${w} workers: ${num(c.extra.seriesPerWorker)} series per ` +
            `worker, ${num(c.extra.lines)} samples after aggregation.`,
        );
      }
    }
  }
  if (group === 'scale') {
    for (const w of [1, 2, 4, 8]) {
      const r = byKey.get(`scale.scrape-writers-${w}`);
      if (r) {
        lines.push(
          `Scrape (${r.extra.path}) with ${w} busy writer(s): ${num(r.extra.cpuMsPerScrape)} ms ` +
            `of CPU per scrape (this process, all threads; wall median ${median(r)}); ` +
            `${num(r.extra.skipped)} rows ` +
            `skipped as mid-write in ${num(r.extra.reads)} reads of the table.`,
        );
      }
    }
    for (const w of [1, 2]) {
      const r = byKey.get(`scale.throughput-${w}`);
      if (r) {
        const per = r.extra.perWriterPerRound.map((round) => round.map(num).join(' + ')).join('; ');
        lines.push(
          `Throughput with ${w} writer(s), updates/s per writer in each ${r.extra.roundMs} ms round: ${per}.`,
        );
      }
    }
  }
  if (group === 'memory') {
    const start = byKey.get('memory.rss-start');
    if (start) {
      lines.push(
        `${num(start.extra.tasks)} tasks passed through a table of 10,000 slots in ` +
          `${num(start.extra.seconds)} s while the collector (its own process, serving ` +
          `createCollectorServer) was scraped ${num(start.extra.scrapes)} times back to back. ` +
          'Collector memory at each checkpoint (after a full GC):',
        '',
        '| Tasks | Scrapes | RSS | Private (RssAnon) | Shared table pages (RssShmem) | JS heap |',
        '| ---: | ---: | ---: | ---: | ---: | ---: |',
      );
      for (const c of start.extra.checkpoints) {
        lines.push(
          `| ${num(c.tasks)} | ${num(c.scrapes)} | ${num(c.rssMB)} MB | ${num(c.anonMB)} MB | ${num(c.shmemMB)} MB | ${num(c.heapMB)} MB |`,
        );
      }
    }
    for (const key of ['memory.slot-default', 'memory.slot-4096']) {
      const r = byKey.get(key);
      if (r) {
        lines.push(
          '',
          `dataSize ${r.extra.dataSize}: ${num(r.extra.totalBytes)} bytes for ` +
            `${num(r.extra.maxTasks)} slots (row ${num(r.extra.rowBytes)} bytes; the rest is ` +
            'the header, the occupancy bitmap and the per-category counters).',
        );
      }
    }
  }
  if (group === 'update') {
    const s = byKey.get('update.syscalls-per-progress');
    if (s) {
      const names = Object.entries(s.extra.perUpdate)
        .map(([name, n]) => `${name} ${num(n)}`)
        .join(', ');
      lines.push(`System calls per native progress update, by name: ${names || 'none'}.`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Where test/e2e/load.test.ts (run by `npm run test:e2e` and .ci/run) leaves its figures. */
const LOAD_RESULTS = fileURLToPath(new URL('../../docs/load-results.json', import.meta.url));

/**
 * The collector under wrk load, from the last run of the e2e load test: it needs wrk and a
 * 40-second window, so it is measured there rather than in this suite, and quoted here
 * with its own date and machine.
 */
function loadSection() {
  if (!existsSync(LOAD_RESULTS)) {
    return '## Collector under load\n\nNo docs/load-results.json yet: run `npm run test:e2e`.\n';
  }
  const r = JSON.parse(readFileSync(LOAD_RESULTS, 'utf8'));
  const ms = (v) => `${num(v)} ms`;
  const lines = [
    '## Collector under load',
    '',
    `From test/e2e/load.test.ts, run ${r.generatedAt} on ${r.environment.cpuModel} ` +
      `(${r.environment.cpus} cores), Node ${r.environment.node}, wrk ${r.environment.wrk}: ` +
      `\`wrk ${r.setup.wrk}\` against \`task-table serve\`, one route after the other, ` +
      `while ${r.setup.writers} processes churned ${num(r.setup.tasksChurned)} tasks through a ` +
      `${num(r.setup.tableMaxTasks)}-slot table (responses: /metrics ` +
      `${num(r.setup.responseBytes.metrics)} bytes, /api/tasks ` +
      `${num(r.setup.responseBytes.apiTasks)} bytes).`,
    '',
    '| Route | Requests | Requests/s | p50 | p75 | p90 | p99 | Max | Socket errors | Non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [route, x] of Object.entries(r.routes)) {
    const errors = Object.values(x.socketErrors).reduce((a, b) => a + b, 0);
    const l = x.latencyMs;
    lines.push(
      `| ${route} | ${num(x.requests)} | ${num(x.requestsPerSecond)} | ${ms(l.p50)} | ` +
        `${ms(l.p75)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.max)} | ${errors} | ${x.non2xx} |`,
    );
  }
  const m = r.collectorMemoryMiB;
  lines.push(
    '',
    `Collector RSS: ${num(m.atStart)} MiB at start, ${num(m.afterWarmup)} MiB after the ` +
      `warm-up, ${num(m.afterLoad)} MiB after the load (${m.growth >= 0 ? '+' : ''}` +
      `${num(m.growth)} MiB; the test fails above +${num(m.limit)} MiB); peak ${num(m.peak)} MiB.`,
    '',
  );
  return lines.join('\n');
}

/** Builds the markdown and the SVG; returns { markdown, svg }. */
export function renderReport({ machine, profile, groups, results, evaluated, notes, errors }) {
  const byKey = new Map(results.map((r) => [r.key, r]));
  const out = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench${machine.mode === 'quick' ? ' -- --quick' : ''}\` ` +
      '(bench/index.mjs) against the built package in dist/. Do not edit: every figure ' +
      'below comes from that run on the machine described here; run it again to refresh.',
    '',
    '![Medians (bars) and p99 (ticks) of every timed benchmark](benchmarks.svg)',
    '',
    machineSection(machine),
  ];
  if (errors.length > 0) {
    out.push('## Errors', '', 'These groups failed; their rows are missing:', '');
    for (const e of errors) out.push(`- ${e.group}: ${cell(e.message)}`);
    out.push('');
  }
  if (notes.length > 0) {
    out.push('## Notes', '');
    for (const n of notes) out.push(`- ${n}`);
    out.push('');
  }
  out.push(targetsSection(evaluated));
  groups.forEach((g, i) => {
    const rows = results.filter((r) => r.group === g.group);
    if (rows.length === 0) return;
    out.push(`## ${i + 1}. ${g.title}`, '', groupTable(rows), '');
    const comparison = comparisonTable(g.group, byKey);
    if (comparison !== '') out.push(comparison);
    const extra = extraLines(g.group, rows);
    if (extra !== '') out.push(extra);
  });
  out.push(loadSection());
  out.push(methodSection(profile));

  const sections = groups
    .filter((g) => g.chart !== false)
    .map((g) => ({
      title: g.title,
      rows: chartRows(
        results.filter((r) => r.group === g.group && isTime(r.unit)),
        kindOf,
      ),
    }))
    .filter((s) => s.rows.length > 0);
  const svg = barChart(
    'observable-task-table benchmarks',
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date} (${machine.mode} mode)`,
    sections,
  );
  return { markdown: `${out.join('\n').trimEnd()}\n`, svg };
}

/** Writes the markdown to `path` and the SVG next to it (benchmarks.svg). */
export function writeReport(path, { markdown, svg }) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, markdown);
  writeFileSync(join(dirname(path), 'benchmarks.svg'), svg);
}

/** The short stdout summary: one line per target. */
export function summary({ targets: evaluated }, machine) {
  const lines = [
    '',
    `Benchmarks (${machine.mode}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}: ${num(machine.seconds)} s`,
  ];
  for (const t of evaluated) lines.push(`  ${t.status.padEnd(7)} ${t.text}: ${t.measured}`);
  const count = (s) => evaluated.filter((t) => t.status === s).length;
  lines.push(`  ${count('PASS')} passed, ${count('MISS')} missed, ${count('SKIPPED')} skipped`);
  return lines.join('\n');
}
