import type { EntityManager } from 'typeorm';
import type { AuditLogEntry } from './audit.api.js';

/** Advisory lock key serialising writers of the audit chain (transaction-scoped). */
export const AUDIT_CHAIN_LOCK_KEY = 0x0ff1a0d;

/** One audit_log row as the service sees it: the entry as the API shows it, plus its chain hashes. */
export interface AuditRow extends AuditLogEntry {
  prevHash: string;
  hash: string;
}

const COLUMNS = `id::text AS id, created_at AS "createdAt", action, level, actor_user_id AS "actorUserId", actor_role AS "actorRole",
  pharmacy_id AS "pharmacyId", target_type AS "targetType", target_id AS "targetId", ip, request_id AS "requestId",
  details, prev_hash AS "prevHash", hash, chain_version AS "chainVersion", actor_ref AS "actorRef", target_ref AS "targetRef", ip_ref AS "ipRef"`;

/** SQL of the audit log: append, read the chain head, page through, list per pharmacy. */
export class AuditRepository {
  constructor(private readonly m: EntityManager) {}

  async lockChain(): Promise<void> {
    await this.m.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK_KEY]);
  }

  async lastHash(): Promise<string | undefined> {
    const rows = (await this.m.query('SELECT hash FROM audit_log ORDER BY audit_log.id DESC LIMIT 1')) as { hash: string }[];
    return rows[0]?.hash;
  }

  async insert(r: Omit<AuditRow, 'id'>): Promise<string> {
    const rows = (await this.m.query(
      `INSERT INTO audit_log (created_at, action, level, actor_user_id, actor_role, pharmacy_id, target_type, target_id, ip, request_id, details, prev_hash, hash,
         chain_version, actor_ref, target_ref, ip_ref)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id::text AS id`,
      [r.createdAt, r.action, r.level, r.actorUserId, r.actorRole, r.pharmacyId, r.targetType, r.targetId, r.ip, r.requestId, JSON.stringify(r.details), r.prevHash, r.hash,
        r.chainVersion, r.actorRef, r.targetRef, r.ipRef],
    )) as { id: string }[];
    return rows[0]!.id;
  }

  /**
   * Erasure: nulls the plain actor, target and IP of every row about one user (the
   * trigger allows exactly this on version-2 rows; their refs, which the chain
   * covers, stay). Returns how many rows were pseudonymised and how many version-1
   * rows could not be (their hash covers the plain values).
   */
  async pseudonymiseUser(userId: string): Promise<{ rows: number; legacyRows: number }> {
    const [, rows] = (await this.m.query(
      `UPDATE audit_log SET
         actor_user_id = CASE WHEN actor_user_id = $1 THEN NULL ELSE actor_user_id END,
         target_id = CASE WHEN target_id = $1::text THEN NULL ELSE target_id END,
         ip = CASE WHEN actor_user_id = $1 THEN NULL ELSE ip END
       WHERE chain_version = 2 AND (actor_user_id = $1 OR target_id = $1::text)`,
      [userId],
    )) as [unknown, number];
    const legacy = (await this.m.query(`SELECT count(*)::int AS n FROM audit_log WHERE chain_version = 1 AND (actor_user_id = $1 OR target_id = $1::text)`, [userId])) as { n: number }[];
    return { rows, legacyRows: legacy[0]!.n };
  }

  /** Entries written by or about one user (data export), oldest first. */
  async listForUser(userId: string, limit: number): Promise<AuditRow[]> {
    return (await this.m.query(`SELECT ${COLUMNS} FROM audit_log WHERE actor_user_id = $1 OR target_id = $1::text ORDER BY audit_log.id LIMIT $2`, [userId, limit])) as AuditRow[];
  }

  async page(afterId: string, limit: number): Promise<AuditRow[]> {
    return (await this.m.query(`SELECT ${COLUMNS} FROM audit_log WHERE id > $1 ORDER BY audit_log.id LIMIT $2`, [afterId, limit])) as AuditRow[];
  }

  /** Latest entries of the whole log, newest first, optionally of one action prefix (super-admin page). */
  async listAll(beforeId: string | undefined, limit: number, actionPrefix?: string): Promise<AuditRow[]> {
    return (await this.m.query(
      `SELECT ${COLUMNS} FROM audit_log WHERE ($1::bigint IS NULL OR id < $1::bigint) AND ($2::text IS NULL OR action LIKE $2 || '%')
        ORDER BY audit_log.id DESC LIMIT $3`,
      [beforeId ?? null, actionPrefix ?? null, limit],
    )) as AuditRow[];
  }

  /** Latest entries of one pharmacy (pharmacy_id leads the index). */
  async listForPharmacy(pharmacyId: string, beforeId: string | undefined, limit: number): Promise<AuditRow[]> {
    return (await this.m.query(
      `SELECT ${COLUMNS} FROM audit_log WHERE pharmacy_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY audit_log.id DESC LIMIT $3`,
      [pharmacyId, beforeId ?? null, limit],
    )) as AuditRow[];
  }
}
