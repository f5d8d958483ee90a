#!/usr/bin/env node
// Copies the non-TypeScript assets of exporters/ (dashboard HTML/CSS/JS, JSON) into
// dist/exporters/, keeping their relative paths. tsc only emits what it compiles, so
// anything a built exporter reads at run time from next to itself must be copied here.
//
// A `.js` file is copied only when no `.ts` file of the same name sits beside it: a `.js`
// with a `.ts` twin would be a stray compiled output, and dist/ gets tsc's version anyway.
// Running with no exporters/ directory (or no assets) is not an error.

import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIR = join(ROOT, 'exporters');
const TARGET_DIR = join(ROOT, 'dist', 'exporters');
const ASSET_EXTENSIONS = new Set(['.html', '.css', '.js', '.json']);

/** Yields the absolute path of every regular file under `dir`, depth first. */
function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function isAsset(path) {
  const ext = extname(path);
  if (!ASSET_EXTENSIONS.has(ext)) return false;
  if (ext === '.js') {
    const stem = path.slice(0, -ext.length);
    if (existsSync(`${stem}.ts`)) return false;
  }
  return true;
}

function main() {
  if (!existsSync(SOURCE_DIR)) {
    console.log('copy-assets: no exporters/ directory, nothing to copy');
    return;
  }
  let copied = 0;
  for (const source of walk(SOURCE_DIR)) {
    if (!isAsset(source)) continue;
    const target = join(TARGET_DIR, relative(SOURCE_DIR, source));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
    copied += 1;
    console.log(`copy-assets: ${relative(ROOT, source)} -> ${relative(ROOT, target)}`);
  }
  console.log(`copy-assets: ${copied} file(s) copied`);
}

main();
