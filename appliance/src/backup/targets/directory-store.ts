import { createReadStream, createWriteStream, existsSync, realpathSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupError, describeError } from '../backup.errors.js';
import { readAll, type BackupTarget, type TargetReport } from './backup-target.js';

/** True when `path` is itself a mount point (listed in /proc/self/mountinfo). */
export function isMountPoint(path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map(unescape);
  return mounts.includes(real);
}

/**
 * A backup target on a directory: the NAS through a mount point (`requireMount`,
 * checked before every write so an unmounted NAS never silently fills the local
 * disk), or a folder given to `restore --from` / the drill. Writes go to a temporary
 * name, are fsynced, then renamed.
 */
export class DirectoryStore implements BackupTarget {
  constructor(
    readonly name: string,
    private readonly root: string,
    private readonly opts: { requireMount: boolean; readOnly?: boolean },
  ) {}

  private path(key: string): string {
    const p = resolve(this.root, key);
    if (p !== resolve(this.root) && !p.startsWith(resolve(this.root) + sep)) {
      throw new BackupError('target_bad_key', `Chemin invalide : ${key}`);
    }
    return p;
  }

  private assertUsable(): void {
    if (!existsSync(this.root)) {
      throw new BackupError('target_unavailable', `${this.name} : ${this.root} est introuvable.`);
    }
    if (this.opts.requireMount && !isMountPoint(this.root)) {
      throw new BackupError(
        'target_not_mounted',
        `${this.name} : ${this.root} n'est pas un point de montage (NAS non monté ?). Rien n'est écrit sur le disque local.`,
      );
    }
  }

  async check(): Promise<TargetReport> {
    try {
      this.assertUsable();
      return { target: this.name, ok: true, details: { path: this.root, mountPoint: this.opts.requireMount }, warnings: [] };
    } catch (err) {
      return { target: this.name, ok: false, details: { path: this.root, error: describeError(err) }, warnings: [] };
    }
  }

  async put(key: string, body: Readable): Promise<void> {
    if (this.opts.readOnly) throw new BackupError('target_read_only', `${this.name} est en lecture seule.`);
    this.assertUsable();
    const final = this.path(key);
    await mkdir(dirname(final), { recursive: true });
    const tmp = `${final}.partial`;
    try {
      await pipeline(body, createWriteStream(tmp, { flags: 'w', mode: 0o640 }));
      const fh = await open(tmp, 'r');
      await fh.sync();
      await fh.close();
      await rename(tmp, final);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async putBuffer(key: string, data: Buffer): Promise<void> {
    const { Readable } = await import('node:stream');
    await this.put(key, Readable.from([data]));
  }

  async get(key: string): Promise<Readable> {
    this.assertUsable();
    const p = this.path(key);
    await stat(p);
    return createReadStream(p, { highWaterMark: 1 << 20 }); // 1 MiB reads: hashing a large backup is I/O-bound, not call-bound
  }

  async getBuffer(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    this.assertUsable();
    try {
      const st = await stat(this.path(key));
      return st.isFile() ? { size: st.size } : null;
    } catch {
      return null;
    }
  }

  async list(dir: string): Promise<string[]> {
    this.assertUsable();
    try {
      return (await readdir(this.path(dir))).filter((n) => !n.endsWith('.partial')).sort();
    } catch {
      return [];
    }
  }

  async delete(key: string, opts: { recursive?: boolean } = {}): Promise<void> {
    if (this.opts.readOnly) throw new BackupError('target_read_only', `${this.name} est en lecture seule.`);
    this.assertUsable();
    await rm(this.path(key), { recursive: !!opts.recursive, force: true });
  }

  async close(): Promise<void> {}

  /** Absolute path of a key, for tools that read files directly (age). */
  filePath(key: string): string {
    return this.path(key);
  }
}

