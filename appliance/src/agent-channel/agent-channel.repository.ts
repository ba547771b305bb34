import type { DataSource, EntityManager } from 'typeorm';

type Q = DataSource | EntityManager;

/** What the channel needs to know about an agent to verify its messages. */
export interface AgentRow {
  pharmacyId: string;
  id: string;
  publicKey: Buffer;
  status: 'active' | 'revoked';
  epoch: number;
  epochStartedAt: Date;
  highWater: number;
}

/** An agent as listed to its pharmacy's admins. */
export interface AgentListing {
  id: string;
  pharmacyId: string;
  hostname: string | null;
  agentVersion: string | null;
  status: string;
  epoch: number;
  createdAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
  lastSummary: unknown;
  lastSummaryAt: Date | null;
}

/** The channel's SQL, in one place. */
export class AgentChannelRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async findAgent(agentId: string, q: Q = this.db, lock = false): Promise<AgentRow | undefined> {
    const rows = (await q.query(
      `SELECT a.pharmacy_id, a.id, a.public_key, a.status, a.epoch, a.epoch_started_at, m.high_water
         FROM agents a JOIN agent_channel_marks m ON m.pharmacy_id = a.pharmacy_id AND m.agent_id = a.id
        WHERE a.id = $1 ${lock ? 'FOR UPDATE OF a, m' : ''}`,
      [agentId],
    )) as { pharmacy_id: string; id: string; public_key: Buffer; status: 'active' | 'revoked'; epoch: number; epoch_started_at: Date; high_water: string }[];
    const r = rows[0];
    return r && { pharmacyId: r.pharmacy_id, id: r.id, publicKey: r.public_key, status: r.status, epoch: r.epoch, epochStartedAt: r.epoch_started_at, highWater: Number(r.high_water) };
  }

  async messageSeen(a: AgentRow, counter: number, digest: Buffer): Promise<boolean> {
    const rows = (await this.db.query(
      `SELECT 1 FROM agent_messages WHERE pharmacy_id = $1 AND agent_id = $2 AND counter = $3 AND digest = $4`,
      [a.pharmacyId, a.id, counter, digest],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Moves the high-water mark up to `counter`; false if another request got there first. */
  async advanceHighWater(tx: EntityManager, a: AgentRow, counter: number, digest: Buffer, pruneBefore: Date): Promise<boolean> {
    const [, n] = (await tx.query(
      `UPDATE agent_channel_marks SET high_water = $3, updated_at = now() WHERE pharmacy_id = $1 AND agent_id = $2 AND high_water < $3`,
      [a.pharmacyId, a.id, counter],
    )) as [unknown, number];
    if (n !== 1) return false;
    await tx.query(`INSERT INTO agent_messages (pharmacy_id, agent_id, counter, digest) VALUES ($1, $2, $3, $4)`, [a.pharmacyId, a.id, counter, digest]);
    await tx.query(`DELETE FROM agent_messages WHERE pharmacy_id = $1 AND agent_id = $2 AND received_at < $3`, [a.pharmacyId, a.id, pruneBefore]);
    return true;
  }

  /** Next server counter for an answer to this agent. */
  async nextServerCounter(a: AgentRow, q: Q = this.db): Promise<number> {
    const rows = (await q.query(
      `UPDATE agent_channel_marks SET server_counter = server_counter + 1 WHERE pharmacy_id = $1 AND agent_id = $2 RETURNING server_counter`,
      [a.pharmacyId, a.id],
    )) as [{ server_counter: string }[], number];
    return Number(rows[0][0]!.server_counter);
  }

  /** Records a batch id; false when it was already received (the re-send is acked, not re-ingested). */
  async recordBatch(tx: EntityManager, a: AgentRow, batchId: string, kind: 'batch' | 'summary', entity: string | null, rowCount: number, withheld: unknown): Promise<boolean> {
    const rows = (await tx.query(
      `INSERT INTO agent_batches (pharmacy_id, batch_id, agent_id, kind, entity, row_count, withheld)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (pharmacy_id, batch_id) DO NOTHING RETURNING 1`,
      [a.pharmacyId, batchId, a.id, kind, entity, rowCount, JSON.stringify(withheld)],
    )) as unknown[];
    return rows.length === 1;
  }

  async touch(tx: EntityManager, a: AgentRow, summary?: unknown): Promise<void> {
    if (summary === undefined) {
      await tx.query(`UPDATE agents SET last_seen_at = now() WHERE pharmacy_id = $1 AND id = $2`, [a.pharmacyId, a.id]);
    } else {
      await tx.query(`UPDATE agents SET last_seen_at = now(), last_summary = $3, last_summary_at = now() WHERE pharmacy_id = $1 AND id = $2`, [a.pharmacyId, a.id, JSON.stringify(summary)]);
    }
  }

  /** Starts epoch `epoch + 1` for an agent (no-op if someone else already did). Returns the current epoch. */
  async rotateEpoch(q: Q, a: Pick<AgentRow, 'pharmacyId' | 'id' | 'epoch'>, at: Date): Promise<number> {
    const rows = (await q.query(
      `UPDATE agents SET epoch = epoch + 1, epoch_started_at = $4 WHERE pharmacy_id = $1 AND id = $2 AND epoch = $3 RETURNING epoch`,
      [a.pharmacyId, a.id, a.epoch, at],
    )) as [{ epoch: number }[], number];
    const next = rows[0][0]?.epoch;
    if (next === undefined) {
      const cur = (await q.query(`SELECT epoch FROM agents WHERE id = $1`, [a.id])) as { epoch: number }[];
      return cur[0]!.epoch;
    }
    await q.query(`UPDATE agent_key_epochs SET retired_at = $4 WHERE pharmacy_id = $1 AND agent_id = $2 AND epoch = $3`, [a.pharmacyId, a.id, a.epoch, at]);
    await q.query(`INSERT INTO agent_key_epochs (pharmacy_id, agent_id, epoch, started_at) VALUES ($1, $2, $3, $4)`, [a.pharmacyId, a.id, next, at]);
    return next;
  }

  /** Agents whose epoch started before `before` (due for rotation). */
  async dueForRotation(before: Date): Promise<Pick<AgentRow, 'pharmacyId' | 'id' | 'epoch'>[]> {
    const rows = (await this.db.query(`SELECT pharmacy_id, id, epoch FROM agents WHERE status = 'active' AND epoch_started_at < $1`, [before])) as {
      pharmacy_id: string;
      id: string;
      epoch: number;
    }[];
    return rows.map((r) => ({ pharmacyId: r.pharmacy_id, id: r.id, epoch: r.epoch }));
  }

  async createEnrolmentCode(pharmacyId: string, codeHash: Buffer, expiresAt: Date, createdBy: string | null): Promise<void> {
    await this.db.query(`INSERT INTO agent_enrolment_codes (pharmacy_id, code_hash, expires_at, created_by) VALUES ($1, $2, $3, $4)`, [pharmacyId, codeHash, expiresAt, createdBy]);
  }

  /** Consumes a valid code (unused, unexpired) for a new agent; returns its pharmacy or undefined. */
  async redeemEnrolmentCode(tx: EntityManager, codeHash: Buffer, agentId: string, now: Date): Promise<string | undefined> {
    const rows = (await tx.query(
      `UPDATE agent_enrolment_codes SET used_at = $3, agent_id = $2
        WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $3 RETURNING pharmacy_id`,
      [codeHash, agentId, now],
    )) as [{ pharmacy_id: string }[], number];
    return rows[0][0]?.pharmacy_id;
  }

  async insertAgent(tx: EntityManager, a: { pharmacyId: string; id: string; publicKey: Buffer; hostname: string | null; agentVersion: string | null; at: Date }): Promise<void> {
    await tx.query(
      `INSERT INTO agents (pharmacy_id, id, public_key, hostname, agent_version, epoch, epoch_started_at, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6)`,
      [a.pharmacyId, a.id, a.publicKey, a.hostname, a.agentVersion, a.at],
    );
    await tx.query(`INSERT INTO agent_channel_marks (pharmacy_id, agent_id) VALUES ($1, $2)`, [a.pharmacyId, a.id]);
    await tx.query(`INSERT INTO agent_key_epochs (pharmacy_id, agent_id, epoch, started_at) VALUES ($1, $2, 1, $3)`, [a.pharmacyId, a.id, a.at]);
  }

  async publicKeyTaken(publicKey: Buffer): Promise<boolean> {
    return ((await this.db.query(`SELECT 1 FROM agents WHERE public_key = $1`, [publicKey])) as unknown[]).length > 0;
  }

  /** Revokes an agent of a pharmacy; false when no such active agent. */
  async revoke(pharmacyId: string, agentId: string, by: string | null, at: Date): Promise<boolean> {
    const [, n] = (await this.db.query(
      `UPDATE agents SET status = 'revoked', revoked_at = $4, revoked_by = $3 WHERE pharmacy_id = $1 AND id = $2 AND status = 'active'`,
      [pharmacyId, agentId, by, at],
    )) as [unknown, number];
    return n === 1;
  }

  async list(pharmacyId: string | undefined): Promise<AgentListing[]> {
    const rows = (await this.db.query(
      `SELECT id, pharmacy_id, hostname, agent_version, status, epoch, created_at, revoked_at, last_seen_at, last_summary, last_summary_at
         FROM agents WHERE ($1::uuid IS NULL OR pharmacy_id = $1) ORDER BY pharmacy_id, created_at`,
      [pharmacyId ?? null],
    )) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as string,
      pharmacyId: r.pharmacy_id as string,
      hostname: r.hostname as string | null,
      agentVersion: r.agent_version as string | null,
      status: r.status as string,
      epoch: r.epoch as number,
      createdAt: r.created_at as Date,
      revokedAt: r.revoked_at as Date | null,
      lastSeenAt: r.last_seen_at as Date | null,
      lastSummary: r.last_summary,
      lastSummaryAt: r.last_summary_at as Date | null,
    }));
  }

  async pharmacyExists(pharmacyId: string): Promise<boolean> {
    return ((await this.db.query(`SELECT 1 FROM pharmacies WHERE id = $1`, [pharmacyId])) as unknown[]).length > 0;
  }
}
