import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Direction, sharedSecret } from '../../../agent/src/protocol/channel-crypto.js';
import { EnvelopeFormatError, EpochKeys, openEnvelope, parseEnvelope, sealEnvelope, type EnvelopeHeader } from '../../../agent/src/protocol/envelope.js';
import { agentMessageSchema, REFUSALS, type AgentMessage, type EnrolRequest, type EnrolResponse, type RefusalCode, type ServerMessage } from '../../../agent/src/protocol/messages.js';
import { fieldsOf, isEntity } from '../../../agent/src/model/canonical-model.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../logging/logger.js';
import type { AgentChannelRepository, AgentListing, AgentRow } from './agent-channel.repository.js';
import type { BatchSink, IncomingBatch, SinkResult } from './batch-sink.js';
import type { ServerKeyProvider } from './server-key.js';

/** Channel settings (from the config schema). */
export interface ChannelSettings {
  maxSkewMs: number;
  epochMs: number;
  enrolCodeTtlMs: number;
}

const REFUSAL_STATUS: Record<RefusalCode, number> = {
  envelope_malformed: 400,
  agent_unknown: 401,
  agent_revoked: 403,
  epoch_stale: 409,
  epoch_unknown: 409,
  timestamp_stale: 400,
  replay: 409,
  counter_below_hwm: 409,
  decrypt_failed: 400,
  payload_invalid: 422,
  batch_rejected: 422,
};

const REFUSAL_FR: Record<RefusalCode, string> = {
  envelope_malformed: 'Message d’agent illisible.',
  agent_unknown: 'Agent inconnu.',
  agent_revoked: 'Agent révoqué.',
  epoch_stale: 'Clé de chiffrement périmée : l’agent doit passer à la nouvelle époque.',
  epoch_unknown: 'Époque de clé inconnue.',
  timestamp_stale: 'Horodatage hors tolérance : vérifiez l’horloge du poste.',
  replay: 'Message déjà reçu (rejeu).',
  counter_below_hwm: 'Compteur de message trop ancien.',
  decrypt_failed: 'Message altéré ou clé invalide.',
  payload_invalid: 'Contenu du message invalide.',
  batch_rejected: 'Lot refusé par la base de données de l’appliance : l’agent le met de côté après plusieurs essais.',
};

/** A refused channel message: stable code, French message, optional details the agent can act on. */
export class ChannelRefusedError extends AppError {
  constructor(
    readonly reason: RefusalCode,
    readonly details?: Record<string, unknown>,
  ) {
    super(REFUSAL_STATUS[reason], reason, REFUSAL_FR[reason], REFUSALS[reason]);
  }
}

/** Normalises a typed enrolment code (case, dashes, spaces) before hashing. */
export function normaliseEnrolmentCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U

/** A 100-bit one-time code, grouped for reading aloud: XXXXX-XXXXX-XXXXX-XXXXX. */
export function generateEnrolmentCode(): string {
  const bytes = randomBytes(20);
  let s = '';
  for (const b of bytes) s += CODE_ALPHABET[b & 31];
  return s.match(/.{5}/g)!.join('-');
}

const hashCode = (code: string) => createHash('sha256').update(normaliseEnrolmentCode(code)).digest();

/**
 * The appliance's end of the agent channel: enrolment with one-time codes, message
 * verification (each refusal with its own logged reason), idempotent batch
 * acknowledgement, epoch rotation and revocation. Accepted batches go to the
 * BatchSink inside the same transaction that moves the high-water mark.
 */
export class AgentChannelService {
  private readonly keyCache = new Map<string, EpochKeys>();

  constructor(
    private readonly repo: AgentChannelRepository,
    private readonly serverKey: ServerKeyProvider,
    private readonly sink: BatchSink,
    private readonly logger: Logger,
    private readonly clock: { now(): Date },
    private readonly settings: ChannelSettings,
  ) {}

  /** Creates a one-time enrolment code for a pharmacy; only its hash is stored. */
  async createEnrolmentCode(pharmacyId: string, createdBy: string | null): Promise<{ code: string; expiresAt: Date }> {
    if (!(await this.repo.pharmacyExists(pharmacyId))) throw new AppError(404, 'pharmacy_not_found', 'Pharmacie introuvable.');
    const code = generateEnrolmentCode();
    const expiresAt = new Date(this.clock.now().getTime() + this.settings.enrolCodeTtlMs);
    await this.repo.createEnrolmentCode(pharmacyId, hashCode(code), expiresAt, createdBy);
    this.logger.info({ event: 'agent_enrolment_code_created', pharmacyId, createdBy, expiresAt }, 'agent enrolment code created');
    return { code, expiresAt };
  }

