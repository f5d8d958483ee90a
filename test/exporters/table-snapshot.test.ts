import t from 'tap';

import { ObservableTaskTable, TaskTableCorruptError } from '../../lib/index.js';
import {
  checkTableSource,
  collectTableSnapshots,
  readTable,
  resolveTables,
} from '../../exporters/table-snapshot.js';
import { uniqueTableName } from '../helpers/index.js';
import { openTable } from '../helpers/tables.js';

t.test('collectTableSnapshots()', async (t) => {
  t.test('classifies each table and keeps the others', async (t) => {
    const ok = openTable(t, { maxTasks: 8 });
    const corrupt = openTable(t);
    const broken = openTable(t);
    const closed = openTable(t);
    corrupt.readMetrics = () => {
      throw new TaskTableCorruptError(corrupt.name, 'rows', 1, 0, 'row 3 claims\na bad length');
    };
    broken.readMetrics = () => {
      throw new Error('native read failed');
    };
    closed.close();
    const now = Date.now();
    const snapshots = collectTableSnapshots([ok, corrupt, broken, closed], now);
    t.match(snapshots, [
      { table: ok.name, state: 'ok', error: null, value: { table: ok.name, capacity: 8 } },
      {
        table: corrupt.name,
        state: 'corrupt',
        error: /is corrupt: row 3 claims a bad length/,
        value: null,
      },
      { table: broken.name, state: 'error', error: 'native read failed', value: null },
      { table: closed.name, state: 'closed', error: /closed/, value: null, createdAt: null },
    ]);
    t.equal(snapshots[0]?.createdAt?.getTime(), ok.layout.createdAt.getTime());
    t.equal(snapshots[0]?.value?.collectedAt.getTime(), now);
  });

  t.test('a table removed and created again is missing for the old handle', async (t) => {
    const name = uniqueTableName(t);
    const old = openTable(t, { name, maxTasks: 8 });
    t.equal(readTable(old, () => 1).state, 'ok');
    ObservableTaskTable.unlink(name);
    t.match(
      readTable(old, () => 1),
      { state: 'missing', error: /was removed \(/ },
    );
    const fresh = openTable(t, { name, maxTasks: 8 });
    t.match(
      readTable(old, () => 1),
      { state: 'missing', error: /removed and created again/ },
    );
    t.same(
      readTable(fresh, () => 1),
      { table: name, state: 'ok', error: null, value: 1 },
    );
  });
});

t.test('checkTableSource()', async (t) => {
  const table = openTable(t);
  const fn = (): ObservableTaskTable[] => [table];
  t.equal(checkTableSource('tables', fn), fn);
  t.same(checkTableSource('tables', [table]), [table]);
  t.same(checkTableSource('tables', []), []);
  t.throws(() => checkTableSource('tables', 'x'), {
    name: 'TypeError',
    message: /^tables must be/,
  });
  t.throws(() => checkTableSource('tables', [null]), {
    name: 'TypeError',
    message: /^tables\[0\]/,
  });
  t.throws(() => checkTableSource('tables', [{ name: 'x' }]), TypeError);
  t.throws(() => checkTableSource('tables', [table, table]), {
    name: 'RangeError',
    message: /^tables\[1\] repeats/,
  });
  t.same(
    resolveTables(() => [table, table]),
    [table],
  );
});
