import type { EntityManager } from 'typeorm';
import type { PersonalDataLink } from './personal-data.registry.js';

const ident = (s: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(s)) throw new Error(`bad identifier ${s}`);
  return `"${s}"`;
};

/** An account as the GDPR jobs see it. */
export interface GdprAccount {
  id: string;
  email: string;
  displayName: string;
  role: string;
  pharmacyId: string | null;
  emailOptOut: boolean;
}

/** One row of the processing register. */
export interface ProcessingActivity {
  id: string;
  name: string;
  purpose: string;
  legalBasis: string;
  dataSubjects: string;
  dataCategories: string;
  recipients: string;
  retention: string;
  securityMeasures: string;
  transfersOutsideEu: string;
  updatedAt: Date;
}

/** One sub-processor. */
export interface SubProcessor {
  id: string;
  name: string;
  service: string;
  dataLocation: string;
  dataCategories: string;
  safeguards: string;
  updatedAt: Date;
}

const ACCOUNT_COLS = `id, email, display_name AS "displayName", role, pharmacy_id AS "pharmacyId", email_opt_out AS "emailOptOut"`;
/** Last sign of life of an account: its last login, else its activation, else its creation. */
const LAST_ACTIVITY = `coalesce(last_login_at, email_verified_at, created_at)`;

/** SQL of the GDPR module: exports by the registry, erasure, inactivity, register. */
export class GdprRepository {
  constructor(private readonly m: EntityManager) {}

  /** The rows of one registry link for a user, with the declared columns (presence-only ones as booleans). */
  async exportLink(link: PersonalDataLink, userId: string): Promise<Record<string, unknown>[]> {
    const cols = Object.entries(link.personal)
      .map(([c, mode]) => (mode === 'presence' ? `(${ident(c)} IS NOT NULL) AS ${ident(c)}` : ident(c)))
      .join(', ');
    return (await this.m.query(`SELECT ${cols} FROM ${ident(link.table)} WHERE ${ident(link.userColumn)} = $1`, [userId])) as Record<string, unknown>[];
  }

  async account(id: string): Promise<GdprAccount | undefined> {
    return ((await this.m.query(`SELECT ${ACCOUNT_COLS} FROM users WHERE id = $1 AND erased_at IS NULL`, [id])) as GdprAccount[])[0];
  }

  async rename(id: string, displayName: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE users SET display_name = $2, updated_at = $3 WHERE id = $1`, [id, displayName, now]);
  }

  async changeEmail(id: string, email: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE users SET email = $2, updated_at = $3 WHERE id = $1`, [id, email, now]);
  }

  async emailTaken(email: string, exceptId: string): Promise<boolean> {
    return ((await this.m.query(`SELECT 1 FROM users WHERE email = $1 AND id <> $2`, [email, exceptId])) as unknown[]).length > 0;
  }

  async setEmailOptOut(id: string, optOut: boolean, now: Date): Promise<void> {
    await this.m.query(`UPDATE users SET email_opt_out = $2, updated_at = $3 WHERE id = $1`, [id, optOut, now]);
  }

  /** Records the request and disables the account at once; false if already requested or erased. */
  async requestErasure(id: string, now: Date): Promise<boolean> {
    const [, n] = (await this.m.query(
      `UPDATE users SET erasure_requested_at = $2, status = 'disabled', updated_at = $2 WHERE id = $1 AND erasure_requested_at IS NULL AND erased_at IS NULL`,
      [id, now],
    )) as [unknown, number];
    return n > 0;
  }

  /** Accounts whose erasure request is older than `before` and not yet purged. */
  async dueErasures(before: Date): Promise<string[]> {
    const rows = (await this.m.query(`SELECT id FROM users WHERE erasure_requested_at <= $1 AND erased_at IS NULL ORDER BY erasure_requested_at`, [before])) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Accounts to warn: inactive since `since`, not warned since their last activity, not being erased (super-admins excepted). */
  async toWarn(since: Date): Promise<GdprAccount[]> {
    return (await this.m.query(
      `SELECT ${ACCOUNT_COLS} FROM users
       WHERE erased_at IS NULL AND erasure_requested_at IS NULL AND role <> 'super_admin'
         AND ${LAST_ACTIVITY} <= $1 AND (inactivity_warned_at IS NULL OR inactivity_warned_at < ${LAST_ACTIVITY})
       ORDER BY id`,
      [since],
    )) as GdprAccount[];
  }

  async markWarned(id: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE users SET inactivity_warned_at = $2 WHERE id = $1`, [id, now]);
  }

  /** Accounts inactive since `since` that were warned at least `warnedBefore` ago and stayed inactive. */
  async toPurgeForInactivity(since: Date, warnedBefore: Date): Promise<string[]> {
    const rows = (await this.m.query(
      `SELECT id FROM users
       WHERE erased_at IS NULL AND role <> 'super_admin' AND ${LAST_ACTIVITY} <= $1
         AND inactivity_warned_at IS NOT NULL AND inactivity_warned_at >= ${LAST_ACTIVITY} AND inactivity_warned_at <= $2
       ORDER BY id`,
      [since, warnedBefore],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Deletes the rows of a registry link (erasure = delete). */
  async deleteLink(link: PersonalDataLink, userId: string): Promise<number> {
    const [, n] = (await this.m.query(`DELETE FROM ${ident(link.table)} WHERE ${ident(link.userColumn)} = $1`, [userId])) as [unknown, number];
    return n;
  }

  /** Rate-limit counters keyed by the email (login failures): they hold the address in clear. */
  async deleteRateLimitsFor(email: string): Promise<void> {
    await this.m.query(`DELETE FROM rate_limits WHERE position($1 in key) > 0`, [email]);
  }

  async revokeGrantsOf(userId: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE group_admin_grants SET revoked_at = $2 WHERE grantee_user_id = $1 AND revoked_at IS NULL`, [userId, now]);
  }

  /** Overwrites every personal column of the account: what remains is a tombstone keyed by its id. */
  async tombstone(id: string, pseudonym: string, now: Date): Promise<void> {
    await this.m.query(
      `UPDATE users SET email = $2, display_name = 'Compte supprimé', password_hash = '!', status = 'disabled',
         totp_secret_enc = NULL, totp_pending_secret_enc = NULL, totp_enabled_at = NULL, totp_last_step = NULL,
         email_verified_at = NULL, last_login_at = NULL, inactivity_warned_at = NULL, email_opt_out = true,
         erasure_requested_at = coalesce(erasure_requested_at, $3), erased_at = $3, updated_at = $3
       WHERE id = $1`,
      [id, `erased-${pseudonym.slice(0, 24)}`, now],
    );
  }

  async activities(): Promise<ProcessingActivity[]> {
    return (await this.m.query(
      `SELECT id, name, purpose, legal_basis AS "legalBasis", data_subjects AS "dataSubjects", data_categories AS "dataCategories", recipients,
              retention, security_measures AS "securityMeasures", transfers_outside_eu AS "transfersOutsideEu", updated_at AS "updatedAt"
       FROM processing_activities ORDER BY id`,
    )) as ProcessingActivity[];
  }

  async subProcessors(): Promise<SubProcessor[]> {
    return (await this.m.query(
      `SELECT id, name, service, data_location AS "dataLocation", data_categories AS "dataCategories", safeguards, updated_at AS "updatedAt" FROM sub_processors ORDER BY id`,
    )) as SubProcessor[];
  }
}
