import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { TarArchive } from 'archiver';
import { hostPlatform, type ReleaseManifest } from './release-manifest.js';
import { signDetached } from './release-signing.js';
import type { ReleaseFile } from './release-tree.js';

/** Inside a bundle: the manifest and its signature at the root, the release tree under release/. */
export const BUNDLE_MANIFEST = 'manifest.json';
export const BUNDLE_SIGNATURE = 'manifest.sig';
export const BUNDLE_RELEASE_DIR = 'release/';

export interface BundleOptions {
  files: ReleaseFile[];
  version: string;
  minFromVersion: string;
  expiresAt: Date;
  /** Version of the Node runtime the release ships (runtime/bin/node), recorded in the manifest. */
  nodeVersion?: string | undefined;
  /** Platform the bundle's runtime and native modules were built for; default: this machine's. */
  platform?: string | undefined;
  /** Ed25519 private key (PKCS#8 PEM); without it the bundle is unsigned (tests only). */
  signingKeyPem?: string | undefined;
  out: string;
  /** gzip level: 9 for releases, lower in tests to save CPU. */
  gzipLevel?: number;
  now?: Date;
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Computes the manifest of a release tree (sha256 and size of every file). */
export async function buildManifest(opts: Omit<BundleOptions, 'out' | 'signingKeyPem' | 'gzipLevel'>): Promise<ReleaseManifest> {
  const files = [];
  for (const f of opts.files) files.push({ path: f.path, size: statSync(f.abs).size, sha256: await fileSha256(f.abs), mode: f.mode });
  return {
    format: 'officine-release/1',
    name: 'officine-appliance',
    version: opts.version,
    min_from_version: opts.minFromVersion,
    created_at: (opts.now ?? new Date()).toISOString(),
    expires_at: opts.expiresAt.toISOString(),
    ...(opts.nodeVersion ? { node_version: opts.nodeVersion } : {}),
    platform: opts.platform ?? hostPlatform(),
    files,
  };
}

/**
 * Writes a release bundle: tar.gz with manifest.json, manifest.sig (Ed25519 over the
 * manifest's exact bytes) and the release tree. Returns the manifest written.
 */
export async function buildBundle(opts: BundleOptions): Promise<ReleaseManifest> {
  const manifest = await buildManifest(opts);
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 1) + '\n');
  const archive = new TarArchive({ gzip: true, gzipOptions: { level: opts.gzipLevel ?? 9 } });
  const output = createWriteStream(opts.out, { mode: 0o644 });
  const done = new Promise<void>((resolve, reject) => {
    output.on('close', () => resolve());
    output.on('error', reject);
    archive.on('error', reject);
  });
  archive.pipe(output);
  const date = opts.now ?? new Date();
  archive.append(manifestBytes, { name: BUNDLE_MANIFEST, mode: 0o644, date });
  if (opts.signingKeyPem) {
    archive.append(JSON.stringify(signDetached(manifestBytes, opts.signingKeyPem)) + '\n', { name: BUNDLE_SIGNATURE, mode: 0o644, date });
  }
  for (const f of opts.files) archive.file(f.abs, { name: BUNDLE_RELEASE_DIR + f.path, mode: f.mode, date });
  await archive.finalize();
  await done;
  return manifest;
}
