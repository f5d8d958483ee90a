// Opening a table whose header is not what this version wrote: another layout, a wrong
// magic, another layout version, a truncated or empty file, impossible header fields and
// random bytes. Each must be a clear error of the package's classes (or, for harmless
// damage, a working table), never a crash or a read out of bounds (issue 2). The hostile
// bytes are written straight into /dev/shm/<name>.

import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';

import {
  ObservableTask,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  ObservableTaskTableError,
  TaskTableCorruptError,
  TaskTableIncompatibleError,
  TaskTableLayoutMismatchError,
  TaskTableNotReadyError,
} from '../../lib/index.js';
import { fixturePath, uniqueTableName } from '../helpers/index.js';

// The table every case starts from, and its header offsets (native/core/layout.h).
const LAYOUT = { maxTasks: 8, dataSize: 256, maxCategories: 4, durationBuckets: [1, 2, 3] };
const OFFSET = {
  magic: 0,
  layoutVersion: 8,
  headerBytes: 12,
  totalBytes: 16,
  maxTasks: 24,
  dataSize: 28,
  rowBytes: 32,
  maxCategories: 36,
  categoryBytes: 40,
  bucketCount: 44,
  categoriesOffset: 48,
  bitmapOffset: 56,
  rowsOffset: 64,
  bucketBounds: 96,
} as const;
const MAGIC = 0x31425454534b5354n;
const FUZZ_CASES = 600;

/** The sizes layout.h ComputeLayout() derives from the layout parameters. */
function computeLayout(
  maxTasks: number,
  dataSize: number,
  maxCategories: number,
  bucketCount: number,
) {
  const roundUp = (value: number, to: number) => Math.ceil(value / to) * to;
  const rowBytes = 128 + 2 * 256 + roundUp(dataSize, 64);
  const categoryBytes = roundUp(384 + 8 * 5 * (bucketCount + 1), 64);
  const categoriesOffset = 4096;
  const bitmapOffset = categoriesOffset + categoryBytes * (maxCategories + 1);
  const rowsOffset = roundUp(bitmapOffset + 8 * Math.ceil(maxTasks / 64), 64);
  return {
    rowBytes,
    categoryBytes,
    categoriesOffset,
    bitmapOffset,
    rowsOffset,
    totalBytes: rowsOffset + rowBytes * maxTasks,
  };
}

/** Creates the starting table (with one finished row) and returns its path and bytes. */
async function createTable(name: string): Promise<{ path: string; pristine: Buffer }> {
  const table = ObservableTaskTable.open({ name, ...LAYOUT });
  await table.run({ name: 'before the damage', category: 'c' }, () => undefined);
  const path = table.layout.path;
  table.close();
  return { path, pristine: readFileSync(path) };
}

