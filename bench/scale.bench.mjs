// Group 3: how costs move with the size of the table, with how full it is, and with the
// number of processes writing to it. A status update must cost the same at 1,000 and
// 100,000 slots; a scrape grows at most linearly; a claim in a 99% full table costs at
// most twice what it costs in an empty one; writers in separate processes scale; and a
// scrape does not wait for writers, however many and however busy.
import { Registry } from 'prom-client';

import { ObservableTaskTable } from '../dist/lib/index.js';
import * as prometheus from '../dist/exporters/prometheus/index.js';
import { measure, measureAll, result } from './lib/measure.mjs';
import {
  STATUS_CODES,
  categoryNames,
  fillTable,
  forkFixture,
  openShared,
  uniqueTableName,
  unlinkTable,
} from './lib/workload.mjs';

export const group = 'scale';
export const title = 'Scale: table size, fill level and writer processes';

const SIZES = [1000, 10000, 100000];
const CATEGORIES = 50;
export const WRITER_COUNTS = [1, 2, 4, 8];

/**
 * One scrape as the collector does it: the direct text rendering its /metrics serves
 * when this build has it, else prom-client's Registry with registerTaskTableMetrics.
 */
function scraper(reader) {
  const { renderPrometheusText, collectTableSnapshots } = prometheus;
  if (typeof renderPrometheusText === 'function' && typeof collectTableSnapshots === 'function') {
    return {
      path: 'renderPrometheusText',
      scrape: async () => renderPrometheusText(collectTableSnapshots([reader])),
    };
  }
  const registry = new Registry();
  prometheus.registerTaskTableMetrics(registry, [reader]);
  return { path: 'registry.metrics()', scrape: () => registry.metrics() };
}

/** CPU time (user + system, this process) per scrape, in ms, over `count` scrapes. */
async function cpuPerScrape(scrape, count) {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await scrape();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}

/**
 * A full table of `size` slots (one task of it run by table.run(), whose report is
 * returned) and the specs of its status-update cost and scrape time.
 */
function sizedTable(size) {
  const name = uniqueTableName(`scale-${size}`);
  const writer = openShared({ name, maxTasks: size });
  const table = ObservableTaskTable.open({ name });
  const reader = ObservableTaskTable.open({ name, readOnly: true });
  const label = size.toLocaleString('en-US');
  fillTable(writer, size - 1, {
    categories: categoryNames(CATEGORIES),
    history: Math.min(5000, size),
  });
  let report;
  let end;
  const done = table.run({ name: 'measured', category: 'category-00' }, (r) => {
    report = r;
    return new Promise((resolve) => (end = resolve));
  });
  const { path, scrape } = scraper(reader);
  const specs = [
    {
      key: `scale.status-${size}`,
      name: `report.status() with small data, table of ${label} slots (full)`,
      run(n) {
        for (let i = 0; i < n; i++) report.status('running', { file: 'input.bin', bytes: i });
      },
    },
    {
      key: `scale.scrape-${size}`,
      name: `scrape (collector /metrics rendering), table of ${label} slots (full)`,
      unit: 'ms',
      run: async (n) => {
        for (let i = 0; i < n; i++) await scrape();
      },
      extra: { rows: size, path },
    },
    {
      key: `scale.read-${size}`,
      name: `of which: table.readMetrics(), table of ${label} slots (full)`,
      unit: 'ms',
      run(n) {
        for (let i = 0; i < n; i++) reader.readMetrics();
      },
      extra: { rows: size },
    },
  ];
  return {
    specs,
    async close() {
      end();
      await done;
      reader.close();
      table.close();
      writer.close();
      unlinkTable(name);
    },
  };
}

/**
 * A table of 10,000 slots held at `fill` live tasks, and the spec of claim + release
 * pairs in it: each pair claims a new slot and ends the oldest task, so the free slots
 * wander through the table as they do under a real workload.
 */
function claimTable(fill, percent) {
  const name = uniqueTableName(`claim-${percent}`);
  const shared = openShared({ name, maxTasks: 10000 });
  const ring = fillTable(shared, fill, { categories: categoryNames(CATEGORIES) });
  let next = 0;
  return {
    spec: {
      key: `scale.claim-${percent}`,
      name: `claim + release, table ${percent}% full (${fill.toLocaleString('en-US')} of 10,000)`,
      run(n) {
        for (let i = 0; i < n; i++) {
          const claim = shared.claim('claimed', 'category-00', 0);
          if (claim === null) throw new Error('table full');
          const old = ring[next];
          shared.update(old.slot, old.generation, STATUS_CODES.finished, undefined);
          ring[next] = claim;
          next = (next + 1) % ring.length;
        }
      },
    },
    close() {
      shared.close();
      unlinkTable(name);
    },
  };
}

