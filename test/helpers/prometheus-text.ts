// A small parser of the Prometheus text exposition format (0.0.4) for exporter tests:
// families with their HELP and TYPE, and samples with unescaped label values.

/** One sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Everything in one exposition. */
export interface PromExposition {
  help: Map<string, string>;
  types: Map<string, string>;
  samples: PromSample[];
}

const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN' || text === 'Nan') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a sample value: ${text}`);
  return value;
}

/** Parses `text`; throws on a line it does not understand. */
export function parsePrometheusText(text: string): PromExposition {
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      (meta[1] === 'HELP' ? help : types).set(meta[2] as string, meta[3] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (head === null) throw new Error(`unparsable line: ${line}`);
    const name = head[1] as string;
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      // A failed sticky match resets lastIndex to 0, so the position is kept here.
      let pos = 1;
      for (;;) {
        LABEL.lastIndex = pos;
        const m = LABEL.exec(rest);
        if (m === null) break;
        labels[m[1] as string] = unescapeLabel(m[2] as string);
        pos = LABEL.lastIndex;
      }
      if (rest[pos] !== '}') throw new Error(`unparsable labels: ${line}`);
      rest = rest.slice(pos + 1);
    }
    samples.push({ name, labels, value: parseValue(rest.trim().split(/\s+/)[0] as string) });
  }
  return { help, types, samples };
}

/** The samples named `name` whose labels include `labels`. */
export function findSamples(
  exposition: PromExposition,
  name: string,
  labels: Record<string, string> = {},
): PromSample[] {
  return exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The value of the one sample named `name` with exactly these labels, or undefined. */
export function sampleValue(
  exposition: PromExposition,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const keys = Object.keys(labels);
  return exposition.samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === keys.length &&
      keys.every((k) => s.labels[k] === labels[k]),
  )?.value;
}
