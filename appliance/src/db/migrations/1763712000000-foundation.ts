import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Foundation schema: the groupement, its pharmacies (the tenants) and the user
 * accounts, plus a key/value table for appliance-wide settings.
 */
export class Foundation1763712000000 implements MigrationInterface {
  name = 'Foundation1763712000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE groupements (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE pharmacies (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        groupement_id  uuid NOT NULL REFERENCES groupements(id),
        name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        finess         char(9) NOT NULL UNIQUE CHECK (finess ~ '^[0-9]{2}[0-9AB][0-9]{6}$'),
        address        text,
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX pharmacies_groupement_idx ON pharmacies (groupement_id)`);
    await q.query(`
      CREATE TABLE users (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email          text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
        display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
        password_hash  text NOT NULL,
        role           text NOT NULL CHECK (role IN ('user', 'pharmacy_admin', 'group_admin', 'super_admin')),
        pharmacy_id    uuid REFERENCES pharmacies(id),
        groupement_id  uuid REFERENCES groupements(id),
        status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'disabled')),
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_tenant_ck CHECK (
          (role IN ('user', 'pharmacy_admin') AND pharmacy_id IS NOT NULL)
          OR (role = 'group_admin' AND groupement_id IS NOT NULL AND pharmacy_id IS NULL)
          OR (role = 'super_admin' AND pharmacy_id IS NULL)
        )
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_uq ON users (email)`);
    await q.query(`CREATE INDEX users_pharmacy_idx ON users (pharmacy_id)`);
    await q.query(`
      CREATE TABLE appliance_settings (
        key         text PRIMARY KEY,
        value       jsonb NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE appliance_settings`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE pharmacies`);
    await q.query(`DROP TABLE groupements`);
  }
}