/** Total report.progress() rate of `writers` processes, each on its own slot. */
async function throughput(profile, writers, quick) {
  const name = uniqueTableName(`throughput-${writers}`);
  const table = ObservableTaskTable.open({ name, maxTasks: 64 });
  const procs = Array.from({ length: writers }, () => forkFixture('progress-writer.mjs', [name]));
  const rounds = quick ? 3 : 7;
  const ms = quick ? 300 : 1500;
  try {
    await Promise.all(procs.map((p) => p.next('ready', 15000)));
    const samples = [];
    const perWriter = [];
    for (let round = 0; round < rounds + 1; round++) {
      for (const p of procs) p.send({ type: 'go', ms });
      const done = await Promise.all(procs.map((p) => p.next('done', ms + 15000)));
      if (round === 0) continue; // warm-up round
      const rates = done.map((d) => (d.count / d.ns) * 1e9);
      perWriter.push(rates.map((r) => Math.round(r)));
      samples.push(rates.reduce((a, b) => a + b, 0) / 1e6);
    }
    return result({
      key: `scale.throughput-${writers}`,
      group,
      name: `report.progress() throughput, ${writers} writer process${writers > 1 ? 'es' : ''} (total)`,
      unit: 'M updates/s',
      samples,
      extra: { roundMs: ms, perWriterPerRound: perWriter },
    });
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    table.close();
    unlinkTable(name);
  }
}

/** Scrape time of 10,000 live tasks owned by `writers` processes with busy event loops. */
async function scrapeWithWriters(ctx, writers) {
  const { profile } = ctx;
  const name = uniqueTableName(`busy-${writers}`);
  const table = ObservableTaskTable.open({ name, maxTasks: 10000 });
  const share = Math.floor(10000 / writers);
  const procs = Array.from({ length: writers }, (_, i) =>
    forkFixture('busy-writer.mjs', [name, i, share, CATEGORIES]),
  );
  try {
    await Promise.all(procs.map((p) => p.next('ready', 30000)));
    for (const p of procs) p.send({ type: 'start' });
    await Promise.all(procs.map((p) => p.next('started', 15000)));
    const reader = ObservableTaskTable.open({ name, readOnly: true });
    try {
      const { path, scrape } = scraper(reader);
      const r = await measure(profile, {
        key: `scale.scrape-writers-${writers}`,
        group,
        name: `scrape of 10,000 live tasks owned by ${writers} busy writer process${writers > 1 ? 'es' : ''}`,
        unit: 'ms',
        run: async (n) => {
          for (let i = 0; i < n; i++) await scrape();
        },
        extra: { path },
      });
      r.extra.cpuMsPerScrape = await cpuPerScrape(scrape, profile.name === 'quick' ? 3 : 20);
      // A reader never waits for a writer: a row that stays mid-write through all of the
      // reader's retries (its writer preempted inside the write) is skipped and counted.
      const reads = profile.name === 'quick' ? 10 : 100;
      let skipped = 0;
      for (let i = 0; i < reads; i++) skipped += reader.readMetrics().unreadableRows;
      Object.assign(r.extra, { rows: reader.readMetrics().rows, skipped, reads });
      return r;
    } finally {
      reader.close();
    }
  } finally {
    const stopped = await Promise.all(
      procs.map(async (p) => {
        p.send({ type: 'stop' });
        const m = await p.next('stopped', 15000).catch(() => ({ updates: 0 }));
        await p.stop();
        return m.updates;
      }),
    );
    table.close();
    unlinkTable(name);
    ctx.log(
      `    writers made ${stopped.reduce((a, b) => a + b, 0).toLocaleString('en-US')} updates`,
    );
  }
}

/** Runs group 3. */
export async function run(ctx) {
  const { profile, quick } = ctx;
  const results = [];
  const sized = [];
  const claims = [];
  try {
    for (const size of SIZES) sized.push(sizedTable(size));
    claims.push(claimTable(100, 1), claimTable(9900, 99));
    const specs = [...sized.flatMap((t) => t.specs), ...claims.map((c) => c.spec)];
    // Interleaved rounds: sizes and fill levels are compared with one another.
    results.push(
      ...(await measureAll(
        profile,
        specs.map((spec) => ({ group, ...spec })),
      )),
    );
  } finally {
    for (const t of sized) await t.close();
    for (const c of claims) c.close();
  }
  for (const writers of [1, 2]) results.push(await throughput(profile, writers, quick));
  for (const writers of WRITER_COUNTS) {
    ctx.log(`  scrape with ${writers} busy writer process(es)`);
    results.push(await scrapeWithWriters(ctx, writers));
  }
  return results;
}
