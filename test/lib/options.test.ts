// Options of ObservableTaskTable.open(): every invalid value is rejected with Node's
// error classes and codes, naming the option, before anything is created; and the
// accepted edges are accepted (issue 2; style.md 2.5: the accepted edge and the first
// rejected value of every rule).

import { existsSync } from 'node:fs';
import t, { type Test } from 'tap';

import { DEFAULT_TABLE_OPTIONS, ObservableTaskTable, TABLE_NAME_ENV } from '../../lib/index.js';
import { resolveTableOptions } from '../../lib/options.js';
import { uniqueTableName } from '../helpers/index.js';

type Shape = { name: 'TypeError' | 'RangeError'; code: string; message?: RegExp };
const TYPE: Shape = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
const VALUE: Shape = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' };
const RANGE: Shape = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };

/** Expects open(options) to throw `shape` and to leave no object under any name it could use. */
function rejects(
  t: Test,
  what: string,
  options: Record<string, unknown>,
  shape: Shape,
  paths: string[],
): void {
  t.throws(() => ObservableTaskTable.open(options as never), shape, what);
  t.throws(() => resolveTableOptions(options), shape, `${what} (resolveTableOptions)`);
  const created = paths.filter((path) => existsSync(path));
  t.same(created, [], `${what}: nothing was created`);
}

t.test('ObservableTaskTable.open() rejects invalid layout numbers', async (t) => {
  const name = uniqueTableName(t);
  const path = `/dev/shm/${name}`;
  const numbers: [string, unknown, Shape][] = [
    ['0', 0, RANGE],
    ['negative', -1, RANGE],
    ['fractional', 1.5, RANGE],
    ['NaN', NaN, RANGE],
    ['Infinity', Infinity, RANGE],
    ['huge', 2 ** 53, RANGE],
    ['a string', '10', TYPE],
    ['a bigint', 10n, TYPE],
    ['null', null, TYPE],
  ];
  for (const option of ['maxTasks', 'dataSize', 'maxCategories']) {
    for (const [what, value, shape] of numbers) {
      rejects(
        t,
        `${option} ${what}`,
        { name, [option]: value },
        { ...shape, message: new RegExp(`options\\.${option}`) },
        [path],
      );
    }
  }
  // The first rejected value past each edge.
  rejects(t, 'maxTasks 1000001', { name, maxTasks: 1_000_001 }, { ...RANGE, message: /1000000/ }, [
    path,
  ]);
  rejects(t, 'dataSize 63', { name, dataSize: 63 }, { ...RANGE, message: /64/ }, [path]);
  rejects(t, 'dataSize 1048577', { name, dataSize: 1_048_577 }, RANGE, [path]);
  rejects(t, 'maxCategories 65536', { name, maxCategories: 65_536 }, RANGE, [path]);
  rejects(t, 'watchIntervalMs 4', { name, watchIntervalMs: 4 }, RANGE, [path]);
  rejects(t, 'watchIntervalMs 1001', { name, watchIntervalMs: 1001 }, RANGE, [path]);
});

t.test('ObservableTaskTable.open() rejects invalid names', async (t) => {
  const base = uniqueTableName(t);
  const cases: [string, unknown, Shape, string[]][] = [
    ['empty', '', VALUE, []],
    ["with '/'", `${base}/x`, VALUE, [`/dev/shm/${base}`, `/dev/shm/${base}/x`]],
    ["starting with '/'", `/${base}`, VALUE, [`/dev/shm/${base}`]],
    ['..', '..', VALUE, []],
    ["starting with '.'", `.${base}`, VALUE, [`/dev/shm/.${base}`]],
    ['with a space', `${base} x`, VALUE, [`/dev/shm/${base} x`]],
    ['with a NUL', `${base}\0`, VALUE, [`/dev/shm/${base}`]],
    ['non-ASCII', `${base}é`, VALUE, [`/dev/shm/${base}é`]],
    ['201 characters', 'a'.repeat(201), VALUE, [`/dev/shm/${'a'.repeat(201)}`]],
    ['a number', 42, TYPE, ['/dev/shm/42']],
    ['an object', { toString: () => base }, TYPE, [`/dev/shm/${base}`]],
    ['null', null, TYPE, []],
  ];
  for (const [what, value, shape, paths] of cases) {
    rejects(t, `name ${what}`, { name: value }, { ...shape, message: /options\.name/ }, paths);
  }
  t.throws(() => ObservableTaskTable.unlink('a/b'), VALUE, 'unlink() checks the name the same way');

  // Accepted edges: 200 characters, and every allowed character class.
  for (const accepted of ['a'.repeat(200), 'A-b_c.9', '-lead', '_lead', '9']) {
    t.equal(
      resolveTableOptions({ name: accepted }).name,
      accepted,
      `name ${JSON.stringify(accepted.slice(0, 20))} is accepted`,
    );
  }
});

