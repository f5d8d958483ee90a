// The benchmark suite: `npm run bench` (full, a few minutes) or `npm run bench -- --quick`
// (CI: the whole suite in seconds, few samples). Runs every bench/*.bench.mjs module
// against the built package in dist/, checks the targets of the issues, writes
// docs/benchmarks.md and docs/benchmarks.svg, and prints a summary.
//
// Options: --quick; --only=update,scrape (run some groups; the report then says which
// targets could not be checked); --out=PATH (default docs/benchmarks.md, or
// bench-results/benchmarks-quick.md with --quick, so that a quick run never replaces the
// committed report).
import { createRequire } from 'node:module';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { PROFILES } from './lib/measure.mjs';
import { startRedis } from './lib/redis.mjs';
import { renderReport, summary, writeReport } from './lib/report.mjs';
import { evaluateTargets } from './lib/targets.mjs';
import { cleanup } from './lib/workload.mjs';

const MODULES = ['update', 'scrape', 'scale', 'memory', 'counters'];

function parseArgs(argv) {
  const args = { quick: false, only: MODULES, out: undefined };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg.startsWith('--only=')) args.only = arg.slice(7).split(',');
    else if (arg.startsWith('--out=')) args.out = arg.slice(6);
    else throw new Error(`unknown argument ${arg} (use --quick, --only=GROUP,..., --out=PATH)`);
  }
  args.out ??= args.quick ? 'bench-results/benchmarks-quick.md' : 'docs/benchmarks.md';
  const unknown = args.only.filter((g) => !MODULES.includes(g));
  if (unknown.length > 0) throw new Error(`unknown group(s) ${unknown} (groups: ${MODULES})`);
  return args;
}

function packageVersion(name) {
  const require = createRequire(import.meta.url);
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return 'not installed';
  }
}

function machineInfo(mode) {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    ram: os.totalmem(),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    promClient: packageVersion('prom-client'),
    ioredis: packageVersion('ioredis'),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    mode,
    loadStart: os.loadavg(),
  };
}

/** Ends the run cleanly on a signal or when the whole suite overruns its time. */
function installGuards(limitMs, stopRedis) {
  let ending = false;
  const abort = async (reason, code) => {
    if (ending) return;
    ending = true;
    console.error(`bench: ${reason}; stopping children and removing tables`);
    cleanup();
    await stopRedis().catch(() => {});
    process.exit(code);
  };
  const watchdog = setTimeout(() => abort(`still running after ${limitMs / 1000} s`, 1), limitMs);
  watchdog.unref();
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  // Whatever happens, no child and no table outlives the run.
  process.once('exit', cleanup);
  return () => clearTimeout(watchdog);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mode = args.quick ? 'quick' : 'full';
  const profile = PROFILES[mode];
  const started = process.hrtime.bigint();
  if (typeof globalThis.gc !== 'function') {
    console.warn('bench: run with --expose-gc (npm run bench does) for steadier figures');
  }
  const machine = machineInfo(mode);
  let redis = { skipped: 'not needed by the selected groups' };
  const stopRedis = async () => redis.stop?.();
  const disarm = installGuards(args.quick ? 120_000 : 900_000, stopRedis);
  const notes = [];
  const errors = [];
  const results = [];
  const groups = [];
  const log = (message) => console.log(message);
  try {
    if (args.only.includes('update') || args.only.includes('scrape')) {
      redis = await startRedis();
      if (redis.skipped) {
        notes.push(`Redis rows skipped: ${redis.skipped}.`);
        console.log(`bench: NOTE: ${redis.skipped}; the Redis rows are skipped`);
      }
    }
    machine.redis = redis.skipped ? `not run (${redis.skipped})` : redis.version;
    for (const name of MODULES.filter((m) => args.only.includes(m))) {
      const module = await import(`./${name}.bench.mjs`);
      groups.push({ group: module.group, title: module.title });
      const t0 = process.hrtime.bigint();
      log(`bench: ${module.title} ...`);
      try {
        const rows = await module.run({ profile, quick: args.quick, redis, log, notes });
        results.push(...rows);
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        log(`bench:   ${rows.length} rows in ${s.toFixed(1)} s`);
      } catch (error) {
        errors.push({ group: module.group, message: error.message });
        console.error(`bench: group ${module.group} failed:`, error);
      }
    }
  } finally {
    await stopRedis();
    cleanup();
    disarm();
  }
  machine.loadEnd = os.loadavg();
  machine.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (args.only.length < MODULES.length) {
    notes.push(`Only these groups were run: ${args.only.join(', ')}.`);
  }
  const evaluated = evaluateTargets(results, machine);
  const report = renderReport({ machine, profile, groups, results, evaluated, notes, errors });
  const out = resolve(fileURLToPath(new URL('..', import.meta.url)), args.out);
  writeReport(out, report);
  console.log(summary(evaluated, machine));
  console.log(`bench: wrote ${args.out} and benchmarks.svg next to it`);
  if (errors.length > 0) {
    console.error(`bench: ${errors.length} group(s) failed: ${errors.map((e) => e.group)}`);
    process.exitCode = 1;
  }
}

await main();
