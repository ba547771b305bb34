import type pg from 'pg';
import type { EntityManager } from 'typeorm';
import type { WireRecord } from '../../../agent/src/model/record-builder.js';
import { recordIngested, type IngestResult, type IngestService } from '../ingest/ingest.service.js';
import { ingestBatchIdOf, toIngestBatch } from './agent-ingest.adapter.js';

/** A decrypted, validated batch of canonical records from one pharmacy's agent. */
export interface IncomingBatch {
  pharmacyId: string;
  agentId: string;
  batchId: string;
  entity: string;
  rows: WireRecord[];
}

/** What a sink did with a batch; `afterCommit` runs once the channel's transaction committed. */
export interface SinkResult {
  rows: number;
  afterCommit?: () => void;
}

/**
 * Where the channel hands decrypted batches. It runs inside the channel's
 * transaction (the same one that records the batch id and moves the high-water
 * mark), so a batch is ingested exactly once or not at all.
 */
export interface BatchSink {
  ingest(tx: EntityManager, batch: IncomingBatch): Promise<SinkResult>;
}

/** The pg client under a TypeORM transaction's EntityManager (same connection, same transaction). */
function pgClientOf(tx: EntityManager): pg.PoolClient {
  const client = (tx.queryRunner as unknown as { databaseConnection?: pg.PoolClient } | undefined)?.databaseConnection;
  if (!client || !tx.queryRunner?.isTransactionActive) throw new Error('batch sink needs an active PostgreSQL transaction');
  return client;
}

/**
 * The real sink: adapts the canonical records to an IngestService batch and
 * ingests it on the channel transaction's own connection, so fact tables,
 * rollups, quarantine, the ingest batch id, the channel's batch id and its
 * high-water mark all commit together. (IngestService is also idempotent by batch
 * id, a second guard against a double delivery.)
 */
export class IngestBatchSink implements BatchSink {
  constructor(private readonly ingestion: IngestService) {}

  async ingest(tx: EntityManager, batch: IncomingBatch): Promise<SinkResult> {
    const result: IngestResult = await this.ingestion.ingestWithin(pgClientOf(tx), batch.pharmacyId, ingestBatchIdOf(batch.batchId), toIngestBatch(batch.entity, batch.rows), { source: 'agent' });
    const rows = Object.values(result.counts).reduce((a, c) => a + (c?.received ?? 0) - (c?.quarantined ?? 0), 0);
    return { rows, afterCommit: () => recordIngested(result) };
  }
}
