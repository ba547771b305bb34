import { z } from 'zod';

/**
 * The decrypted payloads of the agent channel, validated on receipt by both ends.
 * Paths are here too, so the agent and the appliance cannot drift apart.
 */
export const AGENT_API = {
  enrol: '/api/agent/v1/enrol',
  messages: '/api/agent/v1/messages',
} as const;

/** Stable refusal codes of the channel, each logged by the server with its reason. */
export const REFUSALS = {
  envelope_malformed: 'the body is not a well-formed envelope',
  agent_unknown: 'no enrolled agent has this id',
  agent_revoked: 'the agent was revoked',
  epoch_stale: 'the key epoch was rotated; the message uses an old one',
  epoch_unknown: 'the key epoch is ahead of the server',
  timestamp_stale: 'the timestamp is outside the allowed clock skew',
  replay: 'this exact message was already accepted',
  counter_below_hwm: 'the counter is not above the high-water mark',
  decrypt_failed: 'authentication failed: ciphertext, tag or header altered, or wrong key',
  payload_invalid: 'the decrypted payload is not a valid message',
  batch_rejected: 'the database refused the batch (data or constraint error): the same batch would fail again',
} as const;
export type RefusalCode = keyof typeof REFUSALS;

const batchId = z.string().regex(/^[0-9a-f]{32}$/);

/** Per-table figures the pharmacist sees: what was read, sent and withheld, and why. */
export const tableSummarySchema = z.object({
  entity: z.string().max(64),
  source: z.string().max(200),
  columns: z.array(z.string().max(64)).max(64),
  read: z.number().int().min(0),
  sent: z.number().int().min(0),
  withheld: z.record(z.string().max(64), z.number().int().min(0)),
  refused: z.string().max(200).optional(),
});
export type TableSummary = z.infer<typeof tableSummarySchema>;

/** Summary of one extraction pass (what `preview` prints and every sync carries). */
export const syncSummarySchema = z.object({
  profile: z.string().max(64),
  startedAt: z.string().max(40),
  finishedAt: z.string().max(40),
  tables: z.array(tableSummarySchema).max(64),
  /** Batches the agent parked after repeated refusals (dead letters), so the appliance's admins see them too. */
  parked: z
    .array(z.object({ batchId, entity: z.string().max(64).nullable(), rows: z.number().int().min(0), code: z.string().max(64), reason: z.string().max(500), parkedAt: z.string().max(40) }))
    .max(1000)
    .optional(),
});
export type SyncSummary = z.infer<typeof syncSummarySchema>;

/** One canonical record on the wire: a plain object of strings, finite numbers, booleans and nulls. */
export type WireRow = Record<string, string | number | boolean | null>;

/**
 * Checks a wire record by hand: zod's record-of-unions costs ~16 µs a row, a third of
 * the appliance's whole per-row budget at 10⁶ lines. (Which keys are allowed is the
 * canonical model's business, checked next by the appliance.)
 */
export function isWireRow(v: unknown): v is WireRow {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) return false;
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x !== 'string' && typeof x !== 'boolean' && !(typeof x === 'number' && Number.isFinite(x))) return false;
  }
  return true;
}

/** Agent → server. */
export const agentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), agentVersion: z.string().max(40) }),
  z.object({
    type: z.literal('batch'),
    batchId,
    entity: z.string().max(64),
    rows: z.array(z.custom<WireRow>(isWireRow, 'enregistrement invalide')).max(100_000),
    withheld: z.record(z.string().max(64), z.number().int().min(0)),
  }),
  z.object({ type: z.literal('summary'), batchId, summary: syncSummarySchema }),
]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

/** Server → agent (sealed): the acknowledgement, and the current epoch. */
export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ack'), acked: z.array(batchId).max(1000), epoch: z.number().int().min(1), serverTime: z.string() }),
  z.object({ type: z.literal('epoch'), epoch: z.number().int().min(1) }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** Enrolment request and answer (plain JSON inside TLS; the code is single-use). */
export const enrolRequestSchema = z.object({
  code: z.string().min(8).max(64),
  agentPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  hostname: z.string().max(200).optional(),
  agentVersion: z.string().max(40).optional(),
});
export type EnrolRequest = z.infer<typeof enrolRequestSchema>;

export const enrolResponseSchema = z.object({
  agentId: z.string().uuid(),
  pharmacyId: z.string().uuid(),
  serverPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  epoch: z.number().int().min(1),
});
export type EnrolResponse = z.infer<typeof enrolResponseSchema>;
