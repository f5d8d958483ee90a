/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks below run in Chromium and use DOM types.
// Hostile strings (issue 6, item 4): task names, categories and data carrying markup,
// script, quotes, backslashes, CR/LF, NUL, lone surrogates, a right-to-left override,
// `</script>`, U+2028/U+2029 and 10 KB strings, served by a real collector to a real
// Chromium. The dashboard and its live updates show them as text and run no script, with
// the Content-Security-Policy enforced and again with it bypassed (so the escaping alone
// is proven, not only the policy); /metrics passes `promtool check metrics`; /api/tasks
// and every /events data line are valid JSON that gives the strings back.
//
// What comes back, exactly (asserted below):
// - Names and categories are stored as UTF-8, so a lone surrogate becomes U+FFFD; NUL,
//   CR, LF and everything else come back unchanged; a 10 KB name or category is cut to
//   at most 255 bytes at a character boundary (and counted as dropped).
// - Data is stored as JSON text, whose lone surrogates are \u escapes: data comes back
//   exactly, lone surrogates included.
// - In the server-rendered page the HTML parser, not the collector, changes two things in
//   text: CR LF and lone CR become LF, and NUL is dropped (in attribute values NUL becomes
//   U+FFFD). Rows the live feed renders hold the stored string unchanged (textContent).

import { request as httpRequest } from 'node:http';
import t, { type Test } from 'tap';
import type { Browser, BrowserContext, Page } from 'playwright-core';

import { ObservableTaskTable, type TaskReport } from '../../dist/lib/index.js';
import { createCollectorServer } from '../../dist/exporters/http/index.js';
import { displayData } from '../../dist/exporters/http/dashboard.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { launchChromium } from './helpers/chromium.js';
import { promtoolCheckMetrics } from './helpers/prometheus.js';

const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** 10 KB (10,240 bytes of UTF-8 after the tag): one to four bytes per character. */
const TEN_KB = `<script>window.__pwned=1</script>${'ü€😀x'.repeat(1024)}`;

/** Each payload calls window.__pwned=1 or alert() if it ever runs. */
const PAYLOADS: Record<string, string> = {
  script: '<script>window.__pwned=1;alert(1)</script>',
  img: '"><img src=x onerror="window.__pwned=1;alert(1)">',
  svg: "'><svg/onload=window.__pwned=1><b>bold</b>",
  quotes: `"double" 'single' \`back\` \${window.__pwned=1} &amp; &lt;`,
  backslashes: 'C:\\temp\\new \\u003cscript\\u003e \\" \\\\ \\',
  crlf: 'one\r\ntwo\rthree\n\nevent: rows\ndata: {"pwned":1}\n\n',
  nul: 'nul\u0000in\u0000the middle\u0000',
  loneSurrogates: 'high\uD800 low\uDC00 pair\uD83D\uDE00 reversed\uDE00\uD83D',
  rtl: 'invoice\u202Efdp.exe\u202C and \u2066isolate\u2069',
  closeScript: '</script><script>window.__pwned=1</script><!--',
  separators: 'line\u2028separator\u2029paragraph',
  tenKb: TEN_KB,
};

interface HeldTask {
  key: string;
  report: TaskReport;
  release: () => void;
  done: Promise<unknown>;
}

interface ApiTask {
  id: string;
  name: string;
  category: string;
  status: string;
  data: unknown;
}

interface DomRow {
  title: string;
  cells: string[];
  dataText: string;
}

/** What the page looks like from the inside. */
interface PageFacts {
  pwned: unknown;
  violations: string[];
  scripts: string[];
  foreignElements: string[];
  handlerAttributes: string[];
  rows: DomRow[];
  categoryOptions: string[];
  live: string;
}

/** The stored form of a name or category: UTF-8 (lone surrogates as U+FFFD), 255 bytes. */
function storedLabel(text: string): string {
  let out = '';
  let bytes = 0;
  const wellFormed = text.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
  for (const char of wellFormed) {
    const size = Buffer.byteLength(char);
    if (bytes + size > 255) break;
    out += char;
    bytes += size;
  }
  return out;
}

