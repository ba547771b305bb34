import { canonicalJson } from '../audit/canonical-json.js';
import { BackupError } from './backup.errors.js';
import { verifySignature, type SigningKey } from './signing-key.js';

/** A JSON payload with a detached Ed25519 signature over its canonical form. */
export interface SignedDocument<T> {
  payload: T;
  signer: string;
  signature: string;
}


/** Signs a payload; the result is what is written next to the artefacts. */
export function signDocument<T>(payload: T, key: SigningKey): SignedDocument<T> {
  return { payload, signer: key.publicId, signature: key.sign(Buffer.from(canonicalJson(payload))) };
}

/**
 * Parses and verifies a signed document against the pinned signer keys. Refuses an
 * unknown signer or a bad signature before anything reads the payload.
 */
export function verifyDocument<T>(raw: Buffer | string, trusted: string[], what: string): T {
  let doc: SignedDocument<T>;
  try {
    doc = JSON.parse(raw.toString()) as SignedDocument<T>;
  } catch {
    throw new BackupError('signature_unreadable', `${what} illisible (JSON invalide).`);
  }
  if (!doc || typeof doc !== 'object' || typeof doc.signature !== 'string' || typeof doc.signer !== 'string' || doc.payload === undefined) {
    throw new BackupError('signature_missing', `${what} non signé : refusé.`);
  }
  if (!trusted.includes(doc.signer)) {
    throw new BackupError('signature_untrusted', `${what} signé par une clé inconnue (${doc.signer}) : refusé.`);
  }
  if (!verifySignature(doc.signer, Buffer.from(canonicalJson(doc.payload)), doc.signature)) {
    throw new BackupError('signature_invalid', `Signature de ${what} invalide : refusé.`);
  }
  return doc.payload;
}
