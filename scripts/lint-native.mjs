#!/usr/bin/env node
// Checks that every explicit memory ordering in native/ is explained (style.md 2.7; the
// kernel's checkpatch does the same for barriers). A line of native/**/*.{h,cc} that
// mentions `memory_order` or `atomic_thread_fence` passes when it carries a comment itself
// (`//` or `/*`), or when the line directly above is a comment line (the last line of a
// comment block counts). Anything else is reported as file:line and the exit code is 1.
//
// The comment should name the partner of the ordering ("release; pairs with the acquire
// in ReadBegin"). This script can only check that a comment is there, not what it says.
// With no native/ directory there is nothing to check and the script exits 0.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_DIR = join(ROOT, 'native');
const SOURCE_EXTENSIONS = new Set(['.h', '.cc']);
const ORDERING = /memory_order|atomic_thread_fence/;

/** Yields the absolute path of every regular file under `dir`, depth first, sorted. */
function* walk(dir) {
  const entries = readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function hasComment(line) {
  return line.includes('//') || line.includes('/*');
}

// True for a line that is wholly (part of) a comment: it starts with `//`, `/*` or `*`,
// or it ends a block comment.
function isCommentLine(line) {
  const text = line.trim();
  return (
    text.startsWith('//') || text.startsWith('/*') || text.startsWith('*') || text.endsWith('*/')
  );
}

/** Returns `file:line: text` for each unexplained ordering in one source file. */
function check(path) {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const problems = [];
  lines.forEach((line, index) => {
    if (!ORDERING.test(line)) return;
    if (hasComment(line)) return;
    const above = index > 0 ? lines[index - 1] : undefined;
    if (above !== undefined && isCommentLine(above)) return;
    problems.push(`${relative(ROOT, path)}:${index + 1}: ${line.trim()}`);
  });
  return problems;
}

function main() {
  if (!existsSync(NATIVE_DIR)) {
    console.log('lint-native: no native/ directory, nothing to check');
    return 0;
  }
  let files = 0;
  const problems = [];
  for (const path of walk(NATIVE_DIR)) {
    if (!SOURCE_EXTENSIONS.has(extname(path))) continue;
    files += 1;
    problems.push(...check(path));
  }
  if (problems.length > 0) {
    console.error(
      'lint-native: memory ordering without an explaining comment on the same line or the ' +
        'line above (say why this ordering, and which operation it pairs with):',
    );
    for (const problem of problems) console.error(`  ${problem}`);
    console.error(`lint-native: ${problems.length} problem(s) in ${files} file(s)`);
    return 1;
  }
  console.log(`lint-native: ${files} file(s) checked, every memory ordering is commented`);
  return 0;
}

process.exitCode = main();
