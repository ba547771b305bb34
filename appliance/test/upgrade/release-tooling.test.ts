// The vendor's release tooling run for real: provisioning/release-keys.mjs (keygen,
// rotate), provisioning/bundle.mjs (npm run bundle) on a small project tree — with the
// Node runtime it ships — and the appliance side that consumes them (`appliance upgrade
// verify`, `upgrade trust-keys`).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pgLib from 'pg';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';
import { rewriteBundle, writeInstalledRelease } from '../helpers/bundle.js';
import { bundledRuntime, RUNTIME_NODE_PATH } from '../../src/upgrade/release-tree.js';
import { createTestDatabase } from '../helpers/db.js';
import { CLI, cliEnv } from '../helpers/ops-process.js';

const root = projectRoot();
/** Runs a Node script to completion (async: independent steps run side by side). */
function node(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}
const releaseKeys = (...args: string[]) => node(join(root, 'provisioning/release-keys.mjs'), args);

async function auditRows(url: string, like: string): Promise<{ action: string; level: string; actor_role: string; details: Record<string, unknown> }[]> {
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(`SELECT action, level, actor_role, details FROM audit_log WHERE action LIKE $1 ORDER BY id`, [like])).rows;
  } finally {
    await c.end();
  }
}

/**
 * A small project checkout: the real bundle.mjs and the real compiled server
 * (dist/appliance/src, symlinked: bundle.mjs imports its builder from there), a tiny
 * agent and UI, and a lockfile with one production and one dev-only dependency.
 */
function smallCheckout(dir: string, version: string): string {
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'officine-appliance', version }),
    'package-lock.json': JSON.stringify({
      lockfileVersion: 3,
      packages: { '': { name: 'officine-appliance', version }, 'node_modules/prod-dep': { version: '1.0.0' }, 'node_modules/dev-dep': { version: '1.0.0', dev: true } },
    }),
    'node_modules/prod-dep/index.js': 'export default 1;\n',
    'node_modules/dev-dep/index.js': 'export default 2;\n',
    'dist/agent/src/main.js': 'console.log("agent");\n',
    'dist/web/index.html': '<!doctype html><html lang="fr"></html>\n',
    'dist/web/app.js.map': '{}\n',
    'systemd/officine-appliance.service': '[Service]\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mkdirSync(join(dir, 'provisioning'));
  copyFileSync(join(root, 'provisioning/bundle.mjs'), join(dir, 'provisioning/bundle.mjs'));
  mkdirSync(join(dir, 'dist/appliance'), { recursive: true });
  symlinkSync(join(root, 'dist/appliance/src'), join(dir, 'dist/appliance/src'));
  return join(dir, 'provisioning/bundle.mjs');
}

