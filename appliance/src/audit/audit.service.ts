import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditAnchor, AuditProblem, AuditVerification } from './audit.api.js';
import { AuditRepository, type AuditRow } from './audit.repository.js';
import { canonicalJson } from './canonical-json.js';

/** Severity of an audit entry: `alert` is for events someone must look at (refresh-token reuse, tampering). */
export type AuditLevel = 'info' | 'warning' | 'alert';

/** What a module records. `action` is dotted lower-case (`auth.login.failure`, `grant.created`). */
export interface AuditEntry {
  action: string;
  level?: AuditLevel;
  actorUserId?: string | null;
  actorRole?: string | null;
  pharmacyId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  requestId?: string | null;
  /** Small JSON facts. Never passwords, tokens or raw emails (use hashEmail). */
  details?: Record<string, unknown>;
}

/** Hash of the (virtual) row before the first one. */
export const GENESIS_HASH = '0'.repeat(64);


/** Pseudonym of a personal audit value (user id, target id, IP): what the chain covers instead of the value. */
export function auditRef(kind: 'user' | 'target' | 'ip', value: string | null): string | null {
  return value === null ? null : createHash('sha256').update(`officine-audit:${kind}:${value}`).digest('hex');
}

/** Pseudonym of a user in the audit log once erased (the same as its actor_ref). */
export function userPseudonym(userId: string): string {
  return auditRef('user', userId)!;
}

/**
 * The chained hash of one row: sha256 over the previous hash and every column but
 * `id` and `hash`. Version 2 hashes the refs of actor, target and IP instead of the
 * plain values, so erasure can null those without breaking the chain.
 */
export function auditRowHash(row: Omit<AuditRow, 'id' | 'hash'>): string {
  if (row.chainVersion === 2) {
    const material = canonicalJson([
      'v2',
      row.prevHash,
      row.createdAt.toISOString(),
      row.action,
      row.level,
      row.actorRef,
      row.actorRole,
      row.pharmacyId,
      row.targetType,
      row.targetRef,
      row.ipRef,
      row.requestId,
      row.details,
    ]);
    return createHash('sha256').update(material).digest('hex');
  }
  const material = canonicalJson([
    row.prevHash,
    row.createdAt.toISOString(),
    row.action,
    row.level,
    row.actorUserId,
    row.actorRole,
    row.pharmacyId,
    row.targetType,
    row.targetId,
    row.ip,
    row.requestId,
    row.details,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/**
 * Appends an entry to the audit log, chained to the previous row. The chain head
 * is read under a transaction-scoped advisory lock, so concurrent writers (several
 * processes included) append one after the other. Pass the transaction's
 * EntityManager to make the entry commit or roll back with the change it records.
 */
export async function recordAudit(db: DataSource | EntityManager, entry: AuditEntry, now: Date = new Date()): Promise<{ id: string; hash: string }> {
  const write = async (m: EntityManager) => {
    const repo = new AuditRepository(m);
    await repo.lockChain();
    const prevHash = (await repo.lastHash()) ?? GENESIS_HASH;
    const row: Omit<AuditRow, 'id' | 'hash'> = {
      createdAt: new Date(now.getTime()),
      action: entry.action,
      level: entry.level ?? 'info',
      actorUserId: entry.actorUserId ?? null,
      actorRole: entry.actorRole ?? null,
      pharmacyId: entry.pharmacyId ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      ip: entry.ip ?? null,
      requestId: entry.requestId ?? null,
      details: JSON.parse(canonicalJson(entry.details ?? {})) as Record<string, unknown>,
      prevHash,
      chainVersion: 2,
      actorRef: auditRef('user', entry.actorUserId ?? null),
      targetRef: auditRef('target', entry.targetId ?? null),
      ipRef: auditRef('ip', entry.ip ?? null),
    };
    const hash = auditRowHash(row);
    const id = await repo.insert({ ...row, hash });
    return { id, hash };
  };
  const manager = db instanceof DataSource ? db.manager : db;
  if (manager.queryRunner?.isTransactionActive) return write(manager);
  return manager.transaction(write);
}

/**
 * Walks the whole log in id order, recomputing each hash and checking each link:
 * an edited row no longer matches its hash (`modified`); a deleted row leaves the
 * next row pointing at a hash that is not its predecessor's (`broken_link`).
 */
export async function verifyAuditChain(db: DataSource, opts: { batch?: number; maxProblems?: number; anchor?: AuditAnchor } = {}): Promise<AuditVerification> {
  const repo = new AuditRepository(db.manager);
  const problems: AuditProblem[] = [];
  let prev = GENESIS_HASH;
  let after = '0';
  let rows = 0;
  let anchorSeen = false;
  for (;;) {
    const batch = await repo.page(after, opts.batch ?? 1000);
    if (batch.length === 0) break;
    for (const row of batch) {
      rows++;
      if (row.prevHash !== prev) {
        problems.push({ id: row.id, kind: 'broken_link', message: `entry ${row.id} does not follow the previous entry (a row before it was deleted, inserted or rewritten)` });
      }
      const plainMismatch =
        row.chainVersion === 2 &&
        ((row.actorUserId !== null && auditRef('user', row.actorUserId) !== row.actorRef) ||
          (row.targetId !== null && auditRef('target', row.targetId) !== row.targetRef) ||
          (row.ip !== null && auditRef('ip', row.ip) !== row.ipRef));
      if (auditRowHash(row) !== row.hash || plainMismatch) {
        problems.push({ id: row.id, kind: 'modified', message: `entry ${row.id} was modified after it was written` });
      }
      if (opts.anchor && row.id === opts.anchor.id) anchorSeen = row.hash === opts.anchor.hash;
      prev = row.hash;
      after = row.id;
    }
    if (problems.length >= (opts.maxProblems ?? 100)) break;
  }
  if (opts.anchor && !anchorSeen) {
    problems.push({ id: opts.anchor.id, kind: 'truncated', message: `entry ${opts.anchor.id} with the exported hash is no longer in the chain (entries were cut or rewritten)` });
  }
  return { ok: problems.length === 0, rows, problems, head: after === '0' ? null : { id: after, hash: prev } };
}

/** The audit writer, as one import: `audit.record(db, {...})`, `audit.verify(db)`. */
export const audit = { record: recordAudit, verify: verifyAuditChain };
