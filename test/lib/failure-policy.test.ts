import t from 'tap';

import {
  ObservableTask,
  ObservableTaskStatusUpdate,
  ObservableTaskTable,
  type DropReason,
} from '../../lib/index.js';
import { uniqueTableName, waitFor } from '../helpers/index.js';

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

/** A task's report with its parameter types widened, to pass the values a buggy caller would. */
function loosen(report: unknown): {
  status: (status: unknown, data?: unknown) => void;
  progress: (fraction: unknown, data?: unknown) => void;
} {
  return report as ReturnType<typeof loosen>;
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

t.test(
  'at the smallest dataSize, a dropped value still leaves a marker and the task ends',
  async (t) => {
    const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 2, dataSize: 64 });
    t.teardown(() => table.close());
    const seen: unknown[] = [];
    let id = '';
    const result = await table.run({ name: 'small rows', category: 'policy' }, async (report) => {
      id = report.id;
      report.status('running', { message: 'y'.repeat(100) }); // 114 bytes of JSON
      seen.push(table.getStatus(id)?.data);
      report.status('running', cyclic);
      seen.push(table.getStatus(id)?.data);
      report.status('running', '€'.repeat(30)); // 92 bytes of UTF-8, 32 UTF-16 units
      seen.push(table.getStatus(id)?.data);
      report.status('running', { ok: 1 });
      seen.push(table.getStatus(id)?.data);
      return 'done';
    });
    t.equal(result, 'done');
    t.match(seen, [
      { $dropped: 'data_too_large' },
      { $dropped: 'data_not_serializable' },
      { $dropped: 'data_too_large' },
      { ok: 1 },
    ]);
    t.equal(table.getStatus(id)?.status, 'finished', 'the final status was written');
    const metrics = table.readMetrics();
    t.equal(metrics.slotsUsed, 0, 'the slot was released');
    t.equal(metrics.dropped.data_too_large, 2, 'both oversized values counted, whatever the width');
    t.equal(metrics.dropped.data_not_serializable, 1);

    const observed = table.observe(
      new ObservableTask({
        name: 'final with big data',
        category: 'policy',
        iterableTask: function* () {
          yield new ObservableTaskStatusUpdate('finished', 'z'.repeat(80));
        },
      }),
    );
    await waitFor(() => table.getStatus(observed)?.status === 'finished', {
      what: 'the final status with oversized data',
    });
    t.match(table.getStatus(observed)?.data, { $dropped: 'data_too_large' });
    t.equal(table.readMetrics().slotsUsed, 0, 'its slot was released too');
  },
);

t.test('an error too large for the row keeps its name, message and code', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 2, dataSize: 256 });
  t.teardown(() => table.close());
  const error = Object.assign(new TypeError('bad input'), { code: 'E_BAD' });
  error.stack = `TypeError: bad input\n${'    at frame (/srv/app/file.js:1:1)\n'.repeat(40)}`;
  let id = '';
  await t.rejects(
    table.run({ name: 'fails big', category: 'policy' }, async (report) => {
      id = report.id;
      throw error;
    }),
    error,
  );
  const update = table.getStatus(id);
  t.equal(update?.status, 'failed');
  t.match(update?.data, { name: 'TypeError', message: 'bad input', code: 'E_BAD' });
  const stack = (update?.data as { stack?: string }).stack;
  t.ok(stack === undefined || error.stack.startsWith(stack), 'the stack is cut or left out');

  const huge = new Error('m'.repeat(2000));
  await t.rejects(
    table.run({ name: 'fails huge', category: 'policy' }, async (report) => {
      id = report.id;
      throw huge;
    }),
    huge,
  );
  const data = table.getStatus(id)?.data as { name?: string; message?: string };
  t.equal(data.name, 'Error');
  t.ok(data.message !== undefined && huge.message.startsWith(data.message), 'the message is cut');
  t.ok((data.message?.length ?? 0) > 100, 'but kept as far as it fits');
});

t.test('values that cannot even be printed never throw into the task', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 2 });
  t.teardown(() => table.close());
  const bare = Object.create(null) as object;
  const result = await table.run({ name: 'bare objects', category: 'policy' }, async (report) => {
    const loose = loosen(report);
    loose.status(bare, null);
    loose.progress(bare);
    loose.status(Symbol('s'), null);
    loose.progress(10n);
    return 'ran on';
  });
  t.equal(result, 'ran on');
  const dropped = table.readMetrics().dropped;
  t.equal(dropped.status_invalid, 2);
  t.equal(dropped.progress_invalid, 2);
});

t.test('errors and values that defeat serialization or printing still end the task', async (t) => {
  const table = ObservableTaskTable.open({ name: uniqueTableName(t), maxTasks: 4, dataSize: 256 });
  t.teardown(() => table.close());
  const oddError = new Error('x');
  (oddError as unknown as { message: unknown }).message = ['y'.repeat(1000)];
  const hostileJson = {
    toJSON(): never {
      throw Object.create(null) as Error;
    },
  };
  for (const [what, thrown] of [
    ['an Error whose message is not a string', oddError],
    ['a value whose toJSON throws something unprintable', hostileJson],
  ] as const) {
    let id = '';
    const caught: unknown = await table
      .run({ name: what, category: 'policy' }, async (report) => {
        id = report.id;
        throw thrown;
      })
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    t.equal(caught, thrown, `${what}: reaches the caller unchanged`);
    t.equal(table.getStatus(id)?.status, 'failed', `${what}: the row ends failed`);
  }
  t.equal(table.readMetrics().slotsUsed, 0, 'no slot stays claimed');

  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  const result = await table.run({ name: 'cyclic arrays', category: 'policy' }, async (report) => {
    const loose = loosen(report);
    loose.status(cyclic, null);
    loose.progress(cyclic);
    return 'ran on';
  });
  t.equal(result, 'ran on', 'a cyclic array as status or progress is counted, not thrown');
});
