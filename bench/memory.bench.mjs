// Group 4: memory. The shared memory a table reserves per slot (fixed at creation), and
// the resident memory of a collector process while a very large number of tasks passes
// through the table it serves and it is scraped all along: it must stay flat, because a
// scrape never keeps anything per task.
import { request, Agent } from 'node:http';

import { ObservableTaskTable } from '../dist/lib/index.js';
import { single } from './lib/measure.mjs';
import { forkFixture, uniqueTableName, unlinkTable } from './lib/workload.mjs';

export const group = 'memory';
export const title = 'Memory';

const MB = 1024 * 1024;
const CHECKPOINTS = 10;

function bytesPerSlot(dataSize) {
  const name = uniqueTableName(`layout-${dataSize ?? 'default'}`);
  const options = dataSize === undefined ? { name } : { name, dataSize };
  const table = ObservableTaskTable.open(options);
  try {
    const { totalBytes, maxTasks, rowBytes } = table.layout;
    const size = table.layout.dataSize;
    return single({
      key: `memory.slot-${dataSize === undefined ? 'default' : dataSize}`,
      group,
      name: `shared memory per slot, dataSize ${size}${dataSize === undefined ? ' (default)' : ''}`,
      unit: 'bytes',
      value: totalBytes / maxTasks,
      extra: { dataSize: size, rowBytes, totalBytes, maxTasks },
    });
  } finally {
    table.close();
    unlinkTable(name);
  }
}

function scrape(agent, url) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}metrics`, { agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.setTimeout(10000, () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes `url` back to back until `until` settles; resolves with the number of scrapes. */
async function scrapeUntil(agent, url, until) {
  let settled = false;
  until.then(
    () => (settled = true),
    () => (settled = true),
  );
  let scrapes = 0;
  while (!settled) {
    await scrape(agent, url);
    scrapes++;
  }
  return scrapes;
}

async function collectorMemory(ctx) {
  const tasks = ctx.quick ? 100000 : 1000000;
  const name = uniqueTableName('memory');
  const table = ObservableTaskTable.open({ name });
  const collector = forkFixture('collector-server.mjs', [name], { execArgv: ['--expose-gc'] });
  const churn = forkFixture('task-churn.mjs', [name, 100]);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const memory = async () => {
    collector.send({ type: 'memory' });
    const m = await collector.next('memory', 15000);
    return {
      rssMB: m.rss / MB,
      anonMB: m.rssAnon === null ? null : m.rssAnon / MB,
      shmemMB: m.rssShmem === null ? null : m.rssShmem / MB,
      heapMB: m.heapUsed / MB,
    };
  };
  try {
    const [{ url }] = await Promise.all([
      collector.next('ready', 15000),
      churn.next('ready', 15000),
    ]);
    for (let i = 0; i < 20; i++) await scrape(agent, url);
    const checkpoints = [{ tasks: 0, scrapes: 20, ...(await memory()) }];
    let scrapes = 20;
    const started = Date.now();
    for (let k = 1; k <= CHECKPOINTS; k++) {
      churn.send({ type: 'run', count: tasks / CHECKPOINTS });
      const ran = churn.next('ran', 600000);
      scrapes += await scrapeUntil(agent, url, ran);
      const { total } = await ran;
      checkpoints.push({ tasks: total, scrapes, ...(await memory()) });
      const c = checkpoints.at(-1);
      ctx.log(
        `    ${total.toLocaleString('en-US')} tasks, ${scrapes} scrapes: collector RSS ` +
          `${c.rssMB.toFixed(1)} MB (private ${c.anonMB?.toFixed(1)}, shared ${c.shmemMB?.toFixed(1)})`,
      );
    }
    const seconds = (Date.now() - started) / 1000;
    const first = checkpoints[0];
    // Memory is flat when the second half of the run peaks no higher than the first: the
    // peaks, because RSS moves with when the collector's GC last ran; the halves, because
    // a leak of even a few bytes per task would raise every later peak.
    const half = CHECKPOINTS / 2;
    const peak = (from, to, field) => Math.max(...checkpoints.slice(from, to).map((c) => c[field]));
    const growth = (field) => peak(half + 1, CHECKPOINTS + 1, field) - peak(0, half + 1, field);
    const warm = checkpoints[half];
    const last = checkpoints.at(-1);
    const extra = { tasks: last.tasks, scrapes, seconds, checkpoints };
    const fmt = (n) => n.toLocaleString('en-US');
    const rows = [
      single({
        key: 'memory.rss-start',
        group,
        name: 'collector RSS before any task (after 20 scrapes)',
        unit: 'MB',
        value: first.rssMB,
        extra,
      }),
      single({
        key: 'memory.rss-end',
        group,
        name: `collector RSS after ${fmt(last.tasks)} tasks and ${fmt(scrapes)} scrapes`,
        unit: 'MB',
        value: last.rssMB,
      }),
      single({
        key: 'memory.shmem-end',
        group,
        name: `of which: pages of the shared table mapped (RssShmem; the table is ${(table.layout.totalBytes / MB).toFixed(1)} MB)`,
        unit: 'MB',
        value: last.shmemMB ?? NaN,
      }),
      single({
        key: 'memory.anon-growth',
        group,
        name: `collector private RSS (RssAnon): peak after ${fmt(warm.tasks)} tasks minus peak before`,
        unit: 'MB',
        value: last.anonMB === null ? NaN : growth('anonMB'),
      }),
      single({
        key: 'memory.heap-growth',
        group,
        name: `collector JS heap (after GC): peak after ${fmt(warm.tasks)} tasks minus peak before`,
        unit: 'MB',
        value: growth('heapMB'),
      }),
    ];
    return rows;
  } finally {
    agent.destroy();
    await Promise.all([churn.stop(), collector.stop()]);
    table.close();
    unlinkTable(name);
  }
}

/** Runs group 4. */
export async function run(ctx) {
  return [bytesPerSlot(undefined), bytesPerSlot(4096), ...(await collectorMemory(ctx))];
}
