import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The agent channel: enrolled agents and their public keys, one-time enrolment
 * codes (hashed), per-agent high-water marks, key epochs, the recent accepted
 * messages (replay detection), received batch ids (idempotent acks) and the staging
 * sink the channel writes into until the ingestion service takes over.
 */
export class AgentChannel1763740000000 implements MigrationInterface {
  name = 'AgentChannel1763740000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agents (
        pharmacy_id       uuid NOT NULL REFERENCES pharmacies(id),
        id                uuid NOT NULL,
        public_key        bytea NOT NULL CHECK (octet_length(public_key) = 32),
        hostname          text CHECK (length(hostname) <= 200),
        agent_version     text CHECK (length(agent_version) <= 40),
        status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
        epoch             integer NOT NULL DEFAULT 1 CHECK (epoch >= 1),
        epoch_started_at  timestamptz NOT NULL DEFAULT now(),
        created_at        timestamptz NOT NULL DEFAULT now(),
        revoked_at        timestamptz,
        revoked_by        uuid REFERENCES users(id),
        last_seen_at      timestamptz,
        last_summary      jsonb,
        last_summary_at   timestamptz,
        PRIMARY KEY (pharmacy_id, id),
        CONSTRAINT agents_revoked_ck CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX agents_id_uq ON agents (id)`);
    await q.query(`CREATE UNIQUE INDEX agents_public_key_uq ON agents (public_key)`);
    await q.query(`
      CREATE TABLE agent_enrolment_codes (
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        id           uuid NOT NULL DEFAULT gen_random_uuid(),
        code_hash    bytea NOT NULL CHECK (octet_length(code_hash) = 32),
        created_by   uuid REFERENCES users(id),
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        used_at      timestamptz,
        agent_id     uuid,
        PRIMARY KEY (pharmacy_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX agent_enrolment_codes_hash_uq ON agent_enrolment_codes (code_hash)`);
    await q.query(`
      CREATE TABLE agent_channel_marks (
        pharmacy_id     uuid NOT NULL,
        agent_id        uuid NOT NULL,
        high_water      bigint NOT NULL DEFAULT 0 CHECK (high_water >= 0),
        server_counter  bigint NOT NULL DEFAULT 0 CHECK (server_counter >= 0),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pharmacy_id, agent_id),
        FOREIGN KEY (pharmacy_id, agent_id) REFERENCES agents (pharmacy_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE agent_key_epochs (
        pharmacy_id  uuid NOT NULL,
        agent_id     uuid NOT NULL,
        epoch        integer NOT NULL CHECK (epoch >= 1),
        started_at   timestamptz NOT NULL DEFAULT now(),
        retired_at   timestamptz,
        PRIMARY KEY (pharmacy_id, agent_id, epoch),
        FOREIGN KEY (pharmacy_id, agent_id) REFERENCES agents (pharmacy_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE agent_messages (
        pharmacy_id  uuid NOT NULL,
        agent_id     uuid NOT NULL,
        counter      bigint NOT NULL,
        digest       bytea NOT NULL CHECK (octet_length(digest) = 32),
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pharmacy_id, agent_id, counter),
        FOREIGN KEY (pharmacy_id, agent_id) REFERENCES agents (pharmacy_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE agent_batches (
        pharmacy_id  uuid NOT NULL,
        batch_id     text NOT NULL CHECK (batch_id ~ '^[0-9a-f]{32}$'),
        agent_id     uuid NOT NULL,
        kind         text NOT NULL CHECK (kind IN ('batch', 'summary')),
        entity       text,
        row_count    integer NOT NULL DEFAULT 0,
        withheld     jsonb NOT NULL DEFAULT '{}',
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pharmacy_id, batch_id),
        FOREIGN KEY (pharmacy_id, agent_id) REFERENCES agents (pharmacy_id, id)
      )`);
    await q.query(`
      CREATE TABLE agent_staged_rows (
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        entity       text NOT NULL,
        source_id    text NOT NULL,
        batch_id     text NOT NULL,
        payload      jsonb NOT NULL,
        deliveries   integer NOT NULL DEFAULT 1,
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pharmacy_id, entity, source_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['agent_staged_rows', 'agent_batches', 'agent_messages', 'agent_key_epochs', 'agent_channel_marks', 'agent_enrolment_codes', 'agents']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
