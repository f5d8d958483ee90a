// Permission bits of the shared-memory object: 0600 by default, an explicit mode exactly
// as given whatever the umask, and a mode that locks the owner out rejected before
// anything is created (issue 2). Another user is then really kept out (or let in
// read-only), which is what the bits are for.

import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { fixturePath, uniqueTableName } from '../helpers/index.js';

const NOBODY = 65534;

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Runs `fn` with `mask` as the process umask, restoring the previous one after. */
function withUmask<T>(mask: number, fn: () => T): T {
  const previous = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(previous);
  }
}

t.test('ObservableTaskTable.open() permission bits', async (t) => {
  t.test('0600 by default', async (t) => {
    const name = uniqueTableName(t);
    // A permissive umask must not widen the default either.
    const table = withUmask(0o000, () => ObservableTaskTable.open({ name, maxTasks: 4 }));
    t.teardown(() => table.close());
    t.equal(modeOf(table.layout.path), 0o600, 'owner read and write only');
    t.equal(statSync(table.layout.path).uid, process.getuid?.(), 'owned by the creating user');
  });

  t.test('an explicit mode is honoured exactly, whatever the umask', async (t) => {
    for (const [mode, umask] of [
      [0o640, 0o077],
      [0o640, 0o022],
      [0o660, 0o027],
      [0o666, 0o022],
      [0o600, 0o777],
      [0o777, 0o077],
    ] as const) {
      const name = uniqueTableName(t);
      const table = withUmask(umask, () => ObservableTaskTable.open({ name, maxTasks: 4, mode }));
      t.equal(
        modeOf(table.layout.path),
        mode,
        `mode 0o${mode.toString(8)} under umask 0o${umask.toString(8).padStart(3, '0')}`,
      );
      table.close();
    }
  });

  t.test('attaching never changes the bits of an existing table', async (t) => {
    const name = uniqueTableName(t);
    const creator = ObservableTaskTable.open({ name, maxTasks: 4, mode: 0o640 });
    t.teardown(() => creator.close());
    const attached = ObservableTaskTable.open({ name, mode: 0o666 });
    t.equal(attached.layout.created, false, 'attached, not created');
    attached.close();
    t.equal(modeOf(creator.layout.path), 0o640, "still the creator's mode");
  });

  t.test(
    'a mode without owner read and write is rejected before anything is created',
    async (t) => {
      for (const mode of [0o400, 0o200, 0o044, 0o000, 0o577]) {
        const name = uniqueTableName(t);
        t.throws(
          () => ObservableTaskTable.open({ name, mode }),
          { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /options\.mode/ },
          `mode 0o${mode.toString(8)}`,
        );
        t.notOk(existsSync(`/dev/shm/${name}`), `nothing created for mode 0o${mode.toString(8)}`);
      }
    },
  );
});

t.test('another user and the permission bits', async (t) => {
  t.equal(process.getuid?.(), 0, 'these tests run as root, so they can act as another user');
  const run = promisify(execFile);
  const attemptAsNobody = async (name: string) => {
    const { stdout } = await run(process.execPath, [fixturePath('open-as-other-user.mjs'), name], {
      uid: NOBODY,
      gid: NOBODY,
      timeout: 20_000,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  t.test('0600 keeps another user out with a permission error', async (t) => {
    const name = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name, maxTasks: 4 });
    t.teardown(() => table.close());
    await table.run({ name: 'private', category: 'c' }, () => undefined);
    const denied = {
      opened: false,
      name: 'TaskTablePermissionError',
      code: 'ERR_TASK_TABLE_PERMISSION',
      errno: 'EACCES',
      syscall: 'open',
    };
    t.same(
      await attemptAsNobody(name),
      { uid: NOBODY, writable: denied, readOnly: denied },
      'neither a writable nor a read-only attach gets in',
    );
  });

  t.test('0644 lets another user read, but not write', async (t) => {
    const name = uniqueTableName(t);
    const table = ObservableTaskTable.open({ name, maxTasks: 4, mode: 0o644 });
    t.teardown(() => table.close());
    await table.run({ name: 'public', category: 'c' }, () => undefined);
    t.match(
      await attemptAsNobody(name),
      {
        uid: NOBODY,
        writable: { opened: false, code: 'ERR_TASK_TABLE_PERMISSION', errno: 'EACCES' },
        readOnly: { opened: true, rows: ['public'] },
      },
      'read-only attach works, a writable one is refused',
    );
  });
});
