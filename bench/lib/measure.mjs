// Timing and statistics for the benchmark suite. Every figure in docs/benchmarks.md comes
// from here: a measurement is a number of samples taken after a warm-up, each sample the
// time of one batch of operations divided by the batch size, so that nanosecond-scale
// operations are not drowned by the cost of reading the clock (~20-40 ns per read).
//
// `run(n)` performs n operations in its own loop (sync or async) and is timed with
// process.hrtime.bigint(). The batch size is calibrated so that one sample lasts about
// `sampleMs`; results are the median and the 99th percentile of the per-operation times.

/** Settings of the two modes; `--quick` exists so that CI can run the suite in seconds. */
export const PROFILES = Object.freeze({
  full: Object.freeze({
    name: 'full',
    sampleMs: 2,
    samples: 200,
    minSamples: 20,
    warmupMs: 150,
    warmupCalls: 20,
    maxMs: 2500,
    rounds: 5,
  }),
  quick: Object.freeze({
    name: 'quick',
    sampleMs: 0.5,
    samples: 30,
    minSamples: 5,
    warmupMs: 20,
    warmupCalls: 3,
    maxMs: 250,
    rounds: 1,
  }),
});

const UNIT_NS = Object.freeze({ ns: 1, µs: 1e3, ms: 1e6, s: 1e9 });

/** Nearest-rank percentile of an ascending array (p in 0..1). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Median and p99 of raw samples. */
export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  return {
    median: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    n: sorted.length,
  };
}

/** A result row as report.mjs reads it. */
export function result({ key, group, name, unit, samples, extra = {} }) {
  const s = summarize(samples);
  return { key, group, name, unit, median: s.median, p99: s.p99, n: s.n, extra };
}

/** A single observed value (a size, a count): median = p99 = value, n = 1. */
export function single({ key, group, name, unit, value, extra = {} }) {
  return { key, group, name, unit, median: value, p99: value, n: 1, extra };
}

function gc() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

async function timeRun(run, n) {
  const start = process.hrtime.bigint();
  const pending = run(n);
  if (pending !== undefined && typeof pending.then === 'function') await pending;
  return Number(process.hrtime.bigint() - start);
}

/** Settings of one spec under `profile`. */
function settings(profile, spec) {
  const wantSamples = spec.samples ?? profile.samples;
  return {
    sampleNs: (spec.sampleMs ?? profile.sampleMs) * 1e6,
    wantSamples,
    minSamples: Math.min(wantSamples, spec.minSamples ?? profile.minSamples),
    maxNs: (spec.maxMs ?? profile.maxMs) * 1e6,
    warmupNs: (spec.warmupMs ?? profile.warmupMs) * 1e6,
    // Operations done by one call of run(1), e.g. 100 for one pipeline of 100 commands.
    opsPerCall: spec.opsPerCall ?? 1,
  };
}

/** Calibrates the batch of `spec` (this also starts its warm-up: JIT tiers, caches). */
async function calibrate(spec, sampleNs) {
  if (spec.batch !== undefined) return spec.batch;
  // The first calls run cold (interpreter, page faults): never calibrate on them.
  for (let i = 0; i < 3; i++) await timeRun(spec.run, 1);
  let batch = 1;
  for (;;) {
    // The faster of two runs: one preempted run must not stop the batch from growing.
    const ns = Math.min(await timeRun(spec.run, batch), await timeRun(spec.run, batch));
    if (ns >= sampleNs || batch >= 1 << 24) return batch;
    batch *= ns <= 0 ? 16 : Math.min(16, Math.max(2, Math.ceil((sampleNs / ns) * 1.1)));
  }
}

/**
 * Warm-up: at least `warmupNs` and `calls` batches, so that slow operations (one per
 * sample) also reach the optimizing compiler before the first sample.
 */
async function warmUp(run, batch, warmupNs, calls) {
  const end = process.hrtime.bigint() + BigInt(Math.round(warmupNs));
  for (let i = 0; i < calls || process.hrtime.bigint() < end; i++) await timeRun(run, batch);
}

