import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';

/**
 * Channel cryptography shared by the agent and the appliance: X25519 key pairs,
 * ECDH, HKDF-SHA256 per key epoch, AES-256-GCM with counter-derived nonces.
 * One implementation, two ends — so both sides can never disagree on a byte.
 */

/** Protocol label mixed into every derivation, so keys never cross protocols or versions. */
export const PROTOCOL_LABEL = 'officine-agent-channel/v1';

/** Nonce prefixes: each direction has its own nonce space under the same key. */
export const Direction = { AgentToServer: 1, ServerToAgent: 2 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

/** Largest counter a nonce can carry (JS numbers stay exact up to 2^53). */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/** An X25519 key pair with the public half as 32 raw bytes (what travels on the wire). */
export interface X25519KeyPair {
  privateKey: KeyObject;
  publicKeyRaw: Buffer;
}

/** Generates a fresh X25519 key pair. */
export function generateX25519(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKeyRaw: rawPublicKey(publicKey) };
}

/** The 32 raw bytes of an X25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.x) throw new Error('not an X25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** Imports 32 raw bytes as an X25519 public key; refuses anything else. */
export function importX25519Public(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error('X25519 public key must be 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** Serialises a private key as PKCS#8 PEM (what we keep in 0600 files). */
export function exportPrivatePem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Loads a PKCS#8 PEM X25519 private key and its raw public half. */
export function importPrivatePem(pem: string | Buffer): X25519KeyPair {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'x25519') throw new Error('private key is not X25519');
  return { privateKey, publicKeyRaw: rawPublicKey(createPublicKey(privateKey)) };
}

/**
 * ECDH between our private key and the peer's raw public key. Refuses an all-zero
 * result (a low-order peer point), which would make every derived key predictable.
 */
export function sharedSecret(ours: KeyObject, peerRaw: Buffer): Buffer {
  const secret = diffieHellman({ privateKey: ours, publicKey: importX25519Public(peerRaw) });
  if (timingSafeEqual(secret, Buffer.alloc(secret.length))) throw new Error('degenerate X25519 shared secret');
  return secret;
}

/**
 * The AES-256-GCM key of one epoch: HKDF-SHA256 over the ECDH secret, salted with
 * the agent id, with the epoch number in the info. A new epoch gives an unrelated key.
 */
export function deriveEpochKey(secret: Buffer, agentId: string, epoch: number): Buffer {
  if (!Number.isInteger(epoch) || epoch < 1) throw new Error('epoch must be a positive integer');
  const info = Buffer.from(`${PROTOCOL_LABEL}|epoch|${epoch}`, 'utf8');
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(agentId, 'utf8'), info, 32));
}

/**
 * The 96-bit GCM nonce for (direction, counter): 4 bytes of direction, 8 bytes of
 * counter, big-endian. Counters strictly increase per direction, so a nonce is
 * never reused under one key.
 */
export function nonceFor(direction: Direction, counter: number): Buffer {
  if (!Number.isSafeInteger(counter) || counter < 1) throw new Error('counter must be a positive safe integer');
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(direction, 0);
  nonce.writeBigUInt64BE(BigInt(counter), 4);
  return nonce;
}

const TAG_BYTES = 16;

/** Encrypts with AES-256-GCM; returns ciphertext followed by the 16-byte tag. */
export function seal(key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([body, c.getAuthTag()]);
}

/** Decrypts and authenticates; throws on any alteration of ciphertext, tag or AAD. */
export function open(key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < TAG_BYTES) throw new Error('ciphertext too short');
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
}
