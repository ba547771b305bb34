#!/usr/bin/env node
// `npm run bundle -- --key release-signing.key [--min-from 0.1.0] [--expires-days 90] [--out FILE]`
// Builds the signed release bundle (tar.gz): the built app, production node_modules, web
// assets, migrations, units and provisioning, with a manifest (version, min_from_version,
// expires_at, sha256 of every file) signed with the vendor's offline Ed25519 key.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    key: { type: 'string', default: process.env.OFFICINE_RELEASE_KEY },
    'min-from': { type: 'string', default: '0.0.0' },
    'expires-days': { type: 'string', default: '90' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || !values.key) {
  process.stderr.write('usage: npm run bundle -- --key FILE [--min-from VERSION] [--expires-days N] [--out FILE]\n');
  process.stderr.write('  --key   private Ed25519 release key (PEM, from provisioning/release-keys.mjs keygen); or $OFFICINE_RELEASE_KEY\n');
  process.exit(values.help ? 0 : 2);
}
const { listReleaseFiles } = await import(join(root, 'dist/appliance/src/upgrade/release-tree.js'));
const { buildBundle } = await import(join(root, 'dist/appliance/src/upgrade/bundle-builder.js'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const out = resolve(values.out ?? join(root, 'dist', `officine-appliance-${version}.tar.gz`));
const files = listReleaseFiles(root);
const manifest = await buildBundle({
  files,
  version,
  minFromVersion: values['min-from'],
  expiresAt: new Date(Date.now() + Number(values['expires-days']) * 86400_000),
  signingKeyPem: readFileSync(values.key, 'utf8'),
  out,
});
process.stdout.write(`${out}\n  version ${manifest.version}, ${manifest.files.length} files, expires ${manifest.expires_at}\n`);
