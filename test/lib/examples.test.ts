import t from 'tap';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { uniqueTableName } from '../helpers/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

// The examples are compiled with the package (npm run build:ts) and import it by name.
async function runExample(t: Parameters<typeof uniqueTableName>[0], file: string): Promise<string> {
  const { stdout } = await run(process.execPath, [join(root, 'dist/examples', file)], {
    env: { ...process.env, OBSERVABLE_TASK_TABLE: uniqueTableName(t) },
    timeout: 20_000,
  });
  return stdout;
}

t.test('examples/seed-observe.ts runs as in the seed document', async (t) => {
  const out = await runExample(t, 'seed-observe.js');
  t.match(out, /task 0:1: pending\ntask 0:1: running\ntask 0:1: finished/);
});

t.test('examples/seed-timeout.ts ends timed_out and cleans up', async (t) => {
  const out = await runExample(t, 'seed-timeout.js');
  t.match(out, /work: cleaned up/);
  t.match(out, /task 0:1: timed_out \{"inactivityTimeout":5\}/);
});

t.test('examples/run-instrumentation.ts', async (t) => {
  const out = await runExample(t, 'run-instrumentation.js');
  t.match(out, /digest [0-9a-f]{16}/);
  t.match(out, /0:1 finished hash 4 MiB 1/);
});
