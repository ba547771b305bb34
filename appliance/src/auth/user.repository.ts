import type { EntityManager } from 'typeorm';
import type { Role } from './user.entity.js';

/** The account fields login needs (hash and sealed TOTP seed included: never leaves the service). */
export interface LoginUser {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  status: 'pending' | 'active' | 'disabled';
  passwordHash: string;
  pharmacyId: string | null;
  groupementId: string | null;
  totpSecretEnc: string | null;
  totpPendingSecretEnc: string | null;
}

/** An account as listed to admins and the console. */
export interface UserSummary {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  status: string;
  pharmacyId: string | null;
  groupementId: string | null;
  totpEnabled: boolean;
  emailVerifiedAt: Date | null;
  createdAt: Date;
}

const LOGIN_COLS = `id, email, display_name AS "displayName", role, status, password_hash AS "passwordHash",
  pharmacy_id AS "pharmacyId", groupement_id AS "groupementId", totp_secret_enc AS "totpSecretEnc",
  totp_pending_secret_enc AS "totpPendingSecretEnc"`;
const SUMMARY_COLS = `id, email, display_name AS "displayName", role, status, pharmacy_id AS "pharmacyId",
  groupement_id AS "groupementId", (totp_enabled_at IS NOT NULL) AS "totpEnabled", email_verified_at AS "emailVerifiedAt", created_at AS "createdAt"`;

/** SQL of accounts, emailed tokens and TOTP recovery codes. */
export class UserRepository {
  constructor(private readonly m: EntityManager) {}

  async findForLogin(by: { email: string } | { id: string }): Promise<LoginUser | undefined> {
    const [col, val] = 'email' in by ? ['email', by.email] : ['id', by.id];
    const rows = (await this.m.query(`SELECT ${LOGIN_COLS} FROM users WHERE ${col} = $1`, [val])) as LoginUser[];
    return rows[0];
  }