/** What the HTML parser makes of text content: CR LF and CR become LF; NUL is dropped. */
function htmlText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\0/g, '');
}

/** ... and of an attribute value: the same, but NUL becomes U+FFFD. */
function htmlAttribute(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\0/g, '\uFFFD');
}

function dataFor(key: string, payload: string, round: string): unknown {
  // The payload as a value and as a key, except for the 10 KB one (twice would not fit).
  return key === 'tenKb'
    ? { key, round, payload }
    : { key, round, payload, [payload]: [payload, { nested: payload }] };
}

async function holdTask(
  t: Test,
  table: ObservableTaskTable,
  key: string,
  prefix: string,
): Promise<HeldTask> {
  const payload = PAYLOADS[key] as string;
  let report: TaskReport | undefined;
  let release: () => void = () => undefined;
  const done = table
    .run({ name: `${prefix}${key}: ${payload}`, category: `${key} ${payload}` }, (r) => {
      report = r;
      r.progress(0.5, dataFor(key, payload, 'first'));
      return new Promise<void>((resolve) => (release = resolve));
    })
    .catch((error: unknown) => error);
  t.teardown(async () => {
    release();
    await done;
  });
  await waitFor(() => report !== undefined, { what: `task ${key} to start` });
  return { key, report: report as TaskReport, release, done };
}

async function getText(url: string): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const bytes = new Uint8Array(await response.arrayBuffer());
  // fatal: a response that is not valid UTF-8 throws here.
  const body = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  return { status: response.status, headers: response.headers, body };
}

async function apiTasks(base: string): Promise<ApiTask[]> {
  const { status, body } = await getText(`${base}api/tasks`);
  if (status !== 200) throw new Error(`/api/tasks answered ${status}`);
  return (JSON.parse(body) as { tasks: ApiTask[] }).tasks;
}

