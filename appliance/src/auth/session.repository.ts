import type { EntityManager } from 'typeorm';
import type { AccountProfile, SessionSummary } from './auth.api.js';

/** A live session joined with its (active) user: what every authenticated request knows. */
export interface SessionUser extends AccountProfile {
  sessionId: string;
  userId: string;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** A refresh token row (the token itself is never stored, only its hash). */
export interface RefreshTokenRow {
  id: string;
  sessionId: string;
  parentId: string | null;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

/** SQL of sessions and their refresh-token families. Times come from the caller's clock. */
export class SessionRepository {
  constructor(private readonly m: EntityManager) {}

  async create(s: { userId: string; now: Date; expiresAt: Date; ip: string | null; userAgent: string | null }): Promise<string> {
    const rows = (await this.m.query(
      `INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES ($1, $2, $2, $3, $4, $5) RETURNING id`,
      [s.userId, s.now, s.expiresAt, s.ip, s.userAgent?.slice(0, 400) ?? null],
    )) as { id: string }[];
    return rows[0]!.id;
  }

  /** The session if it is neither revoked, expired (absolute) nor idle too long, and its user is active. */
  async findActive(sessionId: string, now: Date, idleSeconds: number): Promise<SessionUser | undefined> {
    const rows = (await this.m.query(
      `SELECT s.id AS "sessionId", u.id AS "userId", u.email, u.display_name AS "displayName", u.role,
              u.pharmacy_id AS "pharmacyId", u.groupement_id AS "groupementId", (u.totp_enabled_at IS NOT NULL) AS "totpEnabled",
              s.last_seen_at AS "lastSeenAt", s.expires_at AS "expiresAt"
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
          AND s.last_seen_at > $2::timestamptz - make_interval(secs => $3) AND u.status = 'active'`,
      [sessionId, now, idleSeconds],
    )) as SessionUser[];
    return rows[0];
  }

  /** Records activity (for the idle lifetime), at most once a minute per session. */
  async touch(sessionId: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2::timestamptz - interval '60 seconds'`, [sessionId, now]);
  }

  async revoke(sessionId: string, reason: string, now: Date): Promise<boolean> {
    const r = (await this.m.query(`UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL`, [sessionId, now, reason])) as [unknown, number];
    await this.m.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE session_id = $1 AND revoked_at IS NULL`, [sessionId, now]);
    return r[1] > 0;
  }

  /** Revokes every live session of a user, except one (the caller's, when they change their password). */
  async revokeAllForUser(userId: string, reason: string, now: Date, exceptSessionId: string | null = null): Promise<number> {
    const rows = (await this.m.query(
      `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
        WHERE user_id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR id <> $4::uuid) RETURNING id`,
      [userId, now, reason, exceptSessionId],
    )) as [{ id: string }[], number];
    const ids = rows[0].map((r) => r.id);
    if (ids.length) await this.m.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE session_id = ANY($1::uuid[]) AND revoked_at IS NULL`, [ids, now]);
    return ids.length;
  }

  async listForUser(userId: string, now: Date): Promise<SessionSummary[]> {
    return (await this.m.query(
      `SELECT id, created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt", ip, user_agent AS "userAgent"
         FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_seen_at DESC`,
      [userId, now],
    )) as SessionSummary[];
  }

  /** Owner of a session (to check that a revoke targets one's own session). */
  async ownerOf(sessionId: string): Promise<string | undefined> {
    const rows = (await this.m.query(`SELECT user_id FROM sessions WHERE id = $1`, [sessionId])) as { user_id: string }[];
    return rows[0]?.user_id;
  }

  async insertRefresh(r: { sessionId: string; parentId: string | null; tokenHash: Buffer; now: Date }): Promise<string> {
    const rows = (await this.m.query(
      `INSERT INTO refresh_tokens (session_id, parent_id, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
      [r.sessionId, r.parentId, r.tokenHash, r.now],
    )) as { id: string }[];
    return rows[0]!.id;
  }

  /** Finds a refresh token by hash, locking it so two concurrent rotations serialise. */
  async findRefreshForUpdate(tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
    const rows = (await this.m.query(
      `SELECT id, session_id AS "sessionId", parent_id AS "parentId", rotated_at AS "rotatedAt", revoked_at AS "revokedAt"
         FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
      [tokenHash],
    )) as RefreshTokenRow[];
    return rows[0];
  }

  /** The child issued when `parentId` was rotated, if any. */
  async childOf(parentId: string): Promise<RefreshTokenRow | undefined> {
    const rows = (await this.m.query(
      `SELECT id, session_id AS "sessionId", parent_id AS "parentId", rotated_at AS "rotatedAt", revoked_at AS "revokedAt"
         FROM refresh_tokens WHERE parent_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [parentId],
    )) as RefreshTokenRow[];
    return rows[0];
  }

  async markRotated(id: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE refresh_tokens SET rotated_at = $2 WHERE id = $1`, [id, now]);
  }
}
