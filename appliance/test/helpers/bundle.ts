import { createReadStream, createWriteStream, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Test } from 'tap';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { extract, pack, type Header as TarHeaders } from 'tar-stream';
import { buildBundle } from '../../src/upgrade/bundle-builder.js';
import { buildKeyList, generateReleaseKey } from '../../src/upgrade/release-signing.js';
import type { ReleaseFile } from '../../src/upgrade/release-tree.js';
import { projectRoot } from '../../src/config/version.js';

/** Writes a small fake release tree (package.json with `version` + a few files) and lists it. */
export function writeTinyRelease(dir: string, version: string): ReleaseFile[] {
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'officine-appliance', version }),
    'dist/appliance/src/cli/main.js': `console.log('officine ${version}');\n`,
    'dist/web/index.html': '<!doctype html><html lang="fr"></html>\n',
  };
  return Object.entries(files).map(([path, text]) => {
    const abs = join(dir, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
    return { abs, path, mode: 0o644 as const };
  });
}

/** An installed layout: releases/<version>/package.json and `current` pointing at it. */
export function writeInstalledRelease(installDir: string, version: string): void {
  mkdirSync(join(installDir, 'releases', version), { recursive: true });
  writeFileSync(join(installDir, 'releases', version, 'package.json'), JSON.stringify({ name: 'officine-appliance', version }));
  symlinkSync(join('releases', version), join(installDir, 'current'));
}

/** What to do with each entry when rewriting a bundle: keep, replace the data, or drop. */
export type EntryEdit = (name: string, data: Buffer) => Buffer | null;

/**
 * Re-packs a bundle entry by entry (an attacker's edit after signing): `edit` may change
 * or drop entries, `extra` appends raw entries (any name or type).
 */
export async function rewriteBundle(src: string, dst: string, edit: EntryEdit, extra: { header: Partial<TarHeaders> & { name: string }; data?: Buffer }[] = []): Promise<void> {
  const p = pack();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      const data = edit(header.name, Buffer.concat(chunks));
      if (data === null) return next();
      p.entry({ ...header, size: data.length }, data, (err) => next(err ?? undefined));
    });
  });
  ex.on('finish', () => {
    for (const e of extra) p.entry(e.header as TarHeaders, e.data ?? Buffer.alloc(0));
    p.finalize();
  });
  await Promise.all([
    pipeline(createReadStream(src), createGunzip(), ex),
    pipeline(p, createGzip({ level: 1 }), createWriteStream(dst)),
  ]);
}

/** The groupement name that makes the test migrations fail (so one bundle serves both outcomes). */
export const FAIL_MARKER = 'échec-de-migration-demandé';

/**
 * Test migrations appended to a release: one that changes schema and data, then one
 * that fails when the database holds the FAIL_MARKER groupement.
 */
export function testMigrationsSource(): string {
  return `export class UpgradeProbe1763770000001 {
  name = 'UpgradeProbe1763770000001';
  async up(q) {
    await q.query('CREATE TABLE upgrade_probe (id int PRIMARY KEY)');
    await q.query("UPDATE groupements SET name = name || ' (migré)'");
  }
  async down(q) {
    await q.query('DROP TABLE upgrade_probe');
  }
}
export class UpgradeGuard1763770000002 {
  name = 'UpgradeGuard1763770000002';
  async up(q) {
    const rows = await q.query("SELECT 1 FROM groupements WHERE name LIKE '${FAIL_MARKER}%'");
    if (rows.length) throw new Error('migration failure requested by the test data');
  }
  async down() {}
}
export const testMigrations = [UpgradeProbe1763770000001, UpgradeGuard1763770000002];
`;
}

/**
 * The file list of an installed release with some files replaced or added (a new
 * version, extra migrations): what a vendor build of the next version would hold.
 */
export function overlayRelease(files: ReleaseFile[], overlayDir: string, overlay: Record<string, string>): ReleaseFile[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const [path, text] of Object.entries(overlay)) {
    const abs = join(overlayDir, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
    byPath.set(path, { abs, path, mode: 0o644 });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A small bundle of a tiny release (plus `overlay` files) in `workDir`, signed with
 * `keyPem` (unsigned without it), valid 30 days, from 0.1.0. Returns its path.
 */
export async function buildTinyBundle(workDir: string, opts: { version: string; keyPem?: string; overlay?: Record<string, string>; name?: string }): Promise<string> {
  const name = opts.name ?? `tiny-${opts.version}${opts.keyPem ? '' : '-unsigned'}`;
  const tree = join(workDir, name);
  const files = overlayRelease(writeTinyRelease(tree, opts.version), tree, opts.overlay ?? {});
  const out = join(workDir, `${name}.tar.gz`);
  await buildBundle({ files, version: opts.version, minFromVersion: '0.1.0', expiresAt: new Date(Date.now() + 30 * 86400_000), signingKeyPem: opts.keyPem, out, gzipLevel: 1 });
  return out;
}

/**
 * Overlay for a tiny release that an upgrade can migrate with: its migration entry
 * points (the contract ReleaseCodeMigrator imports) re-export this build's, so the
 * real migrator runs without packing the whole application. With `migrations` (the
 * source of a module exporting `testMigrations`, e.g. testMigrationsSource()), those
 * run after this build's: a release that really changes the schema and the data.
 */
export function migrationEntryPointsOverlay(opts: { migrations?: string } = {}): Record<string, string> {
  const built = (mod: string) => pathToFileURL(join(projectRoot(), 'dist/appliance/src/db', mod)).href;
  const dataSource = opts.migrations
    ? `import { createDataSource as buildDataSource } from '${built('data-source.js')}';
import { testMigrations } from './migrations/upgrade-test.js';
export function createDataSource(url, opts) {
  const ds = buildDataSource(url, opts);
  return ds.setOptions({ migrations: [...ds.options.migrations, ...testMigrations] });
}
`
    : `export { createDataSource } from '${built('data-source.js')}';\n`;
  return {
    'dist/appliance/src/db/data-source.js': dataSource,
    'dist/appliance/src/db/migrator.js': `export { migrateUp } from '${built('migrator.js')}';\n`,
    ...(opts.migrations ? { 'dist/appliance/src/db/migrations/upgrade-test.js': opts.migrations } : {}),
  };
}

/** A loopback server answering 200 on /readyz only (the upgrade health gate's target); returns its port. */
export async function readyzServer(t: Test): Promise<number> {
  const server = createServer((req, res) => res.writeHead(req.url === '/readyz' ? 200 : 404).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

/** A pinned release key (its key list written to `dir/release-keys.json`) and a 0.2.0 tiny bundle signed with it. */
export async function pinnedKeyAndBundle(dir: string, overlay: Record<string, string>): Promise<{ keysFile: string; bundle: string }> {
  const key = generateReleaseKey();
  const keysFile = join(dir, 'release-keys.json');
  writeFileSync(keysFile, JSON.stringify(buildKeyList([key.publicKey], 1)));
  mkdirSync(join(dir, 'work'));
  const bundle = await buildTinyBundle(join(dir, 'work'), { version: '0.2.0', keyPem: key.privatePem, overlay });
  return { keysFile, bundle };
}