/** Reads `/events` raw until `count` events arrived; returns the text as received. */
function readEvents(url: string, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const req = httpRequest(url, { agent: false, timeout: 10_000 }, (res) => {
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.split('\n\n').filter((block) => block.includes('event: ')).length >= count) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`fewer than ${count} events in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Opens the dashboard and records dialogs, console errors and failed requests. */
async function openDashboard(
  context: BrowserContext,
  url: string,
): Promise<{ page: Page; problems: string[]; dialogs: string[]; csp: string | undefined }> {
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // The live feed is cut when the page closes; anything else failing is a problem.
    if (!request.url().includes('/events')) problems.push(`request failed: ${request.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  const response = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  const csp = response?.headers()['content-security-policy'];
  return { page, problems, dialogs, csp };
}

/** Everything the checks need, read inside the page. */
function pageFacts(page: Page): Promise<PageFacts> {
  return page.evaluate(() => {
    const w = window as unknown as { __pwned?: unknown; __violations?: string[] };
    const allowed = new Set(['TR', 'TD', 'SPAN', 'TIME', 'PROGRESS', 'CODE']);
    // Markup from a table string could have broken the table: read what exists.
    const tbody = document.querySelector('#tasks tbody') ?? document.createElement('tbody');
    return {
      pwned: w.__pwned,
      violations: w.__violations ?? [],
      scripts: [...document.scripts].map((s) => s.getAttribute('src') ?? `inline: ${s.text}`),
      foreignElements: [...document.querySelectorAll('img, svg, iframe, object, embed, b')]
        .map((e) => e.outerHTML)
        .concat(
          [...tbody.querySelectorAll('*')]
            .filter((e) => !allowed.has(e.tagName))
            .map((e) => e.outerHTML),
        ),
      handlerAttributes: [...document.querySelectorAll('*')].flatMap((e) =>
        [...e.attributes]
          .filter((a) => a.name.startsWith('on'))
          .map((a) => `${e.tagName} ${a.name}`),
      ),
      rows: [...(tbody as HTMLTableSectionElement).rows].map((tr) => ({
        title: tr.cells[3]?.title ?? '',
        cells: [...tr.cells].map((td) => td.textContent ?? ''),
        dataText: tr.querySelector('td.data code')?.textContent ?? '',
      })),
      categoryOptions: [
        ...((document.querySelector('select[name=category]') as HTMLSelectElement | null)
          ?.options ?? []),
      ]
        .map((o) => o.value)
        .filter((v) => v !== ''),
      live: document.getElementById('live')?.textContent ?? '',
    };
  });
}

/** No script ran, nothing but our own markup exists, and the policy was never violated. */
function assertInert(
  t: Test,
  facts: PageFacts,
  seen: { problems: string[]; dialogs: string[] },
  what: string,
): void {
  t.equal(facts.pwned, undefined, `${what}: no payload ran (window.__pwned unset)`);
  t.same(seen.dialogs, [], `${what}: no alert() dialog`);
  t.same(facts.scripts, ['assets/dashboard.js'], `${what}: our one script, no other`);
  t.same(facts.foreignElements, [], `${what}: no element made from table strings`);
  t.same(facts.handlerAttributes, [], `${what}: no on* handler attribute anywhere`);
  t.same(facts.violations, [], `${what}: no Content-Security-Policy violation`);
  t.same(seen.problems, [], `${what}: no console error, failed or refused request`);
  t.same(
    facts.rows.filter((row) => row.cells.length !== 9),
    [],
    `${what}: nine cells in every row`,
  );
}

/** Each expected task has exactly one row whose cells show `expect(task)`. */
function assertRowsShow(
  t: Test,
  facts: PageFacts,
  tasks: ApiTask[],
  transform: (text: string) => string,
  what: string,
): void {
  for (const task of tasks) {
    // The task's label (its name up to ':'): the name itself would garble TAP's output.
    const label = `${what}, ${task.name.slice(0, task.name.indexOf(':'))}`;
    const rows = facts.rows.filter((r) => r.title.endsWith(` ${task.id}`));
    t.equal(rows.length, 1, `${label}: one row`);
    const row = rows[0];
    if (row === undefined) continue;
    t.equal(row.cells[2], transform(task.category), `${label}: category shown as text`);
    t.equal(row.cells[3], transform(task.name), `${label}: name shown as text`);
    t.equal(row.dataText, transform(displayData(task.data)), `${label}: data shown as text`);
  }
}

t.test('hostile strings in a real Chromium, /metrics, /api/tasks and /events', async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }): void => {
    warnings.push(warning.code ?? warning.name);
  };
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));

  const table = ObservableTaskTable.open({
    name: uniqueTableName(t),
    maxTasks: 64,
    dataSize: 16_384,
  });
  t.teardown(() => table.close());
  const held: HeldTask[] = [];
  for (const key of Object.keys(PAYLOADS)) held.push(await holdTask(t, table, key, ''));
  // One ended row too, whose data is an Error carrying a payload.
  await table
    .run({ name: `failed: ${PAYLOADS.script}`, category: PAYLOADS.img as string }, () => {
      throw new Error(`boom ${PAYLOADS.closeScript}\r\n${PAYLOADS.nul}`);
    })
    .catch(() => undefined);

  const server = createCollectorServer({ tables: [table], port: 0, pollIntervalMs: 200 });
  const { url: base } = await server.listen();
  t.teardown(() => server.close());

  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());

  t.test('/api/tasks: valid JSON (UTF-8) that gives the strings back', async (t) => {
    const tasks = await apiTasks(base);
    t.equal(tasks.length, held.length + 1);
    for (const [key, payload] of Object.entries(PAYLOADS)) {
      const task = tasks.find((r) => r.name.startsWith(`${key}: `));
      if (!t.ok(task, `row of ${key}`) || task === undefined) continue;
      t.equal(task.name, storedLabel(`${key}: ${payload}`), `${key}: name as stored`);
      t.equal(task.category, storedLabel(`${key} ${payload}`), `${key}: category as stored`);
      t.same(
        task.data,
        dataFor(key, payload, 'first'),
        `${key}: data exactly, lone surrogates too`,
      );
    }
    const big = tasks.find((r) => r.name.startsWith('tenKb: ')) as ApiTask;
    t.ok(Buffer.byteLength(big.name) <= 255, 'a 10 KB name is cut to 255 bytes');
    t.ok(Buffer.byteLength(big.name) > 250, 'at a character boundary near the limit');
    t.ok(`tenKb: ${TEN_KB}`.startsWith(big.name), 'a prefix of the original');
    t.equal(
      tasks.find((r) => r.name.startsWith('loneSurrogates'))?.name,
      'loneSurrogates: high\uFFFD low\uFFFD pair\uD83D\uDE00 reversed\uFFFD\uFFFD',
      'lone surrogates in a name become U+FFFD; a real pair stays',
    );
    t.equal(tasks.find((r) => r.name.startsWith('nul'))?.name, `nul: ${PAYLOADS.nul}`, 'NUL kept');
    const failed = tasks.find((r) => r.status === 'failed');
    t.match(failed?.data, {
      name: 'Error',
      message: `boom ${PAYLOADS.closeScript}\r\n${PAYLOADS.nul}`,
    });
    t.ok(warnings.includes('TASK_TABLE_NAME_TRUNCATED'), 'the cut name was warned about');
    t.ok(warnings.includes('TASK_TABLE_CATEGORY_TRUNCATED'), 'the cut category too');
  });

  t.test('/metrics: promtool accepts it; category labels parse back', async (t) => {
    const metrics = await getText(`${base}metrics`);
    t.equal(metrics.status, 200);
    const check = await promtoolCheckMetrics(metrics.body);
    t.ok(check.ok, `promtool check metrics: ${check.output || 'clean'}`);
    const exposition = parsePrometheusText(metrics.body);
    const categories = new Set(
      exposition.samples
        .filter((s) => s.name === 'observable_tasks_started_total')
        .map((s) => s.labels.category),
    );
    for (const [key, payload] of Object.entries(PAYLOADS)) {
      t.ok(categories.has(storedLabel(`${key} ${payload}`)), `${key}: category label round-trips`);
    }
    const dropped = exposition.samples.filter(
      (s) => s.name === 'observable_task_table_dropped_total' && s.value > 0,
    );
    t.same(
      dropped.map((s) => s.labels.reason).sort(),
      ['category_truncated', 'name_truncated'],
      'the two cuts are counted',
    );
  });

  t.test('/events: every data line is JSON; nothing breaks the framing', async (t) => {
    const text = await readEvents(`${base}events`, 2);
    t.notMatch(text, /[\r\0\u2028\u2029]/, 'no raw CR, NUL, U+2028 or U+2029 on the wire');
    const blocks = text.split('\n\n').filter((b) => b.includes('event: '));
    t.ok(blocks.length >= 2, `${blocks.length} events`);
    const tasks = await apiTasks(base);
    for (const block of blocks) {
      const lines = block.split('\n');
      t.same(
        lines.map((l) => l.slice(0, l.indexOf(':'))),
        ['event', 'data'],
        'one event line, one data line',
      );
      t.equal(lines[0], 'event: rows');
      let view: { rows: Array<{ id: string; name: string; category: string; data: string }> };
      try {
        view = JSON.parse((lines[1] as string).slice('data: '.length));
      } catch (error) {
        t.fail(`data line is not JSON: ${(error as Error).message}`);
        continue;
      }
      t.equal(view.rows.length, tasks.length, 'every row in the event');
      for (const task of tasks) {
        const row = view.rows.find((r) => r.id === task.id);
        t.equal(row?.name, task.name, 'name as stored');
        t.equal(row?.category, task.category, 'category as stored');
        t.equal(row?.data, displayData(task.data), 'data as the dashboard shows it');
      }
    }
  });

  // Once with the policy enforced, once with it bypassed: the second proves that the
  // escaping alone keeps the payloads inert, the first that our own page obeys the policy.
  for (const bypassCSP of [false, true]) {
    t.test(`dashboard and live updates${bypassCSP ? ', policy bypassed' : ''}`, async (t) => {
      const context = await browser.newContext({ bypassCSP });
      t.teardown(() => context.close());
      await context.addInitScript(() => {
        const w = window as unknown as { __violations: string[] };
        w.__violations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
          w.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
        });
      });
      const seen = await openDashboard(context, `${base}observable_task_table`);
      t.equal(seen.csp, DASHBOARD_CSP, 'the page carries the strict policy');
      const tasks = await apiTasks(base);

      // Whatever the server-rendered rows held ran (or not) while the page was parsed.
      const initial = await pageFacts(seen.page);
      assertInert(t, initial, seen, 'loaded');
      t.equal(initial.rows.length, tasks.length, 'a row per task');
      t.same(
        [...initial.categoryOptions].sort(),
        [...new Set(tasks.map((r) => htmlAttribute(r.category)))].sort(),
        'category filter options carry the categories as values',
      );

      // The live feed replaces the rows: the stored strings, unchanged.
      await seen.page.waitForFunction(
        () => document.getElementById('live')?.textContent === 'live',
        undefined,
        { timeout: 10_000 },
      );
      const prefix = bypassCSP ? 'live-b-' : 'live-a-';
      // New tasks and new data on the running ones while the page is open.
      const added: HeldTask[] = [];
      for (const key of ['script', 'img', 'crlf', 'nul', 'closeScript', 'tenKb']) {
        added.push(await holdTask(t, table, key, prefix));
      }
      for (const task of held) {
        task.report.progress(0.75, dataFor(task.key, PAYLOADS[task.key] as string, prefix));
      }
      await seen.page.waitForFunction(
        ([p, n, marker, held]) => {
          const rows = [...document.querySelectorAll('#tasks tbody tr')];
          const names = rows.map((r) => (r as HTMLTableRowElement).cells[3]?.textContent ?? '');
          const data = rows.map((r) => r.querySelector('td.data code')?.textContent ?? '');
          return (
            names.filter((name) => name.startsWith(p as string)).length === n &&
            data.filter((d) => d.includes(`"round":"${marker as string}"`)).length === held
          );
        },
        [prefix, added.length, prefix, held.length] as const,
        { timeout: 10_000 },
      );
      // Nothing changes any more: the page shows the latest rows, as the API does.
      const updated = await apiTasks(base);
      const live = await pageFacts(seen.page);
      assertInert(t, live, seen, 'live');
      t.equal(live.live, 'live', 'still connected');
      t.equal(live.rows.length, updated.length, 'a row per task');
      assertRowsShow(t, live, updated, (text) => text, 'live');
      for (const task of added) {
        task.release();
        await task.done;
      }
      // And the page as the server renders it, with the same rows. Without JavaScript, so
      // that the live feed does not replace the rows before they are read.
      const staticContext = await browser.newContext({ bypassCSP, javaScriptEnabled: false });
      t.teardown(() => staticContext.close());
      const reloaded = await openDashboard(staticContext, `${base}observable_task_table`);
      const rendered = await pageFacts(reloaded.page);
      const now = await apiTasks(base);
      assertInert(t, rendered, reloaded, 'server-rendered');
      t.equal(rendered.live, 'live updates off', 'the page as served, not updated');
      t.equal(rendered.rows.length, now.length, 'a row per task');
      assertRowsShow(t, rendered, now, htmlText, 'server-rendered');

      // A payload in the URL (a reflected filter value) is inert too.
      const filtered = await openDashboard(
        context,
        `${base}observable_task_table?category=${encodeURIComponent(`script ${PAYLOADS.script}`)}`,
      );
      await filtered.page.waitForFunction(
        () => document.getElementById('live')?.textContent === 'live',
        undefined,
        { timeout: 10_000 },
      );
      const reflected = await pageFacts(filtered.page);
      assertInert(t, reflected, filtered, 'filtered by a hostile category');
      const category = `script ${PAYLOADS.script}`;
      t.same(
        reflected.rows.map((r) => r.cells[2]),
        now.filter((r) => r.category === category).map(() => category),
        'the rows of that category, and only those',
      );
    });
  }
});
