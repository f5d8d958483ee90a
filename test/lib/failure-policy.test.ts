import t from 'tap';

import { ObservableTaskTable, type DropReason } from '../../lib/index.js';
import { uniqueTableName } from '../helpers/index.js';

/** Collects the package's warnings during a test. */
function captureWarnings(t: {
  teardown(fn: () => void): void;
}): Array<{ code: string | undefined }> {
  const warnings: Array<{ code: string | undefined }> = [];
  const onWarning = (warning: Error & { code?: string }): void => {
    if (warning.name === 'ObservableTaskTableWarning') warnings.push({ code: warning.code });
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  return warnings;
}

const cyclic: Record<string, unknown> = { name: 'loop' };
cyclic.self = cyclic;

const cases: Array<{
  what: string;
  reason: DropReason;
  // Deliberately wrong values, as a buggy caller would pass them.
  report: (r: {
    status: (s: string, d?: unknown) => void;
    progress: (p: number, d?: unknown) => void;
  }) => void;
  expect: (data: unknown, progress: number | null) => boolean;
}> = [
  {
    what: 'data too large for dataSize',
    reason: 'data_too_large',
    report: (r) => r.status('running', { blob: 'x'.repeat(5000) }),
    expect: (data) => (data as { $dropped?: string }).$dropped === 'data_too_large',
  },
  {
    what: 'cyclic data',
    reason: 'data_not_serializable',
    report: (r) => r.status('running', cyclic),
    expect: (data) => (data as { $dropped?: string }).$dropped === 'data_not_serializable',
  },
  {
    what: 'a BigInt',
    reason: 'data_not_serializable',
    report: (r) => r.status('running', { n: 10n }),
    expect: (data) => (data as { $dropped?: string }).$dropped === 'data_not_serializable',
  },
  {
    what: 'a function',
    reason: 'data_not_serializable',
    report: (r) => r.status('running', () => 1),
    expect: (data) => (data as { $dropped?: string }).$dropped === 'data_not_serializable',
  },
  {
    what: 'a NaN progress',
    reason: 'progress_invalid',
    report: (r) => {
      r.progress(0.25);
      r.progress(Number.NaN);
    },
    expect: (_data, progress) => progress === 0.25,
  },
  {
    what: 'a progress above 1',
    reason: 'progress_invalid',
    report: (r) => r.progress(7),
    expect: (_data, progress) => progress === 1,
  },
  {
    what: 'a negative progress',
    reason: 'progress_invalid',
    report: (r) => r.progress(-3, { note: 'kept' }),
    expect: (data, progress) => progress === 0 && (data as { note?: string }).note === 'kept',
  },
  {
    what: 'an unknown status',
    reason: 'status_invalid',
    report: (r) => r.status('exploded', null),
    expect: () => true,
  },
];

t.test(
  'failure policy: the task runs on, the row holds a marker or clamped value, counted and warned once',
  async (t) => {
    const table = ObservableTaskTable.open({
      name: uniqueTableName(t),
      maxTasks: 8,
      dataSize: 256,
    });
    t.teardown(() => table.close());
    const warnings = captureWarnings(t);
    for (const c of cases) {
      await t.test(c.what, async (t) => {
        const before = table.readMetrics().dropped[c.reason];
        let id = '';
        const result = await table.run({ name: c.what, category: 'policy' }, async (report) => {
          id = report.id;
          // The cases pass deliberately wrong values, so widen the report's types.
          const loose = report as unknown as Parameters<typeof c.report>[0];
          c.report(loose);
          c.report(loose); // a second time: counted again, warned once
          return 'task result';
        });
        t.equal(result, 'task result', "the task's result is unchanged");
        const row = table.getRow(id);
        t.equal(row?.status, 'finished', 'the task ran to the end');
        t.ok(
          c.expect(row?.observableTaskStatusUpdate.data, row?.progress ?? null),
          'the row holds the marker or clamped value',
        );
        t.ok(table.readMetrics().dropped[c.reason] >= before + 2, `counted under ${c.reason}`);
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
    const codes = warnings.map((w) => w.code);
    for (const reason of new Set(cases.map((c) => c.reason))) {
      const code = `TASK_TABLE_${reason.toUpperCase()}`;
      t.equal(codes.filter((c) => c === code).length, 1, `one warning ${code}`);
    }
  },
);

t.test('names and categories longer than a row holds are cut and counted', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 4 });
  t.teardown(() => table.close());
  const longName = 'n'.repeat(300);
  const longCategory = 'ü'.repeat(200); // 400 bytes
  await table.run({ name: longName, category: longCategory }, async () => {});
  const [[, row] = []] = [...table];
  t.equal(row?.name, 'n'.repeat(255));
  t.equal(row?.category, 'ü'.repeat(127), 'cut on a character boundary (254 bytes)');
  const dropped = table.readMetrics().dropped;
  t.equal(dropped.name_truncated, 1);
  t.equal(dropped.category_truncated, 1);
});

t.test('data with an Error is stored as {name, message, code, stack}', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 4, dataSize: 4096 });
  t.teardown(() => table.close());
  const error = Object.assign(new RangeError('out of bounds'), { code: 'E_OOB' });
  await t.rejects(
    table.run({ name: 'fails', category: 'policy' }, async () => {
      throw error;
    }),
    error,
    'the same error object reaches the caller',
  );
  const [[, row] = []] = [...table];
  t.equal(row?.status, 'failed');
  t.match(row?.observableTaskStatusUpdate.data, {
    name: 'RangeError',
    message: 'out of bounds',
    code: 'E_OOB',
    stack: /out of bounds/,
  });
});
