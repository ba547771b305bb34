// install.sh and Node: from an unpacked release bundle (it ships runtime/bin/node) the
// host needs no Node 20 — its pre-checks and every Node it starts use the bundled one;
// from a development checkout (no runtime/) a host Node older than 20 is refused.
// Dry runs with Node 18 first on PATH (a fake `node` that leaves a mark when run).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';
import { freePort } from '../helpers/caddy.js';

const ROOT = projectRoot();

/** A fake host Node 18 on PATH: prints v18.19.0 for any arguments, records each call. */
function hostNode18(dir: string): { path: string; mark: string } {
  const bin = join(dir, 'host-bin');
  const mark = join(dir, 'host-node-ran');
  mkdirSync(bin);
  writeFileSync(join(bin, 'node'), `#!/bin/sh\necho "$*" >> '${mark}'\necho v18.19.0\n`, { mode: 0o755 });
  return { path: `${bin}:${process.env.PATH}`, mark };
}

/**
 * An unpacked bundle's release/ tree: this build's dist and node_modules (symlinked),
 * package.json, the provisioning scripts, and runtime/bin/node (this Node).
 */
function unpackedBundle(dir: string): string {
  const rel = join(dir, 'bundle', 'release');
  mkdirSync(join(rel, 'runtime/bin'), { recursive: true });
  symlinkSync(join(ROOT, 'dist'), join(rel, 'dist'));
  symlinkSync(join(ROOT, 'node_modules'), join(rel, 'node_modules'));
  copyFileSync(join(ROOT, 'package.json'), join(rel, 'package.json'));
  cpSync(join(ROOT, 'provisioning'), join(rel, 'provisioning'), { recursive: true });
  symlinkSync(process.execPath, join(rel, 'runtime/bin/node'));
  return rel;
}

async function dryRun(src: string, root: string, path: string) {
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()].map(String);
  const r = spawnSync(
    'env',
    ['-u', 'NODE_OPTIONS', `PATH=${path}`, 'bash', join(src, 'provisioning/install.sh'), '--dry-run', '--root', root, '--site', 'localhost',
      '--http-port', ports[0]!, '--https-port', ports[1]!, '--app-port', ports[2]!, '--pg-port', ports[3]!],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

t.test('from an unpacked bundle, install.sh needs no host Node 20: it uses the bundled runtime', async (t) => {
  const dir = tempDir(t, 'officine-install-runtime-');
  const src = unpackedBundle(dir);
  const host = hostNode18(dir);
  const root = join(dir, 'root');
  const r = await dryRun(src, root, host.path);
  t.equal(r.code, 0, `dry run succeeds with Node 18 on PATH${r.code ? `: ${r.stderr}` : ''}`);
  t.match(r.stdout, new RegExp(`Node ${process.version.replace(/\./g, '\\.')} \\(fourni avec le paquet\\), version \\d+\\.\\d+\\.\\d+ à installer`), 'pre-checks report the bundled Node');
  t.match(r.stdout, new RegExp(`\\[dry-run\\] ${src}/provisioning/officine-node ${src}/provisioning/stage-release\\.mjs `), 'the release is staged by the bundled Node (launcher)');
  t.match(r.stdout, new RegExp(`archive_command = '${root}/opt/officine/current/provisioning/officine-wal-spool %p %f `), 'archive_command: the installed release’s spool script (no Node)');
  t.notOk(existsSync(host.mark), 'the host’s Node 18 was never run');
  t.notOk(existsSync(root), 'dry run wrote nothing');
});

t.test('a bundled runtime that does not start is refused clearly', async (t) => {
  const dir = tempDir(t, 'officine-install-badruntime-');
  const src = unpackedBundle(dir);
  // e.g. a bundle built for another architecture
  const runtime = join(src, 'runtime/bin/node');
  unlinkSync(runtime);
  writeFileSync(runtime, '\x7fELF not for this machine', { mode: 0o755 });
  const r = await dryRun(src, join(dir, 'root'), process.env.PATH ?? '');
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stderr, /ERREUR : le Node\.js fourni avec le paquet \(.*runtime\/bin\/node\) ne démarre pas sur cette machine/, 'French reason');
});

t.test('from a development checkout, a host Node older than 20 is refused', async (t) => {
  const dir = tempDir(t, 'officine-install-dev-');
  const host = hostNode18(dir);
  const r = await dryRun(ROOT, join(dir, 'root'), host.path);
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stderr, /ERREUR : Node\.js v18\.19\.0 trouvé \(du système, version de développement\), 20 ou plus requis/, 'French reason');
  t.match(r.stderr, /installez depuis un paquet de version \(il contient son propre Node 20\)/, 'points to the bundle');
  t.same(readdirSync(dir).sort(), ['host-bin', 'host-node-ran'], 'nothing installed');
});
