#!/usr/bin/env node
// Copies the release tree of a built checkout (or of an installed release) into DEST:
// the same file list `npm run bundle` signs (appliance/src/upgrade/release-tree.ts).
// Used by install.sh: node provisioning/stage-release.mjs DEST
import { copyFileSync, chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dest = process.argv[2];
if (!dest) {
  process.stderr.write('usage: stage-release.mjs DEST\n');
  process.exit(2);
}
if (existsSync(dest)) {
  process.stderr.write(`${dest} exists already\n`);
  process.exit(3);
}
const { listReleaseFiles } = await import(join(root, 'dist/appliance/src/upgrade/release-tree.js'));
const tmp = `${dest}.partial`;
rmSync(tmp, { recursive: true, force: true });
for (const f of listReleaseFiles(root)) {
  const target = join(tmp, f.path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  copyFileSync(f.abs, target);
  chmodSync(target, f.mode);
}
renameSync(tmp, dest); // a release directory either is complete or does not exist
