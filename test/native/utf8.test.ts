// Names and categories longer than a row holds (255 bytes of UTF-8) are cut on a
// character boundary, never inside one, and each cut is counted and warned once (issue 2
// and the failure policy of design.md).

import diagnosticsChannel from 'node:diagnostics_channel';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import t from 'tap';

import {
  DROP_CHANNEL,
  ObservableTask,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  type DropMessage,
} from '../../lib/index.js';
import { uniqueTableName } from '../helpers/index.js';

const MAX_BYTES = 255;

/** The longest prefix of whole code points that fits in `max` bytes of UTF-8. */
function expectedPrefix(text: string, max = MAX_BYTES): string {
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(out + char) > max) break;
    out += char;
  }
  return out;
}

// é is 2 bytes, 中 3, 😀 4 (a surrogate pair in JS). Each string is tried as a name and as
// a category; the cut must fall exactly on the last whole character that fits.
const CASES: [string, string][] = [
  ['254 ASCII + é (256 bytes)', 'a'.repeat(254) + 'é'],
  ['253 ASCII + 中 (256 bytes)', 'a'.repeat(253) + '中'],
  ['252 ASCII + 😀 (256 bytes)', 'a'.repeat(252) + '😀'],
  ['254 ASCII + 😀 (258 bytes)', 'a'.repeat(254) + '😀'],
  ['200 × é', 'é'.repeat(200)],
  ['100 × 中', '中'.repeat(100)],
  ['100 × 😀', '😀'.repeat(100)],
  ['30 × é中😀a', 'é中😀a'.repeat(30)],
  ['10,000 × 😀 (longer than any scratch buffer)', '😀'.repeat(10_000)],
  ['exactly 255 bytes ending in é', 'a'.repeat(253) + 'é'],
  ['exactly 255 bytes ending in 中', 'a'.repeat(252) + '中'],
  ['exactly 255 bytes ending in 😀', 'a'.repeat(251) + '😀'],
  ['85 × 中 (255 bytes)', '中'.repeat(85)],
];

t.test('names and categories at capacity', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 64 });
  t.teardown(() => table.close());

  const warnings: { code?: string; name: string }[] = [];
  const onWarning = (warning: Error & { code?: string }) => warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const drops: DropMessage[] = [];
  const onDrop = (message: unknown) => drops.push(message as DropMessage);
  diagnosticsChannel.subscribe(DROP_CHANNEL, onDrop);
  t.teardown(() => diagnosticsChannel.unsubscribe(DROP_CHANNEL, onDrop));

  const before = table.readMetrics().dropped;
  let truncated = 0;
  const gates: (() => void)[] = [];
  for (const [what, text] of CASES) {
    const id = table.observe(
      new ObservableTask({
        name: text,
        category: text,
        iterableTask: async function* () {
          yield new ObservableTaskStatusUpdate('running', null);
          await new Promise<void>((resolve) => gates.push(resolve));
        },
      }),
    );
    const row = table.getRow(id);
    const expected = expectedPrefix(text);
    if (expected !== text) truncated++;
    for (const [field, stored] of [
      ['name', row?.name],
      ['category', row?.category],
    ] as const) {
      t.equal(stored, expected, `${what}: the ${field} keeps every character that fits`);
      t.ok(
        stored !== undefined && text.startsWith(stored),
        `${what}: the ${field} is a prefix of the original`,
      );
      t.ok(Buffer.byteLength(stored ?? '') <= MAX_BYTES, `${what}: the ${field} fits 255 bytes`);
      t.notOk(stored?.includes('\uFFFD'), `${what}: no replacement character in the ${field}`);
    }
  }
  t.ok(truncated >= 9, `${truncated} of ${CASES.length} cases were cut`);

  const after = table.readMetrics();
  t.equal(
    after.dropped.name_truncated - before.name_truncated,
    truncated,
    'each cut name is counted',
  );
  t.equal(
    after.dropped.category_truncated - before.category_truncated,
    truncated,
    'each cut category is counted',
  );
  t.same(
    drops.map((drop) => drop.reason).sort(),
    [...Array(truncated).fill('category_truncated'), ...Array(truncated).fill('name_truncated')],
    'each cut is published on the diagnostics channel',
  );
  const names = new Set(after.categories.map((category) => category.category));
  t.ok(
    CASES.every(([, text]) => names.has(expectedPrefix(text))),
    'the metrics know every category by its cut name',
  );

  await yieldToEventLoop(); // process.emitWarning emits on the next tick
  const codes = warnings
    .map((warning) => warning.code)
    .filter((code) => code?.startsWith('TASK_TABLE_'));
  t.same(
    codes.sort(),
    ['TASK_TABLE_CATEGORY_TRUNCATED', 'TASK_TABLE_NAME_TRUNCATED'],
    'one warning per code, however many cuts',
  );
  t.equal(
    warnings.find((w) => w.code === 'TASK_TABLE_NAME_TRUNCATED')?.name,
    'ObservableTaskTableWarning',
    "of the package's warning type",
  );

  for (const open of gates) open();
});

t.test('run() cuts names too, and the task is unaffected', async (t) => {
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, maxTasks: 4 });
  t.teardown(() => table.close());
  const long = '😀'.repeat(64); // 256 bytes: the last emoji does not fit
  const result = await table.run({ name: long, category: 'c' }, (report) => {
    report.progress(1);
    return 'result';
  });
  t.equal(result, 'result', 'the task result is unchanged');
  const [[, row] = []] = [...table];
  t.equal(row?.name, '😀'.repeat(63), '63 whole emoji, 252 bytes');
  t.equal(row?.status, 'finished', 'and the task finished');
});