t.test('the default name comes from the environment, and is validated too', async (t) => {
  const saved = process.env[TABLE_NAME_ENV];
  t.teardown(() => {
    if (saved === undefined) delete process.env[TABLE_NAME_ENV];
    else process.env[TABLE_NAME_ENV] = saved;
  });
  delete process.env[TABLE_NAME_ENV];
  t.equal(resolveTableOptions({}).name, DEFAULT_TABLE_OPTIONS.name, 'the documented default');
  process.env[TABLE_NAME_ENV] = 'from-env';
  t.equal(resolveTableOptions().name, 'from-env', 'the environment variable');
  t.equal(resolveTableOptions({ name: 'explicit' }).name, 'explicit', 'an explicit name wins');
  process.env[TABLE_NAME_ENV] = 'bad/name';
  t.throws(
    () => ObservableTaskTable.open(),
    { ...VALUE, message: new RegExp(TABLE_NAME_ENV) },
    'a bad env name names the variable',
  );
  t.notOk(existsSync('/dev/shm/bad'), 'nothing was created');
});

t.test(
  'ObservableTaskTable.open() rejects unknown options, with a hint for likely typos',
  async (t) => {
    const name = uniqueTableName(t);
    const path = `/dev/shm/${name}`;
    const typos: [string, string][] = [
      ['readonly', 'readOnly'],
      ['read_only', 'readOnly'],
      ['maxtasks', 'maxTasks'],
      ['MaxTasks', 'maxTasks'],
      ['datasize', 'dataSize'],
      ['buckets', 'durationBuckets'],
      ['onfull', 'onFull'],
      ['dir', 'directory'],
    ];
    for (const [typo, meant] of typos) {
      rejects(
        t,
        `${typo}`,
        { name, [typo]: true },
        { ...VALUE, message: new RegExp(`options\\.${typo}.*did you mean ${meant}`) },
        [path],
      );
    }
    rejects(
      t,
      'an unknown option',
      { name, colour: 'blue' },
      { ...VALUE, message: /options\.colour is not an option/ },
      [path],
    );
    rejects(t, 'options as a string', 'x' as never, TYPE, [path]);
    rejects(t, 'options as an array', [] as never, TYPE, [path]);
  },
);

t.test('ObservableTaskTable.open() rejects invalid durationBuckets', async (t) => {
  const name = uniqueTableName(t);
  const path = `/dev/shm/${name}`;
  const cases: [string, unknown, Shape][] = [
    ['empty', [], RANGE],
    ['33 bounds', Array.from({ length: 33 }, (_, i) => i + 1), RANGE],
    ['unsorted', [1, 0.5], { ...RANGE, message: /durationBuckets\[1\]/ }],
    ['a repeated bound', [1, 2, 2], { ...RANGE, message: /durationBuckets\[2\]/ }],
    ['negative', [-1, 1], { ...RANGE, message: /durationBuckets\[0\]/ }],
    ['zero', [0, 1], RANGE],
    ['NaN', [1, NaN], RANGE],
    ['Infinity', [1, Infinity], RANGE],
    ['a string bound', [1, '2'], RANGE],
    ['not an array', '1,2', TYPE],
    ['an object', { 0: 1, length: 1 }, TYPE],
  ];
  for (const [what, value, shape] of cases) {
    rejects(
      t,
      `durationBuckets ${what}`,
      { name, durationBuckets: value },
      { message: /options\.durationBuckets/, ...shape },
      [path],
    );
  }
  const accepted = Array.from({ length: 32 }, (_, i) => (i + 1) / 10);
  t.same(
    resolveTableOptions({ name, durationBuckets: accepted }).durationBuckets,
    accepted,
    '32 ascending bounds',
  );
  t.same(
    resolveTableOptions({ name, durationBuckets: [5e-324] }).durationBuckets,
    [5e-324],
    'one tiny bound',
  );
});

