import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** What a target says about itself before an upload (reported, and alerted on when weak). */
export interface TargetReport {
  target: string;
  ok: boolean;
  details: Record<string, string | boolean | number>;
  warnings: string[];
}

/**
 * Where sealed backups go (object storage, the NAS) or come from (a file for a
 * restore by hand). Keys are relative paths with '/' separators; writes are
 * all-or-nothing from a reader's point of view (temporary name, then rename, or a
 * multipart upload that only appears when complete).
 */
export interface BackupTarget {
  readonly name: string;
  /** Reachability and settings (encryption at rest, versioning, mount point, host key). */
  check(): Promise<TargetReport>;
  /** Streams `body` to `key`; `sizeHint` is an upper estimate used to size multipart parts. */
  put(key: string, body: Readable, opts?: { sizeHint?: number }): Promise<void>;
  putBuffer(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Readable>;
  getBuffer(key: string): Promise<Buffer>;
  /** Size of an object, or null when absent. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Names directly under `dir` (files and sub-directories, without the prefix). */
  list(dir: string): Promise<string[]>;
  /** Deletes one object, or everything under `dir/` when `recursive`. */
  delete(key: string, opts?: { recursive?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads an object back and checks its size and sha256: an upload counts only once
 * what the target returns is byte for byte what was sent.
 */
export async function verifyStored(target: BackupTarget, key: string, expected: { size: number; sha256: string }): Promise<{ ok: boolean; reason?: string }> {
  const st = await target.stat(key);
  if (!st) return { ok: false, reason: 'missing' };
  if (st.size !== expected.size) return { ok: false, reason: `size ${st.size} != ${expected.size}` };
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await target.get(key)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const sha = hash.digest('hex');
  if (size !== expected.size) return { ok: false, reason: `read ${size} bytes, expected ${expected.size}` };
  if (sha !== expected.sha256) return { ok: false, reason: `sha256 ${sha} != ${expected.sha256}` };
  return { ok: true };
}

/** Collects a stream into a buffer (for small objects: manifests, reports). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
