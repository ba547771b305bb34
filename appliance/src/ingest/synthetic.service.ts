import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { IngestService } from './ingest.service.js';
import { loadSyntheticCatalogue, monthsEndingAt, SyntheticPharmacy, type SyntheticOptions } from './synthetic.generator.js';

/** What a synthetic seeding did. */
export interface SyntheticSeedResult {
  batches: number;
  skipped: number;
  salesLines: number;
}

/** The generator seed of a pharmacy: from its FINESS, so a demo looks the same on every install. */
export function seedOfFiness(finess: string): number {
  return createHash('sha256').update(`officine-synthetic|${finess}`).digest().readUInt32LE(0) % 1_000_000_000;
}

/**
 * Feeds synthetic months through the real ingestion service (source `generator`),
 * one batch per pharmacy and month; months already ingested are skipped without
 * being generated, so seeding again is cheap and changes nothing.
 */
export class SyntheticSeeder {
  private readonly ingest: IngestService;

  constructor(private readonly db: DataSource) {
    this.ingest = new IngestService(db);
  }

  /** Seeds `months` months ending with the month of `opts.until` (default today) for each pharmacy. */
  async seed(pharmacyIds: string[], months: number, opts: SyntheticOptions & { concurrency?: number } = {}): Promise<SyntheticSeedResult> {
    const until = opts.until ?? new Date().toISOString().slice(0, 10);
    const cat = await loadSyntheticCatalogue(this.db);
    const rows = (await this.db.query(`SELECT id, finess FROM pharmacies WHERE id = ANY($1::uuid[])`, [pharmacyIds])) as { id: string; finess: string }[];
    const result: SyntheticSeedResult = { batches: 0, skipped: 0, salesLines: 0 };
    const jobs: (() => Promise<void>)[] = [];
    for (const ph of rows) {
      const gen = new SyntheticPharmacy(cat, seedOfFiness(ph.finess), { ...opts, until });
      const done = new Set(
        ((await this.db.query(`SELECT batch_id FROM ingest_batches WHERE pharmacy_id = $1 AND batch_id LIKE 'synth-%'`, [ph.id])) as { batch_id: string }[]).map((r) => r.batch_id),
      );
      for (const month of monthsEndingAt(until, months)) {
        const id = gen.batchId(month);
        if (!id) continue;
        if (done.has(id)) {
          result.skipped++;
          continue;
        }
        jobs.push(async () => {
          const b = gen.month(month)!;
          await this.ingest.ingestBatch(ph.id, b.batchId, b.batch, { source: 'generator' });
          result.batches++;
          result.salesLines += b.batch.sales?.length ?? 0;
        });
      }
    }
    const workers = Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) await job();
    });
    await Promise.all(workers);
    return result;
  }
}
