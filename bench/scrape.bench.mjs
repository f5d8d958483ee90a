// Group 2: scraping 10,000 live tasks in 50 categories, every family of design.md, next
// to what users run today: prom-client's AggregatorRegistry in a node:cluster primary
// whose workers keep the same families themselves, and a Redis SCAN + HGETALL of one hash
// per task. Also the raw native scans under the exporter (issue 2) at 10,000 and 100,000
// rows, and iteration yielding row objects.
import { request, Agent } from 'node:http';

import { Registry } from 'prom-client';

import { ObservableTaskTable } from '../dist/lib/index.js';
import * as prometheus from '../dist/exporters/prometheus/index.js';
import { measure, measureAll } from './lib/measure.mjs';
import { buildFamilies } from './lib/prom-families.mjs';
import {
  categoryNames,
  fillTable,
  forkFixture,
  openShared,
  uniqueTableName,
  unlinkTable,
} from './lib/workload.mjs';

export const group = 'scrape';
export const title = 'Scraping 10,000 live tasks in 50 categories';

export const LIVE_TASKS = 10000;
export const CATEGORIES = 50;
/** Tasks run to a final status before the live ones, so counters and histograms hold data. */
export const COMPLETED_TASKS = 5000;

/** Counts the sample lines (series) of a text exposition. */
export function seriesLines(text) {
  let n = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) n++;
  return n;
}

/** GET `url` on a keep-alive agent; resolves with the body's length in bytes. */
function httpGet(agent, url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        else resolve(bytes);
      });
      res.on('error', reject);
    });
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A readable table of `rows` live tasks (plus history), with its writer and reader handles. */
function liveTable(label, rows) {
  const name = uniqueTableName(label);
  const writer = openShared({ name, maxTasks: rows });
  fillTable(writer, rows, {
    categories: categoryNames(CATEGORIES),
    history: Math.min(COMPLETED_TASKS, rows),
  });
  const reader = ObservableTaskTable.open({ name, readOnly: true });
  const raw = openShared({ name, readOnly: true });
  return {
    name,
    writer,
    reader,
    raw,
    close() {
      raw.close();
      reader.close();
      writer.close();
      unlinkTable(name);
    },
  };
}

/** Specs of the raw native scans (no allocation per row) and the decoding above them. */
function rawScanSpecs(raw, rows, withDecode) {
  const label = rows.toLocaleString('en-US');
  const handle = raw.handle('bench');
  let buffer = Buffer.alloc(1024);
  const needed = handle.snapshot(buffer);
  if (needed < 0) buffer = Buffer.alloc(Math.ceil(-needed * 1.25));
  const specs = [
    {
      key: `scrape.scan-stats-${rows}`,
      name: `raw consistent scan of ${label} rows, aggregated per category (scanStats)`,
      unit: 'ms',
      run(k) {
        for (let i = 0; i < k; i++) raw.scanStats(Date.now());
      },
    },
    {
      key: `scrape.snapshot-copy-${rows}`,
      name: `raw consistent copy of ${label} rows into a reused buffer (native snapshot)`,
      unit: 'ms',
      run(k) {
        for (let i = 0; i < k; i++) {
          if (handle.snapshot(buffer) < 0) throw new Error('snapshot buffer too small');
        }
      },
      extra: { rows },
    },
  ];
  if (withDecode) {
    specs.push({
      key: `scrape.snapshot-decode-${rows}`,
      name: `copy + decode ${label} rows into plain records (SharedTable.snapshot)`,
      unit: 'ms',
      run(k) {
        for (let i = 0; i < k; i++) {
          if (raw.snapshot().rows.length !== rows) throw new Error('lost rows');
        }
      },
    });
  }
  return specs;
}

/** Specs of our scrape paths over the 10,000-task table. */
async function ourScrapeSpecs(t) {
  const registry = new Registry();
  prometheus.registerTaskTableMetrics(registry, [t.reader]);
  const text = await registry.metrics();
  const specs = [
    {
      key: 'scrape.metrics',
      name: 'our /metrics rendering: registry.metrics() with registerTaskTableMetrics',
      unit: 'ms',
      run: async (k) => {
        for (let i = 0; i < k; i++) await registry.metrics();
      },
      extra: { lines: seriesLines(text), bytes: Buffer.byteLength(text) },
    },
  ];
  // The collector's own /metrics renders the text directly from the snapshots (when this
  // build has that renderer; it is measured in-process here, over HTTP separately).
  const { renderPrometheusText, collectTableSnapshots } = prometheus;
  if (typeof renderPrometheusText === 'function' && typeof collectTableSnapshots === 'function') {
    const direct = renderPrometheusText(collectTableSnapshots([t.reader]));
    specs.push({
      key: 'scrape.render-direct',
      name: 'collector /metrics rendering: renderPrometheusText(collectTableSnapshots(...))',
      unit: 'ms',
      run(k) {
        for (let i = 0; i < k; i++) renderPrometheusText(collectTableSnapshots([t.reader]));
      },
      extra: { lines: seriesLines(direct), bytes: Buffer.byteLength(direct) },
    });
  }
  let rows = 0;
  specs.push(
    {
      key: 'scrape.read-metrics',
      name: 'of which: one consistent read + aggregation (table.readMetrics())',
      unit: 'ms',
      run(k) {
        for (let i = 0; i < k; i++) t.reader.readMetrics();
      },
    },
    {
      key: 'scrape.iterate-10000',
      name: 'iteration yielding 10,000 row objects (for..of table)',
      unit: 'ms',
      run(k) {
        for (let i = 0; i < k; i++) {
          rows = 0;
          for (const [id, row] of t.reader) if (id !== '' && row.slot >= 0) rows++;
          if (rows !== LIVE_TASKS) throw new Error(`iteration yielded ${rows} rows`);
        }
      },
    },
  );
  return specs;
}

