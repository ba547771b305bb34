import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { SecretStore } from '../config/secrets.js';
import { readSecretFile, writeSecretFile } from '../config/secrets.js';
import { BackupError } from './backup.errors.js';

/** Name of the appliance's manifest-signing key in the secrets dir. */
export const BACKUP_SIGNING_KEY = 'backup-signing-key.pem';

/** Name of the drill host's report-signing key in its secrets dir. */
export const DRILL_SIGNING_KEY = 'drill-signing-key.pem';

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** `ed25519:BASE64` of a public key: the form pinned in config and written in manifests. */
export function publicKeyId(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return 'ed25519:' + der.subarray(der.length - 32).toString('base64');
}

/** Parses a pinned `ed25519:BASE64` public key. */
export function parsePublicKeyId(id: string): KeyObject {
  const raw = Buffer.from(id.replace(/^ed25519:/, ''), 'base64');
  if (!id.startsWith('ed25519:') || raw.length !== 32) {
    throw new BackupError('backup_bad_public_key', `Clé publique Ed25519 invalide : ${id}`);
  }
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * An Ed25519 key that signs manifests (on the appliance) or drill reports (on the
 * drill host). Kept as a 0600 PEM file in the secrets dir, generated on first use.
 */
export class SigningKey {
  private constructor(private readonly key: KeyObject) {}

  static loadOrCreate(secrets: SecretStore, name = BACKUP_SIGNING_KEY): SigningKey {
    const path = secrets.path(name);
    if (!existsSync(path)) {
      mkdirSync(secrets.dir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('ed25519');
      writeSecretFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    }
    return new SigningKey(createPrivateKey(readSecretFile(path)));
  }

  /** The public half, as `ed25519:BASE64`. */
  get publicId(): string {
    return publicKeyId(createPublicKey(this.key));
  }

  sign(data: Buffer): string {
    return sign(null, data, this.key).toString('base64');
  }
}

/** True when `signature` (base64) is a valid Ed25519 signature of `data` by `publicId`. */
export function verifySignature(publicId: string, data: Buffer, signature: string): boolean {
  try {
    return verify(null, data, parsePublicKeyId(publicId), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Keys whose manifests a restore trusts: the pinned BACKUP_SIGNER_PUBLIC_KEY (drill
 * host, new server), else this appliance's own signing key.
 */
export function trustedManifestSigners(pinned: string | undefined, secrets: SecretStore): string[] {
  if (pinned) return [pinned];
  if (existsSync(secrets.path(BACKUP_SIGNING_KEY))) return [SigningKey.loadOrCreate(secrets).publicId];
  throw new BackupError(
    'restore_no_trusted_signer',
    'Aucune clé de signature de confiance : renseignez BACKUP_SIGNER_PUBLIC_KEY (clé publique de l’appliance, `appliance backup key`).',
  );
}
