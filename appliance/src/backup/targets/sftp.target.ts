import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import SftpClient from 'ssh2-sftp-client';
import { BackupError, describeError } from '../backup.errors.js';
import { readAll, type BackupTarget, type TargetReport } from './backup-target.js';

/** How to reach the NAS over SFTP; the host key is pinned, never learnt. */
export interface SftpSettings {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  root: string;
  readyTimeoutMs?: number;
}

/** `SHA256:base64-without-padding` of a raw SSH public key blob (OpenSSH's format). */
export function sshFingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/**
 * The groupement's NAS over SFTP. The connection is refused unless the server
 * presents exactly the pinned host key, so a swapped or spoofed NAS never receives
 * a backup. Uploads go to a `.partial` name and are renamed once complete.
 */
export class SftpTarget implements BackupTarget {
  readonly name = 'nas';
  private client: SftpClient | undefined;
  private presentedKey: string | undefined;

  constructor(private readonly s: SftpSettings) {}

  private async sftp(): Promise<SftpClient> {
    if (this.client) return this.client;
    const client = new SftpClient('officine-backup');
    try {
      await client.connect({
        host: this.s.host,
        port: this.s.port,
        username: this.s.username,
        privateKey: this.s.privateKey,
        readyTimeout: this.s.readyTimeoutMs ?? 15000,
        retries: 0,
        hostVerifier: (key: Buffer) => {
          this.presentedKey = sshFingerprint(key);
          return this.presentedKey === this.s.hostKeyFingerprint;
        },
      } as SftpClient.ConnectOptions);
    } catch (err) {
      if (this.presentedKey && this.presentedKey !== this.s.hostKeyFingerprint) {
        throw new BackupError(
          'sftp_host_key_mismatch',
          `NAS ${this.s.host}:${this.s.port} : clé d'hôte inattendue (${this.presentedKey}, attendue ${this.s.hostKeyFingerprint}). Connexion refusée.`,
        );
      }
      throw new BackupError('target_unavailable', `NAS ${this.s.host}:${this.s.port} injoignable par SFTP.`, (err as Error).message);
    }
    this.client = client;
    return client;
  }

  private path(key: string): string {
    const p = posix.normalize(posix.join(this.s.root, key));
    if (p !== this.s.root && !p.startsWith(posix.normalize(this.s.root) + '/')) throw new BackupError('target_bad_key', `Chemin invalide : ${key}`);
    return p;
  }

  async check(): Promise<TargetReport> {
    try {
      const c = await this.sftp();
      if (!(await c.exists(this.s.root))) await c.mkdir(this.s.root, true);
      return { target: this.name, ok: true, details: { host: this.s.host, port: this.s.port, hostKey: this.s.hostKeyFingerprint, path: this.s.root }, warnings: [] };
    } catch (err) {
      return { target: this.name, ok: false, details: { host: this.s.host, error: describeError(err), code: (err as BackupError).code ?? 'error' }, warnings: [] };
    }
  }

  async put(key: string, body: Readable): Promise<void> {
    const c = await this.sftp();
    const final = this.path(key);
    const tmp = `${final}.partial`;
    await c.mkdir(posix.dirname(final), true);
    try {
      await c.put(body, tmp);
      if (await c.exists(final)) await c.delete(final);
      await c.rename(tmp, final);
    } catch (err) {
      await c.delete(tmp, true).catch(() => undefined);
      throw err;
    }
  }

  async putBuffer(key: string, data: Buffer): Promise<void> {
    const { Readable } = await import('node:stream');
    await this.put(key, Readable.from([data]));
  }

  async get(key: string): Promise<Readable> {
    const c = await this.sftp();
    return c.createReadStream(this.path(key)) as unknown as Readable;
  }

  async getBuffer(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const c = await this.sftp();
    const p = this.path(key);
    if ((await c.exists(p)) !== '-') return null;
    return { size: (await c.stat(p)).size };
  }

  async list(dir: string): Promise<string[]> {
    const c = await this.sftp();
    const p = this.path(dir);
    if ((await c.exists(p)) !== 'd') return [];
    return (await c.list(p)).map((e) => e.name).filter((n) => !n.endsWith('.partial')).sort();
  }

  async delete(key: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const c = await this.sftp();
    const p = this.path(key);
    const kind = await c.exists(p);
    if (kind === 'd' && opts.recursive) await c.rmdir(p, true);
    else if (kind === '-') await c.delete(p);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