/** GET /metrics of a collector process serving table `name`. */
async function httpScrape(profile, name) {
  const collector = forkFixture('collector-server.mjs', [name]);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const { url } = await collector.next('ready', 15000);
    const bytes = await httpGet(agent, `${url}metrics`);
    return await measure(profile, {
      key: 'scrape.http',
      group,
      name: 'GET /metrics over HTTP from createCollectorServer (own process, 127.0.0.1)',
      unit: 'ms',
      run: async (k) => {
        for (let i = 0; i < k; i++) await httpGet(agent, `${url}metrics`);
      },
      extra: { bytes },
    });
  } finally {
    agent.destroy();
    await collector.stop();
  }
}

/** prom-client rendering the same families from its own metrics, in one process. */
async function promSingleSpec() {
  const registry = new Registry();
  buildFamilies(registry, {
    index: 0,
    workers: 1,
    live: LIVE_TASKS,
    completed: COMPLETED_TASKS,
    categoryCount: CATEGORIES,
  });
  const text = await registry.metrics();
  return {
    key: 'scrape.prom-single',
    name: 'prom-client registry.metrics() of the same families, one process (no aggregation)',
    unit: 'ms',
    run: async (k) => {
      for (let i = 0; i < k; i++) await registry.metrics();
    },
    extra: { lines: seriesLines(text), bytes: Buffer.byteLength(text) },
  };
}

/** prom-client's AggregatorRegistry over `workers` cluster workers (measured in the primary). */
export async function clusterAggregation(profile, workers, { live, completed, key, name }) {
  const primary = forkFixture('cluster-primary.mjs', [
    workers,
    live,
    completed,
    CATEGORIES,
    profile.name,
    key,
    group,
    name,
  ]);
  try {
    const message = await primary.next('result', 300000);
    return message.result;
  } finally {
    await primary.stop();
  }
}

async function redisScan(profile, redis) {
  const client = redis.client();
  const categories = categoryNames(CATEGORIES);
  await client.flushall();
  for (let start = 0; start < LIVE_TASKS; start += 1000) {
    const pipeline = client.pipeline();
    for (let i = start; i < start + 1000; i++) {
      pipeline.hset(`task:${i}`, {
        name: `task-${i}.bin`,
        category: categories[i % CATEGORIES],
        status: i % 10 === 0 ? 'pending' : 'running',
        progress: String((i % 100) / 100),
        data: JSON.stringify({ file: `input-${i}.bin`, bytes: i * 1024 }),
        startedAt: String(Date.now()),
        modifiedAt: String(Date.now()),
      });
    }
    await pipeline.exec();
  }
  let seen = 0;
  const scanAll = async () => {
    const counts = new Map();
    seen = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', 'task:*', 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = client.pipeline();
      for (const k of keys) pipeline.hgetall(k);
      for (const [error, row] of await pipeline.exec()) {
        if (error) throw error;
        const label = `${row.category}\u0000${row.status}`;
        counts.set(label, (counts.get(label) ?? 0) + 1);
        seen++;
      }
    } while (cursor !== '0');
    return counts;
  };
  await scanAll();
  if (seen !== LIVE_TASKS) throw new Error(`Redis scan saw ${seen} tasks, not ${LIVE_TASKS}`);
  const result = await measure(profile, {
    key: 'scrape.redis-scan',
    group,
    name: 'Redis SCAN + pipelined HGETALL of 10,000 task hashes (counted per category/status)',
    unit: 'ms',
    run: async (k) => {
      for (let i = 0; i < k; i++) await scanAll();
    },
    extra: { keys: seen },
  });
  await client.flushall();
  client.disconnect();
  return result;
}

/** Runs group 2; `ctx.redis` is a started server or `{ skipped }`. */
export async function run(ctx) {
  const { profile } = ctx;
  const results = [];
  const t10k = liveTable('scrape-10k', LIVE_TASKS);
  const t100k = liveTable('scrape-100k', 100000);
  try {
    const specs = [
      ...(await ourScrapeSpecs(t10k)),
      ...rawScanSpecs(t10k.raw, LIVE_TASKS, true),
      ...rawScanSpecs(t100k.raw, 100000, false),
      await promSingleSpec(),
    ].map((spec) => ({ group, ...spec }));
    // Interleaved rounds: these rows are compared with one another.
    results.push(...(await measureAll(profile, specs)));
    results.push(await httpScrape(profile, t10k.name));
  } finally {
    t100k.close();
    t10k.close();
  }
  for (const workers of [2, 4]) {
    ctx.log(`  prom-client AggregatorRegistry with ${workers} cluster workers`);
    results.push(
      await clusterAggregation(profile, workers, {
        live: LIVE_TASKS,
        completed: COMPLETED_TASKS,
        key: `scrape.cluster-${workers}`,
        name: `prom-client AggregatorRegistry.clusterMetrics(), ${workers} cluster workers`,
      }),
    );
  }
  if (!ctx.redis.skipped) results.push(await redisScan(profile, ctx.redis));
  return results;
}
