import { gunzipSync, gzipSync } from 'node:zlib';
import { deriveEpochKey, Direction, MAX_COUNTER, nonceFor, open, seal } from './channel-crypto.js';

/**
 * The wire envelope of the agent channel, defined once for both ends:
 *
 *   "OFA1" | u16 header length (BE) | header (UTF-8 JSON) | AES-256-GCM ciphertext+tag
 *
 * The header (agent id, epoch, counter, timestamp, direction, and for responses the
 * request counter it answers) is in clear so the server can find the key and refuse
 * early, and it is bound to the ciphertext as GCM additional data: changing a single
 * header byte fails authentication. The plaintext is gzip-compressed JSON
 * (compressed, then sealed).
 */
export const MAGIC = Buffer.from('OFA1', 'ascii');
export const PROTOCOL_VERSION = 1;
/** Content type of envelopes on HTTP, both ways. */
export const ENVELOPE_CONTENT_TYPE = 'application/vnd.officine.agent-envelope';
const MAX_HEADER_BYTES = 1024;

/** Clear, authenticated header of an envelope. */
export interface EnvelopeHeader {
  v: number;
  dir: Direction;
  agentId: string;
  epoch: number;
  counter: number;
  /** Sender's clock, milliseconds since the epoch (UTC). */
  ts: number;
  /** On server→agent envelopes: the request counter answered (binds answer to question). */
  re?: number;
}

/** A parsed (not yet opened) envelope. */
export interface ParsedEnvelope {
  header: EnvelopeHeader;
  aad: Buffer;
  sealed: Buffer;
}

/** Why an envelope could not even be parsed (never reveals key material). */
export class EnvelopeFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeFormatError';
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkHeader(h: unknown): EnvelopeHeader {
  const o = h as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new EnvelopeFormatError('header is not an object');
  if (o.v !== PROTOCOL_VERSION) throw new EnvelopeFormatError('unsupported protocol version');
  if (o.dir !== Direction.AgentToServer && o.dir !== Direction.ServerToAgent) throw new EnvelopeFormatError('bad direction');
  if (typeof o.agentId !== 'string' || !UUID_RE.test(o.agentId)) throw new EnvelopeFormatError('bad agent id');
  for (const k of ['epoch', 'counter', 'ts'] as const) {
    const n = o[k];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_COUNTER) throw new EnvelopeFormatError(`bad ${k}`);
  }
  if (o.re !== undefined && (typeof o.re !== 'number' || !Number.isSafeInteger(o.re) || o.re < 1)) throw new EnvelopeFormatError('bad re');
  const allowed = new Set(['v', 'dir', 'agentId', 'epoch', 'counter', 'ts', 're']);
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw new EnvelopeFormatError(`unexpected header field ${k}`);
  return o as unknown as EnvelopeHeader;
}

/** Splits raw bytes into header, AAD and sealed body, validating the header's shape. */
export function parseEnvelope(buf: Buffer): ParsedEnvelope {
  if (buf.length < MAGIC.length + 2 || !buf.subarray(0, 4).equals(MAGIC)) throw new EnvelopeFormatError('not an agent envelope');
  const len = buf.readUInt16BE(4);
  if (len === 0 || len > MAX_HEADER_BYTES || buf.length < 6 + len + 16) throw new EnvelopeFormatError('bad header length');
  const aad = buf.subarray(0, 6 + len);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(6, 6 + len).toString('utf8'));
  } catch {
    throw new EnvelopeFormatError('header is not JSON');
  }
  return { header: checkHeader(header), aad, sealed: buf.subarray(6 + len) };
}

/** Builds the AAD prefix (magic, length, header bytes) for a header. */
function headerBytes(header: EnvelopeHeader): Buffer {
  const json = Buffer.from(JSON.stringify(checkHeader(header)), 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(json.length);
  return Buffer.concat([MAGIC, len, json]);
}

/** Compresses then seals a payload under `key` (the epoch key of header.epoch). */
export function sealEnvelope(key: Buffer, header: EnvelopeHeader, payload: unknown): Buffer {
  return sealCompressed(key, header, gzipSync(Buffer.from(JSON.stringify(payload), 'utf8'), { level: 6 }));
}

/** Seals an already gzip-compressed payload (what the agent keeps in its spool). */
export function sealCompressed(key: Buffer, header: EnvelopeHeader, compressed: Buffer): Buffer {
  const aad = headerBytes(header);
  return Buffer.concat([aad, seal(key, nonceFor(header.dir, header.counter), aad, compressed)]);
}

/** Authenticates and decrypts an envelope; returns the decompressed plaintext bytes. */
export function openEnvelope(key: Buffer, env: ParsedEnvelope, maxPlainBytes = 256 * 1024 * 1024): Buffer {
  const compressed = open(key, nonceFor(env.header.dir, env.header.counter), env.aad, env.sealed);
  return gunzipSync(compressed, { maxOutputLength: maxPlainBytes });
}

/**
 * Per-agent key cache: derives each epoch's key once from the ECDH secret. Both
 * ends hold one of these per agent.
 */
export class EpochKeys {
  private readonly cache = new Map<number, Buffer>();
  constructor(
    private readonly secret: Buffer,
    readonly agentId: string,
  ) {}

  key(epoch: number): Buffer {
    let k = this.cache.get(epoch);
    if (!k) {
      k = deriveEpochKey(this.secret, this.agentId, epoch);
      if (this.cache.size > 8) this.cache.clear();
      this.cache.set(epoch, k);
    }
    return k;
  }
}
