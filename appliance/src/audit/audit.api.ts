/**
 * The audit API's JSON shapes (audit.routes.ts), declared once for the server and the web
 * UI (`import type` on both sides; types only, see http/wire.api.ts). Server values keep
 * their `Date`s here; the browser reads them through `Wire<…>` (ISO strings).
 */

/** One audit_log entry as the super-admin reads it: the row without its chain hashes. */
export interface AuditLogEntry {
  id: string;
  createdAt: Date;
  action: string;
  level: string;
  actorUserId: string | null;
  actorRole: string | null;
  pharmacyId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  /** 1: rows written before pseudonymisation existed (hash over plain values); 2: hash over the refs below. */
  chainVersion: number;
  /** sha256 pseudonyms of actor_user_id, target_id and ip (version 2): the chain covers these, so the plain values can be erased. */
  actorRef: string | null;
  targetRef: string | null;
  ipRef: string | null;
}

/** `GET /api/admin/audit`: a page of entries, newest first. */
export interface AuditLogPage {
  entries: AuditLogEntry[];
}

/** One problem found by the chain verification. */
export interface AuditProblem {
  id: string;
  /** `truncated`: an anchor exported earlier is no longer in the chain (its tail was cut). */
  kind: 'modified' | 'broken_link' | 'truncated';
  message: string;
}

/** One entry of the chain, as exported for later comparison. */
export interface AuditAnchor {
  id: string;
  hash: string;
}

/** `POST /api/admin/audit/verify` (and `appliance audit verify`): the result of a full verification. */
export interface AuditVerification {
  ok: boolean;
  rows: number;
  problems: AuditProblem[];
  /** The last entry: export it elsewhere, and pass it back as `anchor` to prove nothing after it was cut. */
  head: AuditAnchor | null;
}
