// A table bigger than the free space of its tmpfs fails at open() with the shared-memory
// error (how many bytes were needed, how many are free, how to give more), leaves nothing
// behind, and never turns into a SIGBUS later: the whole size is reserved at creation
// (issue 2). The test mounts its own 1 MiB tmpfs (we run as root, locally and in CI).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { ObservableTaskTable, SharedMemoryError, TaskTableNoSpaceError } from '../../lib/index.js';
import { uniqueTableName } from '../helpers/index.js';

const TMPFS_BYTES = 1024 * 1024;

function mountSmallTmpfs(t: Test): string {
  const directory = mkdtempSync(join(tmpdir(), 'ott-small-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES},mode=1777`, 'tmpfs', directory]);
  t.teardown(() => {
    execFileSync('umount', [directory]);
    rmdirSync(directory);
  });
  return directory;
}

t.test('ObservableTaskTable.open() on a tmpfs too small for the table', async (t) => {
  const directory = mountSmallTmpfs(t);
  const free = statfsSync(directory);
  t.equal(free.bavail * free.bsize, TMPFS_BYTES, 'the test tmpfs is mounted and empty');

  const name = uniqueTableName(t);
  const error = t.throws(
    () => ObservableTaskTable.open({ name, directory, maxTasks: 1000 }),
    {
      name: 'TaskTableNoSpaceError',
      code: 'ERR_TASK_TABLE_NO_SPACE',
      errno: 'ENOSPC',
      syscall: 'posix_fallocate',
      path: join(directory, name),
      table: name,
      bytesAvailable: TMPFS_BYTES,
      message: /--shm-size/,
    },
    'a clear no-space error at open',
  ) as TaskTableNoSpaceError;
  t.ok(
    error instanceof TaskTableNoSpaceError && error instanceof SharedMemoryError,
    'of the exported classes',
  );
  // 1000 rows of 128 + 2 * 256 + 1024 bytes, plus header, categories and bitmap.
  t.ok(
    error.bytesNeeded > 1000 * 1664 && error.bytesNeeded < 1000 * 1664 + 1024 * 1024,
    `needs ${error.bytesNeeded} bytes`,
  );
  t.match(error.message, String(error.bytesNeeded), 'the message says how many bytes were needed');
  t.same(readdirSync(directory), [], 'nothing is left behind in the directory');

  t.throws(
    () => ObservableTaskTable.open({ name, directory, readOnly: true }),
    { code: 'ERR_TASK_TABLE_NOT_FOUND' },
    'read-only never creates: no table there is "not found", not "no space"',
  );
});

t.test('a table that fits is reserved whole, so writing every row cannot SIGBUS', async (t) => {
  const directory = mountSmallTmpfs(t);
  // About 700 KiB: fits once, but not twice.
  const name = uniqueTableName(t);
  const table = ObservableTaskTable.open({ name, directory, maxTasks: 400, dataSize: 1024 });
  t.teardown(() => table.close());
  t.equal(table.layout.path, join(directory, name), 'created in the given directory');
  t.ok(table.layout.totalBytes > TMPFS_BYTES / 2, `${table.layout.totalBytes} bytes reserved`);

  const second = uniqueTableName(t);
  t.throws(
    () => ObservableTaskTable.open({ name: second, directory, maxTasks: 400, dataSize: 1024 }),
    { code: 'ERR_TASK_TABLE_NO_SPACE', bytesNeeded: table.layout.totalBytes },
    'a second table of that size does not fit',
  );
  t.same(readdirSync(directory), [name], 'the failed table left nothing behind');

  // Fill every row with data of the full size: every page of the table gets touched.
  const data = 'x'.repeat(1024 - 2);
  const results = await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      table.run({ name: `row-${i}`, category: 'fill' }, (report) => {
        report.status('running', data);
        return i;
      }),
    ),
  );
  t.equal(results.length, 400, 'every row was written');
  const rows = [...table];
  t.equal(rows.length, 400, 'and reads back');
  t.ok(
    rows.every(([, row]) => row.observableTaskStatusUpdate.data === data),
    'with its full-size data',
  );
  t.ok(ObservableTaskTable.unlink(name, { directory }), 'unlink() takes the directory too');
  t.same(readdirSync(directory), [], 'and removes the object');
});
