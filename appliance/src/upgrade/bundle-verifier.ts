import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { AppError } from '../http/errors.js';
import { BUNDLE_MANIFEST, BUNDLE_RELEASE_DIR, BUNDLE_SIGNATURE } from './bundle-builder.js';
import { compareVersions, hostPlatform, isSafeRelativePath, manifestSchema, type ReleaseKeyList, type ReleaseManifest } from './release-manifest.js';
import { verifyDetached } from './release-signing.js';

/** Every reason a bundle is refused, as a stable code (tests and the audit log use them). */
export type RefusalCode =
  | 'oversize'
  | 'unsafe_path'
  | 'unsupported_entry'
  | 'unsigned'
  | 'unknown_key'
  | 'bad_signature'
  | 'bad_manifest'
  | 'expired'
  | 'not_newer'
  | 'too_old'
  | 'wrong_platform'
  | 'file_not_in_manifest'
  | 'file_missing'
  | 'hash_mismatch';

const MESSAGES: Record<RefusalCode, string> = {
  oversize: 'Paquet refusé : taille au-delà des limites.',
  unsafe_path: 'Paquet refusé : chemin hors de l’arborescence (../ ou absolu).',
  unsupported_entry: 'Paquet refusé : entrée d’archive non autorisée (lien, périphérique…).',
  unsigned: 'Paquet refusé : il n’est pas signé.',
  unknown_key: 'Paquet refusé : signé par une clé qui n’est pas épinglée sur cette appliance.',
  bad_signature: 'Paquet refusé : signature invalide.',
  bad_manifest: 'Paquet refusé : manifeste illisible.',
  expired: 'Paquet refusé : il a expiré.',
  not_newer: 'Paquet refusé : sa version n’est pas plus récente que la version installée.',
  too_old: 'Paquet refusé : la version installée est trop ancienne pour cette mise à jour.',
  wrong_platform: 'Paquet refusé : il a été construit pour une autre plateforme (processeur ou système) que cette appliance.',
  file_not_in_manifest: 'Paquet refusé : un fichier ne figure pas au manifeste.',
  file_missing: 'Paquet refusé : un fichier du manifeste manque.',
  hash_mismatch: 'Paquet refusé : un fichier a été modifié après signature.',
};

/** A refused bundle: the code says why, the message is for the operator (French). */
export class BundleRefusedError extends AppError {
  constructor(readonly reason: RefusalCode, detail: string) {
    super(422, `upgrade_${reason}`, `${MESSAGES[reason]} (${detail})`, `bundle refused (${reason}): ${detail}`);
    this.name = 'BundleRefusedError';
  }
}

/** Size limits checked while streaming, before anything unbounded is read or written. */
export interface BundleLimits {
  maxBundleBytes: number;
  maxUnpackedBytes: number;
  maxFiles: number;
}

export interface VerifyOptions {
  pinned: ReleaseKeyList;
  currentVersion: string;
  now: Date;
  limits: BundleLimits;
  /** Empty directory the release tree is unpacked into (the caller removes it on refusal). */
  extractTo: string;
  /** The platform bundles must be built for (default: this machine's, hostPlatform()). */
  platform?: string;
}

const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;

/**
 * Unpacks and verifies a release bundle in one streaming pass: limits and entry paths
 * are checked before a byte is written, each file's SHA-256 is computed as it lands,
 * then the signature (pinned keys only), expiry, platform, version order and the file list are
 * checked against the signed manifest. Returns the manifest when everything holds;
 * throws BundleRefusedError otherwise.
 */
