import type { EntityManager } from 'typeorm';
import type { WireRecord } from '../../../agent/src/model/record-builder.js';

/** A decrypted, validated batch of canonical records from one pharmacy's agent. */
export interface IncomingBatch {
  pharmacyId: string;
  agentId: string;
  batchId: string;
  entity: string;
  rows: WireRecord[];
}

/**
 * Where the channel hands decrypted batches. It runs inside the channel's
 * transaction (the same one that records the batch id and moves the high-water
 * mark), so a batch is ingested exactly once or not at all. StagingBatchSink lands
 * rows in a staging table. IngestService (appliance/src/ingest) is idempotent by
 * batch id in its own transaction, so an adapter calling it here keeps exactly-once;
 * wiring it first needs the canonical model (agent/src/model) aligned with its line
 * schemas (sale type and unit cost on sales, product family, purchase status and
 * prices, invoice lines, stock snapshot day).
 */
export interface BatchSink {
  ingest(tx: EntityManager, batch: IncomingBatch): Promise<{ rows: number }>;
}

/**
 * Interim sink: upserts each record by natural key (pharmacy, entity, source id)
 * into agent_staged_rows, counting deliveries so a duplicate would be visible.
 */
export class StagingBatchSink implements BatchSink {
  async ingest(tx: EntityManager, batch: IncomingBatch): Promise<{ rows: number }> {
    const byId = new Map<string, WireRecord>();
    for (const r of batch.rows) byId.set(String(r.source_id), r);
    const ids = [...byId.keys()];
    const payloads = [...byId.values()].map((r) => JSON.stringify(r));
    for (let i = 0; i < ids.length; i += 5000) {
      await tx.query(
        `INSERT INTO agent_staged_rows (pharmacy_id, entity, source_id, batch_id, payload)
         SELECT $1, $2, s.id, $3, s.p::jsonb FROM unnest($4::text[], $5::text[]) AS s(id, p)
         ON CONFLICT (pharmacy_id, entity, source_id) DO UPDATE
           SET payload = EXCLUDED.payload, batch_id = EXCLUDED.batch_id,
               deliveries = agent_staged_rows.deliveries + 1, received_at = now()`,
        [batch.pharmacyId, batch.entity, batch.batchId, ids.slice(i, i + 5000), payloads.slice(i, i + 5000)],
      );
    }
    return { rows: ids.length };
  }
}