  /** Redeems a one-time code for the agent's public key; returns the agent's identity and the server key. */
  async enrol(req: EnrolRequest): Promise<EnrolResponse> {
    const publicKey = Buffer.from(req.agentPublicKey, 'base64url');
    const server = this.serverKey.get();
    try {
      sharedSecret(server.privateKey, publicKey);
    } catch {
      throw new AppError(422, 'agent_key_invalid', 'Clé publique de l’agent invalide.');
    }
    if (await this.repo.publicKeyTaken(publicKey)) throw new AppError(409, 'agent_key_reused', 'Cette clé d’agent est déjà enrôlée.');
    const agentId = randomUUID();
    const now = this.clock.now();
    const pharmacyId = await this.repo.transaction(async (tx) => {
      const p = await this.repo.redeemEnrolmentCode(tx, hashCode(req.code), agentId, now);
      if (!p) return undefined;
      await this.repo.insertAgent(tx, { pharmacyId: p, id: agentId, publicKey, hostname: req.hostname ?? null, agentVersion: req.agentVersion ?? null, at: now });
      return p;
    });
    if (!pharmacyId) {
      this.logger.warn({ event: 'agent_enrolment_refused', reason: 'code_invalid' }, 'agent enrolment refused: unknown, used or expired code');
      throw new AppError(401, 'enrolment_code_invalid', 'Code d’enrôlement inconnu, déjà utilisé ou expiré.');
    }
    this.logger.info({ event: 'agent_enrolled', agentId, pharmacyId }, 'agent enrolled');
    return { agentId, pharmacyId, serverPublicKey: server.publicKeyRaw.toString('base64url'), epoch: 1 };
  }

  private keysFor(a: AgentRow): EpochKeys {
    let k = this.keyCache.get(a.id);
    if (!k) {
      k = new EpochKeys(sharedSecret(this.serverKey.get().privateKey, a.publicKey), a.id);
      this.keyCache.set(a.id, k);
    }
    return k;
  }

  private refuse(reason: RefusalCode, ctx: Partial<EnvelopeHeader>, details?: Record<string, unknown>): never {
    this.logger.warn(
      { event: 'agent_message_refused', reason, agentId: ctx.agentId, epoch: ctx.epoch, counter: ctx.counter, ts: ctx.ts },
      `agent message refused: ${REFUSALS[reason]}`,
    );
    throw new ChannelRefusedError(reason, details);
  }

  private async sealAnswer(a: AgentRow, epoch: number, re: number, msg: ServerMessage): Promise<Buffer> {
    const counter = await this.repo.nextServerCounter(a);
    const header: EnvelopeHeader = { v: 1, dir: Direction.ServerToAgent, agentId: a.id, epoch, counter, ts: this.clock.now().getTime(), re };
    return sealEnvelope(this.keysFor(a).key(epoch), header, msg);
  }