  /** A successful login: the inactivity clock restarts and a pending inactivity warning is void. */
  async recordLogin(id: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE users SET last_login_at = $2, inactivity_warned_at = NULL WHERE id = $1`, [id, now]);
  }

  async summary(id: string): Promise<UserSummary | undefined> {
    return ((await this.m.query(`SELECT ${SUMMARY_COLS} FROM users WHERE id = $1`, [id])) as UserSummary[])[0];
  }

  async findIdByEmail(email: string): Promise<string | undefined> {
    return ((await this.m.query(`SELECT id FROM users WHERE email = $1`, [email])) as { id: string }[])[0]?.id;
  }

  /** Accounts, optionally of one pharmacy (the pharmacy id leads the filter). */
  async list(filter: { pharmacyId?: string } = {}): Promise<UserSummary[]> {
    return (await this.m.query(
      `SELECT ${SUMMARY_COLS} FROM users WHERE ($1::uuid IS NULL OR pharmacy_id = $1::uuid) ORDER BY email`,
      [filter.pharmacyId ?? null],
    )) as UserSummary[];
  }

  async create(u: {
    email: string;
    displayName: string;
    passwordHash: string;
    role: Role;
    pharmacyId: string | null;
    groupementId: string | null;
    status: 'pending' | 'active';
    emailVerifiedAt: Date | null;
  }): Promise<string> {
    const rows = (await this.m.query(
      `INSERT INTO users (email, display_name, password_hash, role, pharmacy_id, groupement_id, status, email_verified_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [u.email, u.displayName, u.passwordHash, u.role, u.pharmacyId, u.groupementId, u.status, u.emailVerifiedAt],
    )) as { id: string }[];
    return rows[0]!.id;
  }

  async setPassword(id: string, hash: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1`, [id, hash, now]);
  }

  /** Stores a new hash only if the old one is still current (rehash at login must not overwrite a concurrent change). */
  async rehash(id: string, oldHash: string, newHash: string): Promise<void> {
    await this.m.query(`UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`, [id, oldHash, newHash]);
  }

  async setRole(id: string, role: Role, now: Date): Promise<boolean> {
    const r = (await this.m.query(`UPDATE users SET role = $2, updated_at = $3 WHERE id = $1 AND role <> $2`, [id, role, now])) as [unknown, number];
    return r[1] > 0;
  }

  /** Active pharmacy admins of a pharmacy, one account left out (the one about to change). */
  async countActiveAdmins(pharmacyId: string, except: string): Promise<number> {
    const rows = (await this.m.query(
      `SELECT count(*)::int AS n FROM users WHERE pharmacy_id = $1 AND role = 'pharmacy_admin' AND status = 'active' AND id <> $2`,
      [pharmacyId, except],
    )) as { n: number }[];
    return rows[0]!.n;
  }

  async setStatus(id: string, status: 'active' | 'disabled', now: Date): Promise<boolean> {
    const r = (await this.m.query(`UPDATE users SET status = $2, updated_at = $3 WHERE id = $1 AND status <> $2`, [id, status, now])) as [unknown, number];
    return r[1] > 0;
  }

  async markEmailVerified(id: string, now: Date): Promise<void> {
    await this.m.query(
      `UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2), status = CASE WHEN status = 'pending' THEN 'active' ELSE status END, updated_at = $2 WHERE id = $1`,
      [id, now],
    );
  }

  async setPendingTotp(id: string, sealed: string): Promise<void> {
    await this.m.query(`UPDATE users SET totp_pending_secret_enc = $2 WHERE id = $1`, [id, sealed]);
  }

  /** Moves the pending seed in place and records the confirming step, if any (so that code cannot be replayed). */
  async enableTotp(id: string, step: number | null, now: Date): Promise<boolean> {
    const r = (await this.m.query(
      `UPDATE users SET totp_secret_enc = totp_pending_secret_enc, totp_pending_secret_enc = NULL, totp_enabled_at = $3, totp_last_step = $2, updated_at = $3
        WHERE id = $1 AND totp_pending_secret_enc IS NOT NULL AND totp_enabled_at IS NULL`,
      [id, step, now],
    )) as [unknown, number];
    return r[1] > 0;
  }

  /** Accepts a TOTP step only if above the last one used: atomic, so a code works once even under concurrency. */
  async consumeTotpStep(id: string, step: number): Promise<boolean> {
    const r = (await this.m.query(
      `UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
      [id, step],
    )) as [unknown, number];
    return r[1] > 0;
  }

  async clearTotp(id: string, now: Date): Promise<void> {
    await this.m.query(
      `UPDATE users SET totp_secret_enc = NULL, totp_pending_secret_enc = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = $2 WHERE id = $1`,
      [id, now],
    );
    await this.m.query(`DELETE FROM totp_recovery_codes WHERE user_id = $1`, [id]);
  }

  async replaceRecoveryCodes(id: string, hashes: Buffer[], now: Date): Promise<void> {
    await this.m.query(`DELETE FROM totp_recovery_codes WHERE user_id = $1`, [id]);
    for (const h of hashes) await this.m.query(`INSERT INTO totp_recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`, [id, h, now]);
  }

  async consumeRecoveryCode(id: string, hash: Buffer, now: Date): Promise<boolean> {
    const r = (await this.m.query(
      `UPDATE totp_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
      [id, hash, now],
    )) as [unknown, number];
    return r[1] > 0;
  }

  async remainingRecoveryCodes(id: string): Promise<number> {
    const rows = (await this.m.query(`SELECT count(*)::int AS n FROM totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL`, [id])) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  async insertToken(t: { userId: string; purpose: 'verify_email' | 'reset_password'; hash: Buffer; now: Date; expiresAt: Date }): Promise<void> {
    await this.m.query(`INSERT INTO auth_tokens (user_id, purpose, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      t.userId,
      t.purpose,
      t.hash,
      t.now,
      t.expiresAt,
    ]);
  }

  /** A live (unused, unexpired) token's user, without consuming it. */
  async peekToken(purpose: string, hash: Buffer, now: Date): Promise<string | undefined> {
    const rows = (await this.m.query(
      `SELECT user_id FROM auth_tokens WHERE purpose = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3`,
      [purpose, hash, now],
    )) as { user_id: string }[];
    return rows[0]?.user_id;
  }

  /** Consumes a token once: the conditional update makes a second use (or a race) fail. */
  async consumeToken(purpose: string, hash: Buffer, now: Date): Promise<string | undefined> {
    const rows = (await this.m.query(
      `UPDATE auth_tokens SET used_at = $3 WHERE purpose = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id`,
      [purpose, hash, now],
    )) as [{ user_id: string }[], number];
    return rows[0][0]?.user_id;
  }

  /** Invalidates the other live tokens of a user for a purpose (a new reset link supersedes older ones). */
  async expireTokens(userId: string, purpose: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE auth_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, [userId, purpose, now]);
  }
}