t.test('release keys and bundles from the vendor tools, accepted or refused by the appliance', async (t) => {
  const dir = tempDir(t, 'officine-release-tools-');
  const db = await createTestDatabase(t);

  // keygen: private key 0600 in a 0700 folder, a serial-1 key list; never overwrites a key.
  const k = async (name: string) => {
    const r = await releaseKeys('keygen', '--out', join(dir, name));
    t.equal(r.status, 0, `keygen ${name}${r.status ? `: ${r.stderr}` : ''}`);
    return { key: join(dir, name, 'release-signing.key'), list: join(dir, name, 'release-keys.json') };
  };
  const [a, b, stranger] = await Promise.all([k('vendor-a'), k('vendor-b'), k('stranger')]);
  t.equal(statSync(a.key).mode & 0o777, 0o600, 'private key file is 0600');
  t.equal(statSync(dirname(a.key)).mode & 0o777, 0o700, 'its folder is 0700');
  t.match(readFileSync(a.key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/, 'PEM private key');
  const listA = JSON.parse(readFileSync(a.list, 'utf8')) as { serial: number; keys: { id: string }[] };
  t.equal(listA.serial, 1);
  t.equal(listA.keys.length, 1);
  const keyBefore = readFileSync(a.key, 'utf8');
  t.not((await releaseKeys('keygen', '--out', dirname(a.key))).status, 0, 'a second keygen into the same folder is refused');
  t.equal(readFileSync(a.key, 'utf8'), keyBefore, 'the existing private key is untouched');

  // The appliance pins vendor A's list.
  const installDir = join(dir, 'opt');
  writeInstalledRelease(installDir, '0.1.0');
  const pinnedFile = join(dir, 'etc-release-keys.json');
  copyFileSync(a.list, pinnedFile);
  const env = cliEnv(db.url, join(dir, 'data'), { INSTALL_DIR: installDir, RELEASE_KEYS_FILE: pinnedFile, LOG_LEVEL: 'warn' });
  const cli = (...args: string[]) => node(CLI, args, env);

  // npm run bundle (provisioning/bundle.mjs) on a small checkout, signed by A and by B.
  const bundleScript = smallCheckout(join(dir, 'checkout'), '0.2.0');
  // gzip level 1: the bundle carries the ~100 MB Node binary, level 9 would only cost CPU here
  const bundle = (key: string, out: string) => node(bundleScript, ['--key', key, '--min-from', '0.1.0', '--expires-days', '30', '--out', out, '--gzip-level', '1']);
  const byA = join(dir, 'by-a.tar.gz');
  const byB = join(dir, 'by-b.tar.gz');
  const evil = join(dir, 'evil.json');
  const [noKey, builtA, builtB, evilList] = await Promise.all([
    node(bundleScript, []),
    bundle(a.key, byA),
    bundle(b.key, byB),
    releaseKeys('rotate', '--key', stranger.key, '--serial', '2', '--out', evil, stranger.list),
  ]);
  t.equal(noKey.status, 2, 'bundle.mjs refuses to build without a signing key');
  for (const r of [builtA, builtB]) {
    t.equal(r.status, 0, `bundle.mjs builds a bundle${r.status ? `: ${r.stderr}` : ''}`);
    t.match(r.stdout, /version 0\.2\.0, \d+ files, expires /);
  }
  t.equal(evilList.status, 0, 'rotate by the stranger');
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', byA, 'manifest.json'], { encoding: 'utf8' })) as {
    version: string;
    min_from_version: string;
    node_version?: string;
    platform?: string;
    files: { path: string; sha256: string; size: number; mode: number }[];
  };
  const paths = manifest.files.map((f) => f.path);
  t.equal(manifest.version, '0.2.0', 'version from package.json');
  t.equal(manifest.min_from_version, '0.1.0');
  t.ok(paths.includes('dist/appliance/src/cli/main.js'), 'the compiled server');
  t.ok(paths.includes('dist/appliance/src/db/migrations/index.js'), 'the migrations');
  t.ok(paths.includes('node_modules/prod-dep/index.js'), 'production dependencies');
  t.notOk(paths.includes('node_modules/dev-dep/index.js'), 'no dev-only dependency');
  t.notOk(paths.some((p) => p.endsWith('.map')), 'no source maps');
  t.ok(paths.includes('systemd/officine-appliance.service') && paths.includes('dist/web/index.html'), 'units and web assets');

  // The Node runtime: this build's Node, executable, its version and hash in the signed manifest.
  const platform = `${process.platform}-${process.arch}`;
  t.match(builtA.stdout, new RegExp(`runtime Node ${process.version.replace(/\./g, '\\.')} for ${platform} \\(runtime/bin/node`), 'bundle.mjs names the runtime it ships and its platform');
  t.equal(manifest.node_version, process.version, 'node_version: the Node that built the bundle');
  t.equal(manifest.platform, platform, 'platform: the machine that built the bundle');
  const runtimeEntry = manifest.files.find((f) => f.path === RUNTIME_NODE_PATH);
  t.ok(runtimeEntry, 'runtime/bin/node listed in the manifest');
  t.equal(runtimeEntry?.mode, 0o755, 'listed executable');
  const unpacked = join(dir, 'unpacked-a');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', byA, '-C', unpacked, `release/${RUNTIME_NODE_PATH}`]);
  const shipped = join(unpacked, 'release', RUNTIME_NODE_PATH);
  t.equal(statSync(shipped).mode & 0o777, 0o755, 'unpacked 0755');
  t.equal(statSync(shipped).size, runtimeEntry?.size, 'its size is the manifest’s');
  t.equal(createHash('sha256').update(readFileSync(shipped)).digest('hex'), runtimeEntry?.sha256, 'its sha256 is the manifest’s');
  t.equal(execFileSync(shipped, ['--version'], { encoding: 'utf8', env: { PATH: process.env.PATH } }).trim(), manifest.node_version, 'the shipped binary runs and is the Node named by node_version');
  // The runtime changed after signing (one byte, same size): refused like any other file.
  const tampered = join(dir, 'runtime-tampered.tar.gz');
  await rewriteBundle(byA, tampered, (name, data) => {
    if (name !== `release/${RUNTIME_NODE_PATH}`) return data;
    const copy = Buffer.from(data);
    copy[copy.length >> 1]! ^= 0xff;
    return copy;
  });

  // A list signed by an unpinned key is refused, audited, and the pinned file is unchanged.
  const pinnedBefore = readFileSync(pinnedFile, 'utf8');
  const [vA, vB, refused, vTampered] = await Promise.all([
    cli('upgrade', 'verify', byA),
    cli('upgrade', 'verify', byB),
    cli('upgrade', 'trust-keys', evil, `${evil}.sig`),
    cli('upgrade', 'verify', tampered),
  ]);
  t.equal(vA.status, 0, `the bundle signed by the pinned key verifies${vA.status ? `: ${vA.stderr}` : ''}`);
  t.match(vA.stdout, new RegExp(`Paquet valide : version 0\\.2\\.0 \\(${paths.length} fichiers`));
  t.equal(vB.status, 1, 'the bundle signed by B (not pinned yet) is refused');
  t.match(vB.stderr, /Paquet refusé : signé par une clé qui n’est pas épinglée/);
  t.equal(vTampered.status, 1, 'a bundle whose runtime changed after signing is refused');
  t.match(vTampered.stderr, /Paquet refusé : un fichier a été modifié après signature\. \(runtime\/bin\/node\)/, 'naming the runtime');
  t.equal(refused.status, 1, 'trust-keys refuses a list signed by an unpinned key');
  t.match(refused.stderr, /rotation des clés refusée[\s\S]*unknown_key/);
  t.equal(readFileSync(pinnedFile, 'utf8'), pinnedBefore, 'pinned keys unchanged');

  // Rotation: A signs the list [A, B] with serial 2 → accepted, audited; B's bundle now verifies.
  const next = join(dir, 'next.json');
  const rotate = await releaseKeys('rotate', '--key', a.key, '--serial', '2', '--out', next, a.list, b.list);
  t.equal(rotate.status, 0, 'rotate by the pinned key');
  t.match(rotate.stdout, /2 key\(s\), serial 2/);
  const trusted = await cli('upgrade', 'trust-keys', next, `${next}.sig`);
  t.equal(trusted.status, 0, `trust-keys accepts it${trusted.status ? `: ${trusted.stderr}` : ''}`);
  t.match(trusted.stdout, /Clés de publication remplacées \(série 2, 2 clé\(s\)\)/);
  t.equal(readFileSync(pinnedFile, 'utf8'), readFileSync(next, 'utf8'), 'the new list is pinned');
  const [vB2, replay] = await Promise.all([cli('upgrade', 'verify', byB), cli('upgrade', 'trust-keys', next, `${next}.sig`)]);
  t.equal(vB2.status, 0, `B's bundle verifies after the rotation${vB2.status ? `: ${vB2.stderr}` : ''}`);
  t.equal(replay.status, 1, 'the same list again (replay, same serial) is refused');
  t.match(replay.stderr, /not_newer/);

  const keyB = (JSON.parse(readFileSync(b.list, 'utf8')) as { keys: { id: string }[] }).keys[0]!.id;
  const rows = await auditRows(db.url, 'upgrade.keys_%');
  t.same(
    rows.map((x) => [x.action, x.level, x.details.reason ?? x.details.serial]),
    [
      ['upgrade.keys_refused', 'alert', 'unknown_key'],
      ['upgrade.keys_rotated', 'warning', 2],
      ['upgrade.keys_refused', 'alert', 'not_newer'],
    ],
    'every trust-keys decision is in the audit log',
  );
  t.same(rows[1]!.details.keys, [listA.keys[0]!.id, keyB], 'the rotation names the new key ids');
  t.equal(rows[1]!.actor_role, 'console');
  t.equal(rows[1]!.details.command, 'upgrade trust-keys');
});

t.test('bundle.mjs ships only the supported Node major version', async (t) => {
  t.throws(() => bundledRuntime('/usr/bin/node', 'v18.19.0'), /Node 20 required, this is v18\.19\.0 \(\/usr\/bin\/node\)/, 'Node 18 refused');
  t.throws(() => bundledRuntime('/usr/bin/node', 'v22.1.0'), /Node 20 required/, 'Node 22 refused (not what the appliance is tested with)');
  t.same(bundledRuntime('/x/node', 'v20.11.1'), { file: { abs: '/x/node', path: 'runtime/bin/node', mode: 0o755 }, nodeVersion: 'v20.11.1' }, 'Node 20: shipped as runtime/bin/node, 0755');
});