/** Restores `pristine` into `path`, lets `mutate` damage the header, and writes it. */
function damage(path: string, pristine: Buffer, mutate: (view: DataView) => void): Buffer {
  const bytes = Buffer.from(pristine);
  mutate(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  writeFileSync(path, bytes);
  return bytes;
}

/** Opens `name` writable and read-only, expecting `shape` each time; the bytes stay as they were. */
function assertOpenFails(
  t: Test,
  name: string,
  path: string,
  shape: { code: string } & Record<string, unknown>,
  what: string,
): void {
  const before = readFileSync(path);
  for (const readOnly of [false, true]) {
    t.throws(
      () => ObservableTaskTable.open({ name, readOnly }),
      shape,
      `${what} (readOnly: ${readOnly})`,
    );
  }
  t.ok(readFileSync(path).equals(before), `${what}: a failed open leaves the object untouched`);
}

t.test('ObservableTaskTable.open() on a table of another layout', async (t) => {
  const name = uniqueTableName(t);
  await createTable(name);
  const cases = [
    ['maxTasks', 16, 8],
    ['dataSize', 512, 256],
    ['maxCategories', 5, 4],
    ['durationBuckets', [1, 2, 4], [1, 2, 3]],
    ['durationBuckets', [1, 2], [1, 2, 3]],
  ] as const;
  for (const [option, requested, existing] of cases) {
    const error = t.throws(
      () => ObservableTaskTable.open({ name, [option]: requested }),
      {
        name: 'TaskTableLayoutMismatchError',
        code: 'ERR_TASK_TABLE_LAYOUT_MISMATCH',
        option,
        existing,
        requested,
      },
      `${option}: ${JSON.stringify(requested)} asked, ${JSON.stringify(existing)} there`,
    );
    t.ok(
      error instanceof TaskTableLayoutMismatchError && error instanceof ObservableTaskTableError,
      'of the exported classes',
    );
    t.match(
      error,
      { message: new RegExp(`${option}=.*${option}=`) },
      'the message names both values',
    );
  }
  // Several differing options: the error names one of them, with both of its values.
  t.throws(
    () => ObservableTaskTable.open({ name, maxTasks: 9, dataSize: 1024 }),
    { code: 'ERR_TASK_TABLE_LAYOUT_MISMATCH', option: 'maxTasks', existing: 8, requested: 9 },
    'several differing options',
  );
  // The same explicit values, or none, attach.
  for (const options of [{ name, ...LAYOUT }, { name }, { name, readOnly: true }]) {
    const table = ObservableTaskTable.open(options);
    t.equal(table.layout.created, false, `attaches with ${JSON.stringify(options)}`);
    t.same(
      [...table].map(([, row]) => row.name),
      ['before the damage'],
      'and reads the existing row',
    );
    table.close();
  }
});

t.test('ObservableTaskTable.open() on a header this version did not write', async (t) => {
  const name = uniqueTableName(t);
  const { path, pristine } = await createTable(name);
  const view = new DataView(pristine.buffer, pristine.byteOffset, pristine.byteLength);
  t.equal(view.getBigUint64(OFFSET.magic, true), MAGIC, 'the header starts with the magic');
  const expected = computeLayout(
    LAYOUT.maxTasks,
    LAYOUT.dataSize,
    LAYOUT.maxCategories,
    LAYOUT.durationBuckets.length,
  );
  t.equal(pristine.length, expected.totalBytes, 'layout.h arithmetic as mirrored here');
  t.equal(view.getUint32(OFFSET.rowBytes, true), expected.rowBytes, 'rowBytes as mirrored here');
  t.equal(
    Number(view.getBigUint64(OFFSET.rowsOffset, true)),
    expected.rowsOffset,
    'rowsOffset as mirrored here',
  );

  t.test('wrong magic', async (t) => {
    damage(path, pristine, (v) => v.setBigUint64(OFFSET.magic, 0x4141414141414141n, true));
    assertOpenFails(
      t,
      name,
      path,
      { name: 'TaskTableIncompatibleError', code: 'ERR_TASK_TABLE_INCOMPATIBLE', field: 'magic' },
      'wrong magic',
    );
    // A file that is not a table at all, of any size, is never taken over either.
    const text = Buffer.from('#!/bin/sh\necho not a table\n'.repeat(200));
    writeFileSync(path, text);
    t.throws(
      () => ObservableTaskTable.open({ name }),
      { code: 'ERR_TASK_TABLE_INCOMPATIBLE', field: 'magic' },
      'a foreign file',
    );
    t.ok(readFileSync(path).equals(text), 'a foreign file is left as it was');
  });

  t.test('another layout version', async (t) => {
    for (const version of [2, 0, 0xffffffff]) {
      damage(path, pristine, (v) => v.setUint32(OFFSET.layoutVersion, version, true));
      const shape = {
        name: 'TaskTableIncompatibleError',
        code: 'ERR_TASK_TABLE_INCOMPATIBLE',
        field: 'layoutVersion',
        existing: version,
        expected: 1,
        message: /layout version/,
      };
      assertOpenFails(t, name, path, shape, `layout version ${version}`);
    }
    t.ok(
      new TaskTableIncompatibleError('x', 'magic', 0, 0, '') instanceof ObservableTaskTableError,
      'a package error',
    );
  });

  t.test('truncated file', async (t) => {
    for (const size of [pristine.length - 1, expected.rowsOffset, 4096, 4095, 100, 1]) {
      writeFileSync(path, pristine.subarray(0, size));
      const shape = {
        name: 'TaskTableCorruptError',
        code: 'ERR_TASK_TABLE_CORRUPT',
        field: 'file size',
        existing: size,
      };
      assertOpenFails(t, name, path, shape, `truncated to ${size} bytes`);
    }
    t.ok(
      new TaskTableCorruptError('x', 'f', 0, 0, '') instanceof ObservableTaskTableError,
      'a package error',
    );
  });

  t.test('empty file, and a header not yet published', async (t) => {
    writeFileSync(path, '');
    const started = Date.now();
    t.throws(
      () => ObservableTaskTable.open({ name }),
      { name: 'TaskTableNotReadyError', code: 'ERR_TASK_TABLE_NOT_READY' },
      'an empty object: its creator has not reserved it yet',
    );
    const waited = Date.now() - started;
    t.ok(
      waited >= 900 && waited < 5000,
      `waited briefly for a creator (${waited} ms) before giving up`,
    );
    t.equal(readFileSync(path).length, 0, 'the empty object was not taken over');
    t.throws(
      () => ObservableTaskTable.open({ name, readOnly: true }),
      { code: 'ERR_TASK_TABLE_NOT_READY' },
      'read-only too',
    );
    // A full-size object whose magic is still 0: its creator has not finished.
    damage(path, pristine, (v) => v.setBigUint64(OFFSET.magic, 0n, true));
    const error = t.throws(
      () => ObservableTaskTable.open({ name }),
      { code: 'ERR_TASK_TABLE_NOT_READY' },
      'magic still 0',
    );
    t.ok(error instanceof TaskTableNotReadyError, 'a TaskTableNotReadyError');
    t.match(error, { message: /task-table rm/ }, 'the message says how to recover');
  });

  t.test('impossible header fields', async (t) => {
    const u32 = (offset: number, value: number) => (v: DataView) =>
      v.setUint32(offset, value, true);
    const u64 = (offset: number, value: bigint) => (v: DataView) =>
      v.setBigUint64(offset, value, true);
    const f64 = (offset: number, value: number) => (v: DataView) =>
      v.setFloat64(offset, value, true);
    const big = computeLayout(
      1_000_000,
      LAYOUT.dataSize,
      LAYOUT.maxCategories,
      LAYOUT.durationBuckets.length,
    );
    const cases: [string, (v: DataView) => void, string][] = [
      ['headerBytes 8192', u32(OFFSET.headerBytes, 8192), 'headerBytes'],
      ['maxTasks 0', u32(OFFSET.maxTasks, 0), 'maxTasks'],
      ['maxTasks 1000001', u32(OFFSET.maxTasks, 1_000_001), 'maxTasks'],
      ['maxTasks 2^32-1', u32(OFFSET.maxTasks, 0xffffffff), 'maxTasks'],
      ['dataSize 63', u32(OFFSET.dataSize, 63), 'dataSize'],
      ['dataSize 2^32-1', u32(OFFSET.dataSize, 0xffffffff), 'dataSize'],
      ['maxCategories 0', u32(OFFSET.maxCategories, 0), 'maxCategories'],
      ['maxCategories 65536', u32(OFFSET.maxCategories, 65536), 'maxCategories'],
      ['bucketCount 0', u32(OFFSET.bucketCount, 0), 'bucketCount'],
      ['bucketCount 33', u32(OFFSET.bucketCount, 33), 'bucketCount'],
      ['rowBytes + 64', u32(OFFSET.rowBytes, expected.rowBytes + 64), 'rowBytes'],
      ['rowBytes 0', u32(OFFSET.rowBytes, 0), 'rowBytes'],
      [
        'categoryBytes - 64',
        u32(OFFSET.categoryBytes, expected.categoryBytes - 64),
        'categoryBytes',
      ],
      ['categoriesOffset 0', u64(OFFSET.categoriesOffset, 0n), 'categoriesOffset'],
      ['bitmapOffset 2^64-1', u64(OFFSET.bitmapOffset, 2n ** 64n - 1n), 'bitmapOffset'],
      [
        'rowsOffset past the end',
        u64(OFFSET.rowsOffset, BigInt(expected.totalBytes)),
        'rowsOffset',
      ],
      ['totalBytes + 1', u64(OFFSET.totalBytes, BigInt(expected.totalBytes + 1)), 'totalBytes'],
      // Valid on its own, but the other fields no longer add up.
      ['maxTasks 9', u32(OFFSET.maxTasks, 9), 'totalBytes'],
      [
        'a consistent header for 1,000,000 rows over a small file',
        (v) => {
          v.setUint32(OFFSET.maxTasks, 1_000_000, true);
          v.setBigUint64(OFFSET.bitmapOffset, BigInt(big.bitmapOffset), true);
          v.setBigUint64(OFFSET.rowsOffset, BigInt(big.rowsOffset), true);
          v.setBigUint64(OFFSET.totalBytes, BigInt(big.totalBytes), true);
        },
        'file size',
      ],
      ['bucket bounds not ascending', f64(OFFSET.bucketBounds + 8, 1), 'durationBuckets'],
      ['bucket bound NaN', f64(OFFSET.bucketBounds + 16, NaN), 'durationBuckets'],
      ['bucket bound Infinity', f64(OFFSET.bucketBounds + 16, Infinity), 'durationBuckets'],
      ['bucket bound negative', f64(OFFSET.bucketBounds, -1), 'durationBuckets'],
      ['bucket bound 0', f64(OFFSET.bucketBounds, 0), 'durationBuckets'],
    ];
    for (const [what, mutate, field] of cases) {
      damage(path, pristine, mutate);
      const shape = {
        name: 'TaskTableCorruptError',
        code: 'ERR_TASK_TABLE_CORRUPT',
        field,
        message: /task-table rm/,
      };
      assertOpenFails(t, name, path, shape, what);
    }
  });

  t.test('damage the header can take', async (t) => {
    // Informational and run-time fields are not validated: a table with odd values there
    // still opens and works.
    damage(path, pristine, (v) => {
      v.setFloat64(72, NaN, true); // created_at_ms
      v.setUint32(80, 0xffffffff, true); // creator_pid
      v.setUint32(1152, 0xffffffff, true); // claim_hint
      for (let i = 0; i < 16; i++) v.setBigUint64(1024 + 8 * i, 2n ** 64n - 1n, true); // drop counters
    });
    const table = ObservableTaskTable.open({ name });
    t.equal(
      await table.run({ name: 'after the damage', category: 'c' }, () => 'ran'),
      'ran',
      'a task runs',
    );
    t.ok(
      [...table].some(([, row]) => row.name === 'after the damage' && row.status === 'finished'),
      'and reads back',
    );
    t.type(
      table.readMetrics().dropped.owner_died,
      'number',
      'metrics read despite absurd counters',
    );
    table.close();
  });

  t.test('a row with impossible timestamps is skipped, never fatal', async (t) => {
    // Two more ended rows; the first gets damaged, everything else must still read.
    writeFileSync(path, pristine);
    const writer = ObservableTaskTable.open({ name });
    const ids = ['first', 'second'].map((taskName) =>
      writer.observe(
        new ObservableTask({
          name: taskName,
          category: 'c',
          iterableTask: async function* () {
            yield new ObservableTaskStatusUpdate('running', null);
            await new Promise(() => {});
          },
        }),
      ),
    );
    writer.close(); // ends both rows `cancelled`
    const intact = readFileSync(path);
    const before = ObservableTaskTable.open({ name, readOnly: true });
    const allRows = [...before].map(([id, row]) => [id, row.name]);
    before.close();
    t.ok(allRows.length >= 2, `${allRows.length} rows before the damage`);
    const damaged = ids[0] as string;
    const others = allRows.filter(([id]) => id !== damaged);
    const slot = Number(damaged.split(':')[0]);
    const body = expected.rowsOffset + slot * expected.rowBytes + 32; // its RowHead::body
    for (const [field, at] of [
      ['startedAt', 40],
      ['modifiedAt', 48],
      ['runningAt', 56],
    ] as const) {
      for (const value of [NaN, Infinity, -1, 1e300]) {
        damage(path, intact, (v) => v.setFloat64(body + at, value, true));
        const table = ObservableTaskTable.open({ name });
        const rows = [...table];
        t.same(
          rows.map(([id, row]) => [id, row.name]),
          others,
          `${field} = ${value}: every row but the damaged one is returned`,
        );
        t.doesNotThrow(() => JSON.stringify(rows.map(([, row]) => row.toJSON())), 'rows serialize');
        t.equal(table.getRow(damaged), null, 'the damaged row reads as absent');
        t.doesNotThrow(() => table.readMetrics(), 'metrics are read');
        table.close();
      }
    }
  });
});

t.test('random bytes in a table, in a child process', async (t) => {
  const name = uniqueTableName(t);
  const seed = Number(process.env.HOSTILE_SEED ?? randomInt(2 ** 31));
  t.comment(`seed ${seed} (rerun with HOSTILE_SEED=${seed})`);
  const child = spawn(
    process.execPath,
    [fixturePath('hostile-header-fuzz.mjs'), name, String(seed), String(FUZZ_CASES)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);

  const lines = stdout.trim().split('\n');
  const last = lines.at(-1) ?? '';
  if (code !== 0 || signal !== null) {
    t.comment(`the last case the fuzzer started: ${last}\nits stderr:\n${stderr.slice(-2000)}`);
  }
  t.same({ code, signal }, { code: 0, signal: null }, 'the fuzzer ran to the end: no crash');
  if (code !== 0 || signal !== null) return;
  const { summary } = JSON.parse(last) as {
    summary: { cases: number; outcomes: Record<string, number> };
  };
  t.equal(lines.length - 1, FUZZ_CASES, `${FUZZ_CASES} cases ran`);
  const outcomes = Object.entries(summary.outcomes);
  t.comment(outcomes.map(([key, count]) => `${count} × ${key}`).join('\n'));
  const clear =
    /: (opened|ERR_TASK_TABLE_CORRUPT|ERR_TASK_TABLE_INCOMPATIBLE|ERR_TASK_TABLE_NOT_READY)$/;
  t.same(
    outcomes.filter(([key]) => !clear.test(key)),
    [],
    'every case either opened and worked, or failed with a clear error of the package',
  );
  const count = (pattern: RegExp) =>
    outcomes.filter(([key]) => pattern.test(key)).reduce((sum, [, n]) => sum + n, 0);
  t.ok(
    count(/: opened$/) >= FUZZ_CASES / 10,
    'many damaged tables still opened, and were read and written',
  );
  t.ok(count(/ERR_TASK_TABLE_CORRUPT$/) >= FUZZ_CASES / 10, 'many were rejected as corrupt');
  t.ok(count(/ERR_TASK_TABLE_INCOMPATIBLE$/) >= 1, 'some were rejected as incompatible');
});
