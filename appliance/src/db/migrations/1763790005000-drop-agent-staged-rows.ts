import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops `agent_staged_rows`: the agent channel ingests each batch straight into the
 * fact tables through IngestService, in the transaction that records the batch id,
 * so this staging table was never written nor read. `down` recreates it exactly as
 * the agent-channel migration had created it.
 */
export class DropAgentStagedRows1763790005000 implements MigrationInterface {
  name = 'DropAgentStagedRows1763790005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agent_staged_rows`);
  }

  async down(q: QueryRunner): Promise<void> {
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
}