export async function verifyAndUnpackBundle(bundlePath: string, opts: VerifyOptions): Promise<ReleaseManifest> {
  const size = statSync(bundlePath).size;
  if (size > opts.limits.maxBundleBytes) {
    throw new BundleRefusedError('oversize', `${size} octets > ${opts.limits.maxBundleBytes}`);
  }
  const seen = new Map<string, { size: number; sha256: string }>();
  let manifestBytes: Buffer | undefined;
  let signatureBytes: Buffer | undefined;
  let unpacked = 0;
  let entries = 0;

  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    // a refusal destroys the extractor, which errors the entry stream: that is expected
    stream.on('error', () => undefined);
    const fail = (err: Error) => {
      stream.resume();
      next(err);
    };
    entries++;
    if (entries > opts.limits.maxFiles) return fail(new BundleRefusedError('oversize', `plus de ${opts.limits.maxFiles} entrées`));
    const name = header.name.replace(/\/$/, '');
    if (!isSafeRelativePath(name)) return fail(new BundleRefusedError('unsafe_path', JSON.stringify(header.name)));
    if (header.type === 'directory') {
      stream.resume();
      return next();
    }
    if (header.type !== 'file') return fail(new BundleRefusedError('unsupported_entry', `${header.type} ${name}`));
    const declared = header.size ?? 0;
    if (unpacked + declared > opts.limits.maxUnpackedBytes) {
      return fail(new BundleRefusedError('oversize', `contenu décompressé > ${opts.limits.maxUnpackedBytes} octets`));
    }
    if (name === BUNDLE_MANIFEST || name === BUNDLE_SIGNATURE) {
      if (declared > MAX_MANIFEST_BYTES) return fail(new BundleRefusedError('oversize', name));
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        unpacked += declared;
        if (name === BUNDLE_MANIFEST) manifestBytes = Buffer.concat(chunks);
        else signatureBytes = Buffer.concat(chunks);
        next();
      });
      stream.on('error', next);
      return;
    }
    if (!name.startsWith(BUNDLE_RELEASE_DIR)) return fail(new BundleRefusedError('file_not_in_manifest', name));
    const rel = name.slice(BUNDLE_RELEASE_DIR.length);
    if (seen.has(rel)) return fail(new BundleRefusedError('unsupported_entry', `doublon ${rel}`));
    const target = join(opts.extractTo, rel);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    const hash = createHash('sha256');
    let written = 0;
    void (async () => {
      // 'wx': never follow or overwrite anything already there
      const fh = await open(target, 'wx', 0o600);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          written += chunk.length;
          hash.update(chunk);
          await fh.write(chunk);
        }
      } finally {
        await fh.close();
      }
    })().then(
      () => {
        unpacked += written;
        seen.set(rel, { size: written, sha256: hash.digest('hex') });
        next();
      },
      (err: Error) => next(err),
    );
  });

  try {
    await pipeline(createReadStream(bundlePath), createGunzip(), ex);
  } catch (err) {
    if (err instanceof BundleRefusedError) throw err;
    throw new BundleRefusedError('bad_manifest', `archive illisible : ${(err as Error).message}`);
  }

  if (!manifestBytes) throw new BundleRefusedError('bad_manifest', 'manifest.json absent');
  if (!signatureBytes) throw new BundleRefusedError('unsigned', 'manifest.sig absent');
  const sig = verifyDetached(manifestBytes, signatureBytes, opts.pinned);
  if (!sig.ok) {
    throw new BundleRefusedError(sig.reason === 'malformed' ? 'bad_signature' : sig.reason, 'manifest.sig');
  }
  let manifest: ReleaseManifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(manifestBytes.toString('utf8')));
  } catch (err) {
    throw new BundleRefusedError('bad_manifest', (err as Error).message.slice(0, 200));
  }
  if (Date.parse(manifest.expires_at) <= opts.now.getTime()) {
    throw new BundleRefusedError('expired', `expiré le ${manifest.expires_at}`);
  }
  const platform = opts.platform ?? hostPlatform();
  if (manifest.platform !== undefined && manifest.platform !== platform) {
    throw new BundleRefusedError('wrong_platform', `paquet ${manifest.platform}, appliance ${platform}`);
  }
  if (compareVersions(manifest.version, opts.currentVersion) <= 0) {
    throw new BundleRefusedError('not_newer', `${manifest.version} ≤ ${opts.currentVersion}`);
  }
  if (compareVersions(opts.currentVersion, manifest.min_from_version) < 0) {
    throw new BundleRefusedError('too_old', `${opts.currentVersion} < ${manifest.min_from_version}`);
  }
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  for (const [path, got] of seen) {
    const want = listed.get(path);
    if (!want) throw new BundleRefusedError('file_not_in_manifest', path);
    if (want.sha256 !== got.sha256 || want.size !== got.size) throw new BundleRefusedError('hash_mismatch', path);
  }
  for (const path of listed.keys()) {
    if (!seen.has(path)) throw new BundleRefusedError('file_missing', path);
  }
  return manifest;
}