  /**
   * Verifies one sealed message and acts on it; returns the sealed answer. Checks,
   * in order: envelope shape, agent known, not revoked, current epoch, timestamp
   * within the skew, counter above the high-water mark (an exact re-send is told
   * apart as a replay), authentication, payload. Only then, in one transaction: the
   * mark moves, the batch id is recorded and the batch ingested (once), the
   * epoch rotates if due.
   */
  async handleMessage(raw: Buffer): Promise<Buffer> {
    let env;
    try {
      env = parseEnvelope(raw);
    } catch (err) {
      if (err instanceof EnvelopeFormatError) this.refuse('envelope_malformed', {});
      throw err;
    }
    const h = env.header;
    if (h.dir !== Direction.AgentToServer) this.refuse('envelope_malformed', h);
    const agent = await this.repo.findAgent(h.agentId);
    if (!agent) this.refuse('agent_unknown', h);
    if (agent.status === 'revoked') this.refuse('agent_revoked', h);
    if (h.epoch < agent.epoch) {
      const notice = await this.sealAnswer(agent, agent.epoch, h.counter, { type: 'epoch', epoch: agent.epoch });
      this.refuse('epoch_stale', h, { currentEpoch: agent.epoch, notice: notice.toString('base64') });
    }
    if (h.epoch > agent.epoch) this.refuse('epoch_unknown', h);
    const now = this.clock.now();
    if (Math.abs(now.getTime() - h.ts) > this.settings.maxSkewMs) this.refuse('timestamp_stale', h);
    const digest = createHash('sha256').update(raw).digest();
    if (h.counter <= agent.highWater) {
      if (await this.repo.messageSeen(agent, h.counter, digest)) this.refuse('replay', h, { highWaterMark: agent.highWater });
      this.refuse('counter_below_hwm', h, { highWaterMark: agent.highWater });
    }
    let plain: Buffer;
    try {
      plain = openEnvelope(this.keysFor(agent).key(h.epoch), env);
    } catch {
      this.refuse('decrypt_failed', h);
    }
    let msg: AgentMessage;
    try {
      msg = agentMessageSchema.parse(JSON.parse(plain.toString('utf8')));
      if (msg.type === 'batch') checkBatchShape(msg.entity, msg.rows);
    } catch {
      this.refuse('payload_invalid', h);
    }

    let afterCommit: (() => void) | undefined;
    const answer = await this.repo.transaction(async (tx) => {
      const locked = await this.repo.findAgent(agent.id, tx, true);
      if (!locked || locked.status === 'revoked') this.refuse('agent_revoked', h);
      if (locked.epoch !== h.epoch) this.refuse('epoch_stale', h);
      const pruneBefore = new Date(now.getTime() - 2 * this.settings.maxSkewMs);
      if (!(await this.repo.advanceHighWater(tx, locked, h.counter, digest, pruneBefore))) this.refuse('counter_below_hwm', h, { highWaterMark: locked.highWater });
      const acked: string[] = [];
      if (msg.type === 'batch') {
        const fresh = await this.repo.recordBatch(tx, locked, msg.batchId, 'batch', msg.entity, msg.rows.length, msg.withheld);
        if (fresh) ({ afterCommit } = await this.ingestOrReject(tx, { pharmacyId: locked.pharmacyId, agentId: locked.id, batchId: msg.batchId, entity: msg.entity, rows: msg.rows }));
        acked.push(msg.batchId);
        await this.repo.touch(tx, locked);
      } else if (msg.type === 'summary') {
        if (await this.repo.recordBatch(tx, locked, msg.batchId, 'summary', null, 0, {})) await this.repo.touch(tx, locked, msg.summary);
        acked.push(msg.batchId);
      } else {
        await this.repo.touch(tx, locked);
      }
      let epoch = locked.epoch;
      if (now.getTime() - locked.epochStartedAt.getTime() >= this.settings.epochMs) {
        epoch = await this.repo.rotateEpoch(tx, locked, now);
        this.logger.info({ event: 'agent_epoch_rotated', agentId: locked.id, epoch }, 'agent key epoch rotated');
      }
      const counter = await this.repo.nextServerCounter(locked, tx);
      const header: EnvelopeHeader = { v: 1, dir: Direction.ServerToAgent, agentId: locked.id, epoch, counter, ts: now.getTime(), re: h.counter };
      return sealEnvelope(this.keysFor(locked).key(epoch), header, { type: 'ack', acked, epoch, serverTime: now.toISOString() } satisfies ServerMessage);
    });
    afterCommit?.();
    return answer;
  }

  /**
   * Hands a batch to the sink; a failure the same batch would meet again (the database
   * refusing its data, the ingestion refusing its shape) becomes `batch_rejected`, with
   * a reason the agent keeps with the batch it parks. The transaction rolls back: the
   * batch id is not recorded, the high-water mark does not move. A passing database
   * trouble (connection lost, deadlock…) is answered 503, which the agent retries
   * for ever; anything else stays a 500.
   */
  private async ingestOrReject(tx: Parameters<BatchSink['ingest']>[0], batch: IncomingBatch): Promise<SinkResult> {
    try {
      return await this.sink.ingest(tx, batch);
    } catch (err) {
      if (transientDbError(err)) throw new AppError(503, 'ingest_unavailable', 'Base de données momentanément indisponible : réessayez.', `transient database error ${(err as { code: string }).code}`);
      const why = batchFailure(err);
      if (!why) throw err;
      this.logger.warn(
        { event: 'agent_batch_rejected', agentId: batch.agentId, pharmacyId: batch.pharmacyId, batchId: batch.batchId, entity: batch.entity, rows: batch.rows.length, ...why },
        'agent batch rejected by the database: the agent will park it',
      );
      throw new ChannelRefusedError('batch_rejected', { batchId: batch.batchId, ...why });
    }
  }

