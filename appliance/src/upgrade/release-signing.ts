import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { keyListSchema, sha256, signatureSchema, type DetachedSignature, type ReleaseKeyList } from './release-manifest.js';

/** Raw 32-byte Ed25519 public key from a KeyObject (what key lists carry, base64). */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** Short, stable id of a public key: first 16 hex chars of SHA-256 over its raw bytes. */
export function keyId(publicKey: KeyObject): string {
  return sha256(rawPublicKey(publicKey)).slice(0, 16);
}

/** Rebuilds a public KeyObject from its base64 raw form in a key list. */
export function publicKeyFromRaw(b64: string): KeyObject {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32) throw new Error('Ed25519 public key must be 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** A fresh release signing key pair (the vendor keeps the private PEM offline). */
export function generateReleaseKey(): { privatePem: string; publicKey: KeyObject; id: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey, id: keyId(publicKey) };
}

/** Signs bytes (a manifest or a key list) with a private PEM; returns the detached signature. */
export function signDetached(data: Buffer, privatePem: string): DetachedSignature {
  const priv = createPrivateKey(privatePem);
  return { alg: 'ed25519', key_id: keyId(createPublicKey(priv)), signature: sign(null, data, priv).toString('base64') };
}

/** Why a signature was not accepted: no such pinned key, or the bytes do not match it. */
export type SignatureCheck = { ok: true; keyId: string } | { ok: false; reason: 'unknown_key' | 'bad_signature' | 'malformed' };

/** Checks a detached signature against the pinned keys only. */
export function verifyDetached(data: Buffer, sigJson: Buffer | string, pinned: ReleaseKeyList): SignatureCheck {
  let sig: DetachedSignature;
  try {
    sig = signatureSchema.parse(JSON.parse(sigJson.toString()));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const key = pinned.keys.find((k) => k.id === sig.key_id);
  if (!key) return { ok: false, reason: 'unknown_key' };
  const pub = publicKeyFromRaw(key.public_key);
  if (keyId(pub) !== key.id) return { ok: false, reason: 'unknown_key' };
  return verify(null, data, pub, Buffer.from(sig.signature, 'base64')) ? { ok: true, keyId: key.id } : { ok: false, reason: 'bad_signature' };
}

/** Builds a key list document for the given public keys. */
export function buildKeyList(keys: KeyObject[], serial: number, issuedAt = new Date()): ReleaseKeyList {
  return {
    format: 'officine-release-keys/1',
    serial,
    issued_at: issuedAt.toISOString(),
    keys: keys.map((k) => ({ id: keyId(k), public_key: rawPublicKey(k).toString('base64') })),
  };
}

/** Parses a key list file (pinned or proposed). */
export function parseKeyList(text: Buffer | string): ReleaseKeyList {
  return keyListSchema.parse(JSON.parse(text.toString()));
}

/**
 * Decides whether a proposed key list may replace the pinned one: it must be signed by a
 * key pinned NOW (so a stolen bundle server cannot introduce its own key) and carry a
 * higher serial (so an old list cannot be replayed to resurrect a retired key).
 */
export function acceptKeyList(
  current: ReleaseKeyList,
  proposedText: Buffer,
  signatureText: Buffer,
): { ok: true; list: ReleaseKeyList } | { ok: false; reason: 'unknown_key' | 'bad_signature' | 'malformed' | 'not_newer' } {
  const check = verifyDetached(proposedText, signatureText, current);
  if (!check.ok) return check;
  let list: ReleaseKeyList;
  try {
    list = parseKeyList(proposedText);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (list.serial <= current.serial) return { ok: false, reason: 'not_newer' };
  return { ok: true, list };
}