/** Takes samples until `want` (or `min` once `maxNs` has passed); appends to `samples`. */
async function sample(run, batch, opsPerCall, samples, { want, min, maxNs }) {
  const started = process.hrtime.bigint();
  const first = samples.length;
  while (samples.length - first < want) {
    samples.push((await timeRun(run, batch)) / (batch * opsPerCall));
    const elapsed = Number(process.hrtime.bigint() - started);
    if (samples.length - first >= min && elapsed > maxNs) break;
  }
}

function finish(spec, batch, opsPerCall, samples, startedNs) {
  const { key, group, name, unit = 'ns', extra = {} } = spec;
  const scale = UNIT_NS[unit];
  if (scale === undefined) throw new Error(`unknown unit ${unit}`);
  if (process.env.BENCH_VERBOSE) {
    const ms = Number(process.hrtime.bigint() - startedNs) / 1e6;
    console.log(
      `    ${key}: ${samples.length} samples of ${batch * opsPerCall} ops, ${ms.toFixed(0)} ms`,
    );
  }
  return result({
    key,
    group,
    name,
    unit,
    samples: samples.map((ns) => ns / scale),
    extra: { opsPerSample: batch * opsPerCall, ...extra },
  });
}

/**
 * Measures `spec.run(n)`. Spec options: `batch` fixes the calls of run per sample
 * (otherwise calibrated), `opsPerCall` divides further (one call = a pipeline of 100
 * commands), `samples`/`maxMs`/`sampleMs`/`warmupMs` override the profile (e.g. for slow
 * operations), `unit` is the unit of the reported values ('ns', 'µs', 'ms').
 */
export async function measure(profile, spec) {
  const o = settings(profile, spec);
  gc();
  const startedNs = process.hrtime.bigint();
  const batch = await calibrate(spec, o.sampleNs);
  await warmUp(spec.run, batch, o.warmupNs, profile.warmupCalls);
  const samples = [];
  await sample(spec.run, batch, o.opsPerCall, samples, {
    want: o.wantSamples,
    min: o.minSamples,
    maxNs: o.maxNs,
  });
  return finish(spec, batch, o.opsPerCall, samples, startedNs);
}

/**
 * Measures several specs in `profile.rounds` interleaved rounds (each round takes its
 * share of every spec's samples, after a short re-warm-up), so that a slow spell of a
 * shared machine spreads over all the rows compared with one another instead of landing
 * on one of them. Returns the results in the order of `specs`.
 */
export async function measureAll(profile, specs) {
  const rounds = profile.rounds ?? 1;
  const states = [];
  for (const spec of specs) {
    const o = settings(profile, spec);
    gc();
    const startedNs = process.hrtime.bigint();
    const batch = await calibrate(spec, o.sampleNs);
    states.push({ spec, o, batch, startedNs, samples: [] });
  }
  for (let round = 0; round < rounds; round++) {
    for (const st of states) {
      const { spec, o, batch } = st;
      const calls = round === 0 ? profile.warmupCalls : Math.ceil(profile.warmupCalls / 4);
      await warmUp(spec.run, batch, round === 0 ? o.warmupNs : o.warmupNs / 4, calls);
      await sample(spec.run, batch, o.opsPerCall, st.samples, {
        want: Math.ceil(o.wantSamples / rounds),
        min: Math.ceil(o.minSamples / rounds),
        maxNs: o.maxNs / rounds,
      });
    }
  }
  return states.map((st) => finish(st.spec, st.batch, st.o.opsPerCall, st.samples, st.startedNs));
}

/** Converts a result's median (or p99) to nanoseconds, for ratios across units. */
export function toNs(r, field = 'median') {
  const scale = UNIT_NS[r.unit];
  if (scale === undefined) throw new Error(`result ${r.key} has no time unit (${r.unit})`);
  return r[field] * scale;
}
