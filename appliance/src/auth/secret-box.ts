import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretStore } from '../config/secrets.js';

/** Name of the data key in the secrets directory (AES-256-GCM; TOTP seeds, connector credentials). */
export const DATA_KEY_SECRET = 'data-key';

/**
 * Encrypts small secrets stored in the database (TOTP seeds) with the data key:
 * AES-256-GCM, random 96-bit nonce, the column name as associated data so a value
 * cannot be moved to another column. Format: `v1.<nonce>.<ciphertext>.<tag>` (base64url).
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('data key must be 256 bits');
  }

  /** The box keyed with the appliance data key (generated on first use, 0600). */
  static fromSecrets(secrets: SecretStore): SecretBox {
    return new SecretBox(Buffer.from(secrets.get(DATA_KEY_SECRET, { generate: 32 }).toString('utf8').trim(), 'base64'));
  }

  seal(plaintext: string, aad: string): string {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return ['v1', nonce, ct, c.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string, aad: string): string {
    const [v, nonce, ct, tag] = sealed.split('.');
    if (v !== 'v1' || !nonce || ct === undefined || !tag) throw new Error('unknown sealed format');
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
  }
}
