#!/usr/bin/env node
// `npm run bundle -- --key release-signing.key [--min-from 0.1.0] [--expires-days 90] [--out FILE]`
// Builds the signed release bundle (tar.gz): the built app, production node_modules, web
// assets, migrations, units and provisioning, and the Node runtime running this build
// (runtime/bin/node, started by provisioning/officine-node: the appliance never depends on
// the host's Node), with a manifest (version, min_from_version, expires_at, node_version,
// platform — the builder's, which the runtime and native modules need —, sha256 of every file) signed with the vendor's offline Ed25519 key.
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
    'gzip-level': { type: 'string', default: '9' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || !values.key) {
  process.stderr.write('usage: npm run bundle -- --key FILE [--min-from VERSION] [--expires-days N] [--out FILE] [--gzip-level 1-9]\n');
  process.stderr.write('  --key   private Ed25519 release key (PEM, from provisioning/release-keys.mjs keygen); or $OFFICINE_RELEASE_KEY\n');
  process.stderr.write('  --gzip-level  9 (default) for releases; lower only for quick local or test builds\n');
  process.exit(values.help ? 0 : 2);
}
const gzipLevel = Number(values['gzip-level']);
if (!Number.isInteger(gzipLevel) || gzipLevel < 1 || gzipLevel > 9) {
  process.stderr.write(`--gzip-level: 1 to 9, not ${values['gzip-level']}\n`);
  process.exit(2);
}
const { listReleaseFiles, bundledRuntime, RUNTIME_NODE_PATH } = await import(join(root, 'dist/appliance/src/upgrade/release-tree.js'));
const { buildBundle } = await import(join(root, 'dist/appliance/src/upgrade/bundle-builder.js'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const out = resolve(values.out ?? join(root, 'dist', `officine-appliance-${version}.tar.gz`));
let runtime;
try {
  runtime = bundledRuntime(process.execPath, process.version);
} catch (err) {
  process.stderr.write(`bundle refused: ${err.message}\n`);
  process.exit(2);
}
// the runtime is always this build's Node, never a runtime/ folder left in the checkout
const files = [...listReleaseFiles(root).filter((f) => !f.path.startsWith('runtime/')), runtime.file].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
const manifest = await buildBundle({
  files,
  version,
  nodeVersion: runtime.nodeVersion,
  gzipLevel,
  minFromVersion: values['min-from'],
  expiresAt: new Date(Date.now() + Number(values['expires-days']) * 86400_000),
  signingKeyPem: readFileSync(values.key, 'utf8'),
  out,
});
process.stdout.write(`${out}\n  version ${manifest.version}, ${manifest.files.length} files, expires ${manifest.expires_at}\n  runtime Node ${manifest.node_version} for ${manifest.platform} (${RUNTIME_NODE_PATH}, from ${process.execPath})\n`);
