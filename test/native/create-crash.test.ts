// A creator killed with SIGKILL at any point of creating a table leaves a name that every
// other process can open and use at once (design.md: a process killed at any instruction
// leaves a table every other process can still read and write). The creator builds the
// table under a temporary name, "<directory>/.<name>.creating", held with flock, and
// renames it to its name only once it is whole (native/core/shm_mapping.h). The native
// test hook OBSERVABLE_TASK_TABLE_TEST_CREATE_PAUSE=<stage>:<ms> stops the creator at a
// stage and says so on stderr, so the kill lands exactly there. Without the hook, one test
// kills a creator of a large table in the middle of posix_fallocate, and one races five
// creators while killing one of them a little later each round.
//
// Each test works in its own directory under /dev/shm, removed in teardown.

import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { ObservableTaskTable } from '../../lib/index.js';
import { waitFor } from '../helpers/index.js';
import { forkFixture, nextMessage, outputOf, waitForExit } from '../helpers/processes.js';

const PAUSE = 'OBSERVABLE_TASK_TABLE_TEST_CREATE_PAUSE';

function tableDirectory(t: Pick<Test, 'teardown'>): string {
  const directory = mkdtempSync('/dev/shm/ott-create-');
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Forks a creator that stops at `stage` for `ms`, and waits (bounded) until it is there. */
async function pausedCreator(
  t: Pick<Test, 'teardown'>,
  name: string,
  directory: string,
  stage: string,
  ms: number,
) {
  const creator = forkFixture(t, 'create-table.mjs', [name, directory, '64'], {
    [PAUSE]: `${stage}:${ms}`,
  });
  await waitFor(() => outputOf(creator).stderr.includes(`test pause at ${stage}`), {
    timeoutMs: 15000,
    what: `the creator to reach "${stage}"`,
  });
  return creator;
}

/** A second process attaches, writes and reports; returns what it said. */
async function writeFromAnotherProcess(t: Test, name: string, directory: string) {
  const writer = forkFixture(t, 'create-table.mjs', [name, directory]);
  const report = await nextMessage<{ created: boolean; maxTasks: number; value: number }>(
    writer,
    () => true,
    15000,
  );
  const exit = await waitForExit(writer, 15000);
  t.equal(exit.code, 0, `another process attached and wrote (${exit.stderr})`);
  return report;
}

for (const stage of ['reserved', 'initialized', 'published'] as const) {
  t.test(`a creator killed once its table is ${stage}`, async (t) => {
    const directory = tableDirectory(t);
    const name = 'killed-creator';
    const path = join(directory, name);
    const temporary = join(directory, `.${name}.creating`);
    const creator = await pausedCreator(t, name, directory, stage, 60000);
    creator.kill('SIGKILL');
    const exit = await waitForExit(creator, 5000);
    t.equal(exit.signal, 'SIGKILL', 'the creator was killed in the middle of creating');
    const published = stage === 'published';
    t.equal(
      existsSync(temporary),
      !published,
      published ? 'its temporary had become the table' : 'it left its temporary object behind',
    );
    t.equal(
      existsSync(path),
      published,
      published
        ? 'its table had been published, whole'
        : 'the table name never named its half-made object',
    );

    const started = Date.now();
    const table = ObservableTaskTable.open({ name, directory });
    t.teardown(() => table.close());
    const waited = Date.now() - started;
    t.ok(waited < 900, `open() succeeded at once (${waited} ms), no wait for the dead creator`);
    t.equal(table.layout.created, !published, 'created anew unless it was published');
    t.equal(table.layout.maxTasks, published ? 64 : 10000, 'with its layout');
    t.notOk(existsSync(temporary), "nothing of the dead creator's is left but its table");

    // The table works: this process and another one write and read it.
    t.equal(await table.run({ name: 'here', category: 'create' }, () => 7), 7);
    const report = await writeFromAnotherProcess(t, name, directory);
    t.equal(report.created, false, 'the other process attached to the same table');
    const rows = [...table].map(([, row]) => `${row.name} ${row.status}`);
    t.same(
      rows.sort(),
      ['here finished', `task-of-${report.value} finished`],
      'both tasks are in the table',
    );
    const readOnly = ObservableTaskTable.open({ name, directory, readOnly: true });
    t.equal([...readOnly].length, 2, 'and a read-only attacher reads them');
    readOnly.close();

    t.ok(ObservableTaskTable.unlink(name, { directory }), 'unlink() removes the table');
    t.same(readdirSync(directory), [], 'and nothing is left');
  });
}

t.test('a live creator is waited for and never disturbed', async (t) => {
  const directory = tableDirectory(t);
  const name = 'slow-creator';
  const temporary = join(directory, `.${name}.creating`);
  const creator = await pausedCreator(t, name, directory, 'reserved', 60000);

  const started = Date.now();
  t.throws(
    () => ObservableTaskTable.open({ name, directory }),
    { name: 'TaskTableNotReadyError', code: 'ERR_TASK_TABLE_NOT_READY' },
    'a creator still at work: a clear not-ready error',
  );
  const waited = Date.now() - started;
  t.ok(waited >= 900 && waited < 5000, `after waiting briefly for it (${waited} ms)`);
  t.throws(
    () => ObservableTaskTable.open({ name, directory, readOnly: true }),
    { code: 'ERR_TASK_TABLE_NOT_READY' },
    'read-only too: the table is on its way, not missing',
  );
  t.equal(ObservableTaskTable.unlink(name, { directory }), false, 'there is no table to unlink');
  t.ok(existsSync(temporary), "and neither open() nor unlink() touched the creator's object");
  t.equal(creator.exitCode, null, 'the creator is still at work');

  creator.kill('SIGKILL');
  await waitForExit(creator, 5000);
  const table = ObservableTaskTable.open({ name, directory });
  t.teardown(() => table.close());
  t.ok(table.layout.created, 'once it is dead, the next open() creates the table');
});

t.test('an attacher waits for a creator that finishes', async (t) => {
  const directory = tableDirectory(t);
  const name = 'finishing-creator';
  const creator = await pausedCreator(t, name, directory, 'initialized', 300);
  const table = ObservableTaskTable.open({ name, directory });
  t.teardown(() => table.close());
  t.equal(table.layout.created, false, 'open() attached to the table the creator published');
  t.equal(table.layout.maxTasks, 64, "with the creator's layout");
  const exit = await waitForExit(creator, 15000);
  t.equal(exit.code, 0, `the creator finished (${exit.stderr})`);
  t.same(readdirSync(directory), [name], 'nothing but the table is left');
});

t.test('a creator of a large table killed in the middle of posix_fallocate', async (t) => {
  const directory = tableDirectory(t);
  const name = 'large-table';
  const path = join(directory, name);
  const temporary = join(directory, `.${name}.creating`);
  // About 470 MB: reserving it takes long enough to be caught in the act. tmpfs sets the
  // size only once posix_fallocate is done, so blocks without a size mean "in the middle".
  const creator = forkFixture(t, 'create-table.mjs', [name, directory, '100000', '4096']);
  const reserving = () =>
    [temporary, path].some((p) => {
      const s = statSync(p, { throwIfNoEntry: false });
      return s !== undefined && s.blocks > 0 && s.size === 0;
    });
  await waitFor(reserving, {
    timeoutMs: 15000,
    intervalMs: 1,
    what: 'the creator to be reserving the table',
  });
  creator.kill('SIGKILL');
  await waitForExit(creator, 5000);
  t.comment(
    existsSync(path)
      ? `killed during posix_fallocate; the table name exists (${statSync(path).size} bytes)`
      : 'killed during posix_fallocate; the table name does not exist',
  );
  const table = ObservableTaskTable.open({ name, directory });
  t.teardown(() => table.close());
  t.equal(await table.run({ name: 'after', category: 'create' }, () => 1), 1, 'the table works');
  const report = await writeFromAnotherProcess(t, name, directory);
  t.equal(report.created, false, 'for other processes too');
  t.ok(ObservableTaskTable.unlink(name, { directory }), 'unlink() removes it');
  t.same(readdirSync(directory), [], 'nothing is left');
});

t.test('creators that start together, some killed on the way', async (t) => {
  const directory = tableDirectory(t);
  const start = () => {
    const c = forkFixture(t, 'create-table.mjs', ['', directory, '5000'], {
      CREATE_TABLE_ON_GO: '1',
    });
    const reports: { name: string; created: boolean }[] = [];
    c.on('message', (m: { name?: string; created?: boolean }) => {
      if (typeof m.name === 'string') reports.push(m as { name: string; created: boolean });
    });
    return { c, reports, ready: nextMessage(c, (m) => m.ready === true, 30000) };
  };
  const creators = Array.from({ length: 5 }, start);
  const problems: string[] = [];
  const rounds = 5;
  for (let round = 0; round < rounds; round++) {
    const name = `together-${round}`;
    await Promise.all(creators.map((p) => p.ready));
    for (const p of creators) p.c.send({ go: name });
    // One of them is killed a little later each round: before, while or after it creates.
    const victim = creators[round] as (typeof creators)[number];
    await new Promise((resolve) => setTimeout(resolve, 3 * round));
    victim.c.kill('SIGKILL');
    await waitForExit(victim.c, 5000);
    const survivors = creators.filter((p) => p !== victim);
    await waitFor(() => survivors.every((p) => p.reports.some((r) => r.name === name)), {
      timeoutMs: 15000,
      what: `every surviving creator to open ${name}`,
    }).catch((error: Error) => problems.push(`round ${round}: ${error.message}`));
    const created = creators.filter((p) =>
      p.reports.some((r) => r.name === name && r.created),
    ).length;
    if (created > 1) problems.push(`round ${round}: ${created} processes created the table`);
    const table = ObservableTaskTable.open({ name, directory });
    await table.run({ name: 'check', category: 'create' }, () => 0);
    if (table.layout.maxTasks !== 5000)
      problems.push(`round ${round}: ${table.layout.maxTasks} rows`);
    table.close();
    ObservableTaskTable.unlink(name, { directory });
    if (round < rounds - 1) creators[round] = start();
  }
  for (const p of creators) if (p.c.connected) p.c.disconnect();
  t.same(problems, [], 'exactly one creator made each table, every other process attached');
  t.same(readdirSync(directory), [], 'nothing is left');
});
