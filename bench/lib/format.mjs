// Number formatting shared by the report and the target explanations, so that a figure
// reads the same in the tables, in the prose and on stdout.

const TIME_UNITS = [
  ['s', 1e9],
  ['ms', 1e6],
  ['µs', 1e3],
  ['ns', 1],
];
const UNIT_NS = Object.freeze({ ns: 1, µs: 1e3, ms: 1e6, s: 1e9 });

/** A number with three significant digits; integers, and numbers above 1,000, in full with commas. */
export function num(value) {
  if (!Number.isFinite(value)) return 'n/a';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** True when `unit` is a unit of time. */
export function isTime(unit) {
  return UNIT_NS[unit] !== undefined;
}

/** Nanoseconds of `value` in `unit`. */
export function nanos(value, unit) {
  return value * UNIT_NS[unit];
}

/** A duration in nanoseconds, in the largest unit that keeps it at 1 or more. */
export function duration(ns) {
  if (!Number.isFinite(ns)) return 'n/a';
  for (const [unit, scale] of TIME_UNITS) {
    if (Math.abs(ns) >= scale || unit === 'ns') return `${num(ns / scale)} ${unit}`;
  }
  return `${num(ns)} ns`;
}

/** A value in its result's unit, durations rescaled to read naturally. */
export function value(v, unit) {
  if (isTime(unit)) return duration(nanos(v, unit));
  return `${num(v)} ${unit}`;
}

/** The median of result `r`, formatted. */
export function median(r) {
  return value(r.median, r.unit);
}

/** `a / b` as a ratio such as "12.3×". */
export function ratio(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  const x = a / b;
  return `${x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}
