// A hand-written SVG bar chart of the timed results (no dependency): one section per
// group, one horizontal bar per result on a shared logarithmic time axis (nanoseconds to
// seconds), the median as the bar and the p99 as a tick, coloured by kind (ours, an
// alternative, a reference floor).
import { duration, isTime, nanos } from './format.mjs';

const COLORS = { ours: '#2f6fb2', alternative: '#d9822b', reference: '#8a8f98' };
const LABEL_WIDTH = 540;
const MAX_LABEL = 88;
const PLOT_WIDTH = 520;
const VALUE_WIDTH = 110;
const BAR_HEIGHT = 16;
const ROW_HEIGHT = 22;
const SECTION_GAP = 34;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

/** "100 ns", "1 µs", "10 ms": a power of ten as an axis label. */
function decade(e) {
  const units = ['ns', 'µs', 'ms', 's'];
  const u = Math.min(units.length - 1, Math.max(0, Math.floor(e / 3)));
  return `${10 ** (e - 3 * u)} ${units[u]}`;
}

function shorten(name) {
  return name.length <= MAX_LABEL ? name : `${name.slice(0, MAX_LABEL - 1)}…`;
}

function escapeXml(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * The SVG text for `sections`: [{ title, rows: [{ name, medianNs, p99Ns, kind }] }].
 * `caption` goes under the title.
 */
export function barChart(title, caption, sections) {
  const all = sections.flatMap((s) => s.rows);
  const low = Math.min(...all.map((r) => r.medianNs));
  const high = Math.max(...all.map((r) => Math.max(r.medianNs, r.p99Ns)));
  const minExp = Math.floor(Math.log10(Math.max(1, low)));
  const maxExp = Math.ceil(Math.log10(high));
  const x = (valueNs) => {
    const f = (Math.log10(Math.max(valueNs, 10 ** minExp)) - minExp) / (maxExp - minExp);
    return LABEL_WIDTH + Math.min(1, f) * PLOT_WIDTH;
  };
  const width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH;
  const parts = [];
  let y = 54;
  parts.push(`<text x="12" y="24" font-size="17" font-weight="600">${escapeXml(title)}</text>`);
  parts.push(`<text x="12" y="42" font-size="12" fill="#555">${escapeXml(caption)}</text>`);
  for (const section of sections) {
    y += 18;
    parts.push(
      `<text x="12" y="${y}" font-size="13" font-weight="600">${escapeXml(section.title)}</text>`,
    );
    y += 8;
    const top = y;
    for (const row of section.rows) {
      const barEnd = x(row.medianNs);
      const tick = x(row.p99Ns);
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + 12}" font-size="11" text-anchor="end">${escapeXml(shorten(row.name))}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${Math.max(1, barEnd - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[row.kind]}"/>`,
        `<line x1="${tick.toFixed(1)}" x2="${tick.toFixed(1)}" y1="${y - 2}" y2="${y + BAR_HEIGHT + 2}" stroke="#222" stroke-width="1.5"/>`,
        `<text x="${LABEL_WIDTH + PLOT_WIDTH + 8}" y="${y + 12}" font-size="11">${escapeXml(duration(row.medianNs))}</text>`,
      );
      y += ROW_HEIGHT;
    }
    // Decade grid lines of this section.
    for (let e = minExp; e <= maxExp; e++) {
      const gx = x(10 ** e).toFixed(1);
      parts.push(
        `<line x1="${gx}" x2="${gx}" y1="${top - 4}" y2="${y - 4}" stroke="#ccc" stroke-width="0.7"/>`,
      );
    }
    y += SECTION_GAP - ROW_HEIGHT + 10;
  }
  // Axis labels at the bottom.
  for (let e = minExp; e <= maxExp; e++) {
    const gx = x(10 ** e).toFixed(1);
    parts.push(
      `<text x="${gx}" y="${y + 4}" font-size="10" text-anchor="middle" fill="#555">${escapeXml(decade(e))}</text>`,
    );
  }
  y += 22;
  let lx = 12;
  for (const [kind, label] of [
    ['ours', 'observable-task-table'],
    ['alternative', 'alternative'],
    ['reference', 'reference floor'],
  ]) {
    parts.push(
      `<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${COLORS[kind]}"/>`,
      `<text x="${lx + 17}" y="${y}" font-size="11">${label}</text>`,
    );
    lx += 170;
  }
  parts.push(
    `<line x1="${lx + 6}" x2="${lx + 6}" y1="${y - 11}" y2="${y + 2}" stroke="#222" stroke-width="1.5"/>`,
    `<text x="${lx + 14}" y="${y}" font-size="11">p99; bar = median; logarithmic axis</text>`,
  );
  const height = y + 14;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" ${FONT}>\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`
  );
}

/** Chart rows of `results` (time units only), classified with `kindOf(key)`. */
export function chartRows(results, kindOf) {
  return results
    .filter((r) => isTime(r.unit))
    .map((r) => ({
      name: r.name,
      medianNs: nanos(r.median, r.unit),
      p99Ns: nanos(r.p99, r.unit),
      kind: kindOf(r.key),
    }));
}
