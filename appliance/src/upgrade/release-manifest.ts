import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RUNTIME_NODE_PATH } from './release-tree.js';

/** Release versions: semver core with an optional pre-release tag. */
const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/**
 * Orders two release versions (semver precedence, pre-releases before their release):
 * the upgrader refuses any bundle that is not strictly newer than what runs.
 */
export function compareVersions(a: string, b: string): number {
  const pa = VERSION_RE.exec(a);
  const pb = VERSION_RE.exec(b);
  if (!pa || !pb) throw new Error(`not a release version: ${pa ? b : a}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  if (pa[4] === pb[4]) return 0;
  if (pa[4] === undefined) return 1;
  if (pb[4] === undefined) return -1;
  return pa[4] < pb[4] ? -1 : 1;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const relPath = z
  .string()
  .min(1)
  .max(400)
  .refine((p) => isSafeRelativePath(p), 'unsafe path');

/** This machine as a manifest names platforms: `${process.platform}-${process.arch}`. */
export function hostPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/** What a release bundle's manifest.json holds: everything the signature vouches for. */
export const manifestSchema = z.object({
  format: z.literal('officine-release/1'),
  name: z.literal('officine-appliance'),
  version: z.string().regex(VERSION_RE),
  min_from_version: z.string().regex(VERSION_RE),
  created_at: z.iso.datetime({ offset: true }),
  expires_at: z.iso.datetime({ offset: true }),
  /** The Node version shipped as runtime/bin/node (absent from bundles without a runtime). */
  node_version: z
    .string()
    .regex(/^v\d+\.\d+\.\d+$/)
    .optional(),
  /**
   * `platform-arch` of the machine that built the bundle (`linux-x64`): its Node runtime
   * and native modules (argon2) run there only. Absent from bundles built before it was
   * recorded; the verifier refuses a bundle recorded for another platform (hostPlatform).
   */
  platform: z
    .string()
    .regex(/^[a-z0-9]+-[a-z0-9_]+$/)
    .optional(),
  files: z
    .array(z.object({ path: relPath, size: z.number().int().min(0), sha256: sha256Hex, mode: z.union([z.literal(0o644), z.literal(0o755)]) }))
    .min(1),
}).refine(
  // a manifest naming a runtime ships it, executable (provisioning/officine-node runs it)
  (m) => m.node_version === undefined || m.files.some((f) => f.path === RUNTIME_NODE_PATH && f.mode === 0o755),
  `node_version without an executable ${RUNTIME_NODE_PATH}`,
);
export type ReleaseManifest = z.infer<typeof manifestSchema>;

/** The detached signature stored beside the manifest (manifest.sig). */
export const signatureSchema = z.object({
  alg: z.literal('ed25519'),
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.string().min(1),
});
export type DetachedSignature = z.infer<typeof signatureSchema>;

/** A list of release public keys, as pinned on the appliance or as shipped to replace it. */
export const keyListSchema = z.object({
  format: z.literal('officine-release-keys/1'),
  serial: z.number().int().min(1),
  issued_at: z.iso.datetime({ offset: true }),
  keys: z.array(z.object({ id: z.string().regex(/^[0-9a-f]{16}$/), public_key: z.string().min(1), comment: z.string().max(200).optional() })).min(1),
});
export type ReleaseKeyList = z.infer<typeof keyListSchema>;

/**
 * Relative, normalised, inside the tree: no absolute path, no `..`, no `.` or empty
 * segment, no backslash or NUL. Used on every archive entry before anything is written.
 */
export function isSafeRelativePath(p: string): boolean {
  if (p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** SHA-256 of a buffer, hex. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
