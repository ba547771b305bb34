import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AppError } from '../http/errors.js';

/**
 * Reads a secret file, refusing it unless only its owner can read it (mode 0600 or
 * stricter): a secret readable by other users is a leaked secret.
 */
export function readSecretFile(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new AppError(500, 'secret_missing', `Fichier secret introuvable : ${path}`, `secret file not found: ${path}`);
  }
  if (!st.isFile()) {
    throw new AppError(500, 'secret_not_file', `Le secret ${path} n'est pas un fichier.`, `secret ${path} is not a regular file`);
  }
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AppError(
      500,
      'secret_mode',
      `Le fichier secret ${path} a les droits ${mode.toString(8).padStart(4, '0')} : exigez 0600 (chmod 600 ${path}).`,
      `secret file ${path} has mode ${mode.toString(8).padStart(4, '0')}; it must be 0600 (chmod 600 ${path})`,
    );
  }
  return readFileSync(path);
}

/** Writes a secret with mode 0600 from the first byte (umask-independent). */
export function writeSecretFile(path: string, data: Buffer | string): void {
  writeFileSync(path, data, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

/**
 * Secrets the appliance needs, resolved from its secrets directory. In production
 * provisioning/install.sh generates them; in the demo and tests they are created on
 * first use so `npm start` works on a fresh clone.
 */
export class SecretStore {
  constructor(readonly dir: string) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Reads a secret, or generates `bytes` random bytes into it when `generate` is set and it is absent. */
  get(name: string, opts: { generate?: number } = {}): Buffer {
    const p = this.path(name);
    if (!existsSync(p) && opts.generate) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeSecretFile(p, randomBytes(opts.generate).toString('base64') + '\n');
    }
    return readSecretFile(p);
  }
}
