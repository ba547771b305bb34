import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** sha256 of bytes, lower-case hex. */
export function sha256Hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Content-addressed file store of the invoice archive: a file lives at
 * `<root>/<pharmacy>/<sha[0:2]>/<sha>`, written once (temp file + rename, 0400).
 * What a file's name says is what its bytes must hash to, so tampering shows.
 */
export class ArchiveStore {
  constructor(readonly root: string) {}

  pathOf(pharmacyId: string, sha: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha) || !/^[0-9a-f-]{36}$/.test(pharmacyId)) throw new Error('bad archive key');
    return join(this.root, pharmacyId, sha.slice(0, 2), sha);
  }

  /** Stores bytes under their sha256 (no-op when already there); returns the sha. */
  put(pharmacyId: string, bytes: Buffer): string {
    const sha = sha256Hex(bytes);
    const p = this.pathOf(pharmacyId, sha);
    if (existsSync(p)) return sha;
    mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
    const tmp = `${p}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o400 });
    renameSync(tmp, p);
    return sha;
  }

  /** The bytes stored under a sha, or undefined when the file is gone. */
  get(pharmacyId: string, sha: string): Buffer | undefined {
    const p = this.pathOf(pharmacyId, sha);
    return existsSync(p) ? readFileSync(p) : undefined;
  }

  remove(pharmacyId: string, sha: string): void {
    rmSync(this.pathOf(pharmacyId, sha), { force: true });
  }
}
