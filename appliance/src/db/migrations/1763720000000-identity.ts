import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identity schema: email verification and TOTP columns on users, sessions with
 * rotating refresh tokens (family = session, parent = previous token), single-use
 * emailed tokens, TOTP recovery codes, group-admin grants, super-admin break-glass,
 * the shared rate-limit store and the append-only, hash-chained audit log.
 */
export class Identity1763720000000 implements MigrationInterface {
  name = 'Identity1763720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users
        ADD COLUMN email_verified_at        timestamptz,
        ADD COLUMN password_changed_at      timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN totp_secret_enc          text,
        ADD COLUMN totp_pending_secret_enc  text,
        ADD COLUMN totp_enabled_at          timestamptz,
        ADD COLUMN totp_last_step           bigint,
        ADD CONSTRAINT users_totp_ck CHECK ((totp_enabled_at IS NULL) = (totp_secret_enc IS NULL))`);
    await q.query(`UPDATE users SET email_verified_at = created_at WHERE status = 'active'`);

    await q.query(`
      CREATE TABLE sessions (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id         uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at      timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        expires_at      timestamptz NOT NULL,
        revoked_at      timestamptz,
        revoked_reason  text,
        ip              text,
        user_agent      text CHECK (length(user_agent) <= 400)
      )`);
    await q.query(`CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE revoked_at IS NULL`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id  uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        parent_id   uuid REFERENCES refresh_tokens(id) ON DELETE CASCADE,
        token_hash  bytea NOT NULL UNIQUE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        rotated_at  timestamptz,
        revoked_at  timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);
    await q.query(`CREATE INDEX refresh_tokens_parent_idx ON refresh_tokens (parent_id)`);

    await q.query(`
      CREATE TABLE auth_tokens (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose     text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
        token_hash  bytea NOT NULL UNIQUE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz
      )`);
    await q.query(`CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id, purpose)`);
    await q.query(`
      CREATE TABLE totp_recovery_codes (
        user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash   bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        used_at     timestamptz,
        PRIMARY KEY (user_id, code_hash)
      )`);

    await q.query(`
      CREATE TABLE group_admin_grants (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pharmacy_id      uuid NOT NULL REFERENCES pharmacies(id),
        grantee_user_id  uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        permission       text NOT NULL CHECK (permission IN ('aggregates', 'details')),
        granted_by       uuid REFERENCES users(id) ON DELETE SET NULL,
        granted_at       timestamptz NOT NULL DEFAULT now(),
        revoked_at       timestamptz,
        revoked_by       uuid REFERENCES users(id) ON DELETE SET NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX group_admin_grants_active_uq ON group_admin_grants (pharmacy_id, grantee_user_id, permission) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX group_admin_grants_grantee_idx ON group_admin_grants (grantee_user_id) WHERE revoked_at IS NULL`);

    await q.query(`
      CREATE TABLE break_glass_sessions (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        user_id      uuid NOT NULL REFERENCES users(id),
        reason       text NOT NULL CHECK (length(reason) BETWEEN 20 AND 2000),
        opened_at    timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        closed_at    timestamptz,
        closed_by    uuid REFERENCES users(id),
        CONSTRAINT break_glass_duration_ck CHECK (expires_at > opened_at AND expires_at <= opened_at + interval '4 hours')
      )`);
    await q.query(`CREATE INDEX break_glass_pharmacy_idx ON break_glass_sessions (pharmacy_id, opened_at DESC)`);
    await q.query(`CREATE INDEX break_glass_user_idx ON break_glass_sessions (user_id, pharmacy_id) WHERE closed_at IS NULL`);

    // Shared store of rate-limiter-flexible (same columns it would create itself).
    await q.query(`
      CREATE TABLE rate_limits (
        key     varchar(255) PRIMARY KEY,
        points  integer NOT NULL DEFAULT 0,
        expire  bigint
      )`);

    await q.query(`
      CREATE TABLE audit_log (
        id             bigserial PRIMARY KEY,
        created_at     timestamptz NOT NULL,
        action         text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{1,99}$'),
        level          text NOT NULL CHECK (level IN ('info', 'warning', 'alert')),
        actor_user_id  uuid,
        actor_role     text,
        pharmacy_id    uuid,
        target_type    text,
        target_id      text,
        ip             text,
        request_id     text,
        details        jsonb NOT NULL DEFAULT '{}',
        prev_hash      text NOT NULL,
        hash           text NOT NULL UNIQUE
      )`);
    await q.query(`CREATE INDEX audit_log_pharmacy_idx ON audit_log (pharmacy_id, id) WHERE pharmacy_id IS NOT NULL`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP FUNCTION audit_log_append_only()`);
    await q.query(`DROP TABLE rate_limits`);
    await q.query(`DROP TABLE break_glass_sessions`);
    await q.query(`DROP TABLE group_admin_grants`);
    await q.query(`DROP TABLE totp_recovery_codes`);
    await q.query(`DROP TABLE auth_tokens`);
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`
      ALTER TABLE users
        DROP CONSTRAINT users_totp_ck,
        DROP COLUMN totp_last_step,
        DROP COLUMN totp_enabled_at,
        DROP COLUMN totp_pending_secret_enc,
        DROP COLUMN totp_secret_enc,
        DROP COLUMN password_changed_at,
        DROP COLUMN email_verified_at`);
  }
}