t.test('ObservableTaskTable.open() rejects other invalid options', async (t) => {
  const name = uniqueTableName(t);
  const path = `/dev/shm/${name}`;
  const cases: [string, Record<string, unknown>, Shape][] = [
    ['mode 0o400 (owner cannot write)', { mode: 0o400 }, { ...RANGE, message: /options\.mode/ }],
    ['mode 0o200 (owner cannot read)', { mode: 0o200 }, RANGE],
    ['mode 0o1600 (not permission bits)', { mode: 0o1600 }, RANGE],
    ['mode -1', { mode: -1 }, RANGE],
    ['mode 384.5', { mode: 384.5 }, RANGE],
    ["mode '600'", { mode: '600' }, TYPE],
    ["onFull 'ignore'", { onFull: 'ignore' }, { ...VALUE, message: /options\.onFull/ }],
    ['onFull true', { onFull: true }, VALUE],
    ["readOnly 'yes'", { readOnly: 'yes' }, { ...TYPE, message: /options\.readOnly/ }],
    ['readOnly 1', { readOnly: 1 }, TYPE],
    ['a relative directory', { directory: 'shm' }, { ...VALUE, message: /options\.directory/ }],
    ['directory 42', { directory: 42 }, TYPE],
  ];
  for (const [what, options, shape] of cases) rejects(t, what, { name, ...options }, shape, [path]);
});

t.test('resolveTableOptions() accepts the edges and applies defaults', async (t) => {
  const name = uniqueTableName(t);
  // Resolved only: a 1,000,000-row table is not created here.
  t.match(resolveTableOptions({ name, maxTasks: 1 }), { maxTasks: 1 }, 'maxTasks 1');
  t.match(
    resolveTableOptions({ name, maxTasks: 1_000_000 }),
    { maxTasks: 1_000_000 },
    'maxTasks 1000000',
  );
  t.match(resolveTableOptions({ name, dataSize: 64 }), { dataSize: 64 }, 'dataSize 64');
  t.match(
    resolveTableOptions({ name, dataSize: 1_048_576 }),
    { dataSize: 1_048_576 },
    'dataSize 1048576',
  );
  t.match(
    resolveTableOptions({ name, maxCategories: 65_535 }),
    { maxCategories: 65_535 },
    'maxCategories 65535',
  );
  t.match(resolveTableOptions({ name, mode: 0o600 }), { mode: 0o600 }, 'mode 0o600');
  t.match(resolveTableOptions({ name, mode: 0o777 }), { mode: 0o777 }, 'mode 0o777');
  t.match(
    resolveTableOptions({ name, watchIntervalMs: 5 }),
    { watchIntervalMs: 5 },
    'watchIntervalMs 5',
  );
  t.match(
    resolveTableOptions({ name, directory: '/dev/shm///' }),
    { directory: '/dev/shm' },
    'trailing slashes',
  );
  t.match(
    resolveTableOptions({ name, maxTasks: undefined }),
    { maxTasks: DEFAULT_TABLE_OPTIONS.maxTasks },
    'undefined is the default',
  );
  const resolved = resolveTableOptions({ name, maxTasks: 5 });
  t.same([...resolved.explicit], ['maxTasks'], 'only the layout options given are explicit');
  t.match(
    resolved,
    {
      dataSize: DEFAULT_TABLE_OPTIONS.dataSize,
      maxCategories: DEFAULT_TABLE_OPTIONS.maxCategories,
      readOnly: false,
      mode: 0o600,
      onFull: 'throw',
      directory: '/dev/shm',
    },
    'the other options take their defaults',
  );

  // The smallest tables really open: one row; the smallest and the largest data size.
  for (const options of [
    { maxTasks: 1 },
    { maxTasks: 1, dataSize: 64 },
    { maxTasks: 1, dataSize: 1_048_576 },
  ]) {
    const tableName = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name: tableName, ...options });
    t.match(table.layout, { created: true, ...options }, `opens with ${JSON.stringify(options)}`);
    const data = 'x'.repeat(table.layout.dataSize - 2); // a JSON string of exactly dataSize bytes
    await table.run({ name: 'edge', category: 'c' }, (report) => report.status('running', data));
    t.equal(
      [...table][0]?.[1].observableTaskStatusUpdate.data,
      data,
      'a row of exactly dataSize bytes fits',
    );
    table.close();
    ObservableTaskTable.unlink(tableName);
  }
});
