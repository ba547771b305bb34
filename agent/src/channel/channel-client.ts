import { gzipSync } from 'node:zlib';
import { Direction, sharedSecret } from '../protocol/channel-crypto.js';
import { ENVELOPE_CONTENT_TYPE, EpochKeys, openEnvelope, parseEnvelope, sealCompressed, type EnvelopeHeader } from '../protocol/envelope.js';
import { AGENT_API, serverMessageSchema, type ServerMessage } from '../protocol/messages.js';
import type { AgentConfig, AgentState, AgentStore } from '../store/agent-store.js';
import { httpPost, parseRetryAfter, type HttpAnswer } from './http-post.js';

/** The server refused the message with a channel code (agent_revoked, counter_below_hwm, …). */
export class ChannelRefusal extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly details: Record<string, unknown> | undefined,
  ) {
    super(`refused by server: ${code} (HTTP ${status})`);
    this.name = 'ChannelRefusal';
  }
}

/**
 * The server could not be reached or answered 5xx/429 (including 503 read-only): retry
 * later — after `retryAfterMs` when the server said how long (Retry-After).
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Counters reserved per durable state write. */
const COUNTER_BLOCK = 1000;

/** True for URLs the agent may speak to: https, or http on loopback (tests, demo). */
export function serverUrlAllowed(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

/**
 * The agent's end of the channel: seals a compressed payload with the next counter
 * (reserved durably before sending, so a crash can never reuse a nonce), posts it,
 * and opens the sealed answer — checking it answers this very request and carries
 * a server counter above any seen. Epoch changes are only accepted from sealed
 * answers.
 */
export class ChannelClient {
  private readonly keys: EpochKeys;
  /** Last counter used; `state.counter` on disk is a ceiling reserved ahead (see sendOnce). */
  private counter: number;

  constructor(
    private readonly store: AgentStore,
    private readonly config: AgentConfig,
    private readonly state: AgentState,
    private readonly now: () => number = Date.now,
  ) {
    if (!config.agentId || !config.serverPublicKey || !config.server) throw new Error('agent not enrolled');
    const secret = sharedSecret(store.readKey().privateKey, Buffer.from(config.serverPublicKey, 'base64url'));
    this.keys = new EpochKeys(secret, config.agentId);
    // Every counter up to the persisted ceiling may have been used before a crash: start above it.
    this.counter = state.counter;
  }

  /** Sends a JSON payload (compressing it) and returns the server's authenticated answer. */
  sendPayload(payload: unknown): Promise<ServerMessage> {
    return this.send(gzipSync(Buffer.from(JSON.stringify(payload), 'utf8')));
  }

  /** Sends an already-compressed payload (a spool entry). */
  async send(compressed: Buffer): Promise<ServerMessage> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendOnce(compressed);
      } catch (err) {
        if (!(err instanceof ChannelRefusal) || attempt >= 2) throw err;
        if (!this.recover(err)) throw err;
      }
    }
  }

  /** Fixes what the agent can fix by itself: a counter behind the server, a rotated epoch. */
  private recover(err: ChannelRefusal): boolean {
    if (err.code === 'counter_below_hwm' || err.code === 'replay') {
      const hwm = Number(err.details?.highWaterMark ?? 0);
      if (Number.isSafeInteger(hwm) && hwm > this.counter) this.counter = hwm;
      return true;
    }
    if (err.code === 'epoch_stale' && typeof err.details?.notice === 'string') {
      const msg = this.openAnswer(Buffer.from(err.details.notice, 'base64'), undefined);
      if (msg.type !== 'epoch' || msg.epoch <= this.state.epoch) return false;
      this.state.epoch = msg.epoch;
      this.store.writeState(this.state);
      return true;
    }
    return false;
  }

  private async sendOnce(compressed: Buffer): Promise<ServerMessage> {
    // Counters are reserved on disk in blocks before any of them can reach the wire, so a
    // crash can never lead to a counter (hence a GCM nonce) being used twice.
    if (this.counter + 1 > this.state.counter) {
      this.state.counter = this.counter + COUNTER_BLOCK;
      this.store.writeState(this.state);
    }
    this.counter += 1;
    const header: EnvelopeHeader = {
      v: 1,
      dir: Direction.AgentToServer,
      agentId: this.config.agentId!,
      epoch: this.state.epoch,
      counter: this.counter,
      ts: this.now(),
    };
    const body = sealCompressed(this.keys.key(header.epoch), header, compressed);
    let res: HttpAnswer;
    try {
      res = await httpPost(new URL(AGENT_API.messages, this.config.server), body, ENVELOPE_CONTENT_TYPE, 120_000);
    } catch (err) {
      throw new TransportError(`serveur injoignable : ${(err as Error).message}`);
    }
    const buf = res.body;
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      const retryAfterMs = parseRetryAfter(String(res.headers['retry-after'] ?? ''), this.now());
      // The kill switch (X-Officine-Read-Only) is no fault: say plainly that the agent waits.
      const message = res.headers['x-officine-read-only'] === '1'
        ? `appliance en lecture seule (HTTP ${res.status}) : les lots restent dans la file d’attente, reprise automatique`
        : `serveur indisponible (HTTP ${res.status})`;
      throw new TransportError(message, res.status, retryAfterMs);
    }
    if (res.status !== 200) {
      let err: { code?: string; details?: Record<string, unknown> } = {};
      try {
        err = (JSON.parse(buf.toString('utf8')) as { error?: typeof err }).error ?? {};
      } catch {
        /* not JSON */
      }
      throw new ChannelRefusal(err.code ?? `http_${res.status}`, res.status, err.details);
    }
    const msg = this.openAnswer(buf, header.counter);
    if (msg.type === 'ack' && msg.epoch > this.state.epoch) {
      this.state.epoch = msg.epoch;
      this.store.writeState(this.state);
    }
    return msg;
  }

  /** Opens a sealed server answer; `re` is the request counter it must answer (if any). */
  private openAnswer(buf: Buffer, re: number | undefined): ServerMessage {
    const env = parseEnvelope(buf);
    const h = env.header;
    if (h.dir !== Direction.ServerToAgent || h.agentId !== this.config.agentId) throw new TransportError('réponse du serveur invalide (en-tête)');
    if (re !== undefined && h.re !== re) throw new TransportError('réponse du serveur invalide (ne répond pas à cette requête)');
    if (h.counter <= this.state.serverCounter) throw new TransportError('réponse du serveur rejouée');
    let plain: Buffer;
    try {
      plain = openEnvelope(this.keys.key(h.epoch), env);
    } catch {
      throw new TransportError('réponse du serveur non authentifiée');
    }
    const msg = serverMessageSchema.parse(JSON.parse(plain.toString('utf8')));
    this.state.serverCounter = h.counter;
    return msg;
  }
}