  /** Rotates the epoch of every active agent whose epoch is older than the setting (scheduled job). */
  async rotateDueEpochs(): Promise<number> {
    const now = this.clock.now();
    const due = await this.repo.dueForRotation(new Date(now.getTime() - this.settings.epochMs));
    for (const a of due) {
      const epoch = await this.repo.transaction((tx) => this.repo.rotateEpoch(tx, a, now));
      this.logger.info({ event: 'agent_epoch_rotated', agentId: a.id, epoch }, 'agent key epoch rotated');
    }
    return due.length;
  }

  /** Rotates one agent's epoch now (console, tests). */
  async rotateEpoch(agentId: string): Promise<number> {
    const a = await this.repo.findAgent(agentId);
    if (!a) throw new AppError(404, 'agent_not_found', 'Agent introuvable.');
    return this.repo.transaction((tx) => this.repo.rotateEpoch(tx, a, this.clock.now()));
  }

  /** Revokes an agent: its next message is refused (agent_revoked). */
  async revoke(pharmacyId: string, agentId: string, by: string | null): Promise<void> {
    if (!(await this.repo.revoke(pharmacyId, agentId, by, this.clock.now()))) throw new AppError(404, 'agent_not_found', 'Agent introuvable ou déjà révoqué.');
    this.keyCache.delete(agentId);
    this.logger.info({ event: 'agent_revoked', agentId, pharmacyId, by }, 'agent revoked');
  }

  /** Revokes an agent found by id alone (super-admin); returns its pharmacy. */
  async revokeById(agentId: string, by: string | null): Promise<string> {
    const a = await this.repo.findAgent(agentId);
    if (!a) throw new AppError(404, 'agent_not_found', 'Agent introuvable.');
    await this.revoke(a.pharmacyId, agentId, by);
    return a.pharmacyId;
  }

  list(pharmacyId: string | undefined): Promise<AgentListing[]> {
    return this.repo.list(pharmacyId);
  }
}

/** SQLSTATE classes of a passing trouble: 08 connection, 40 rollback (deadlock, serialization), 53 resources, 57 operator intervention. */
const TRANSIENT_SQLSTATE = /^(08|40|53|57)[0-9A-Z]{3}$/;

/** True for a database error worth retrying as is (answered 503: the agent retries without counting it against the batch). */
export function transientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && TRANSIENT_SQLSTATE.test(code);
}

/** SQLSTATE classes the same data meets again: 22 data exception, 23 integrity constraint violation. */
const DETERMINISTIC_SQLSTATE = /^(22|23)[0-9A-Z]{3}$/;

/**
 * Why a batch failed, when retrying it cannot help: a PostgreSQL data or constraint
 * error (reason: code, table, constraint or column — never the failing values, which
 * PostgreSQL puts in its detail), or the ingestion refusing the batch (an AppError 4xx).
 */
export function batchFailure(err: unknown): { sqlstate?: string; reason: string } | undefined {
  if (err instanceof AppError) return err.status < 500 ? { reason: `${err.code}: ${err.userMessage}` } : undefined;
  const e = err as { code?: unknown; table?: unknown; constraint?: unknown; column?: unknown; message?: unknown };
  if (typeof e?.code !== 'string' || !DETERMINISTIC_SQLSTATE.test(e.code)) return undefined;
  const where = [e.table && `table ${String(e.table)}`, e.constraint && `contrainte ${String(e.constraint)}`, e.column && `colonne ${String(e.column)}`].filter(Boolean).join(', ');
  const kind = e.code.startsWith('23') ? 'contrainte d’intégrité violée' : 'donnée refusée par la base';
  return { sqlstate: e.code, reason: `${kind} (SQLSTATE ${e.code}${where ? `, ${where}` : ''})` };
}

/** Server-side allowlist check: an unknown entity or field refuses the batch (defence in depth). */
function checkBatchShape(entity: string, rows: Record<string, unknown>[]): void {
  if (!isEntity(entity)) throw new Error('unknown entity');
  const allowed = fieldsOf(entity);
  for (const r of rows) {
    for (const k of Object.keys(r)) if (!Object.prototype.hasOwnProperty.call(allowed, k)) throw new Error('unknown field');
    if (typeof r.source_id !== 'string' || r.source_id === '') throw new Error('missing source_id');
  }
}
