import { createHash } from 'node:crypto';
import { cursorValue, type Cursor, type SourceConnector } from '../connectors/connector.js';
import { PathRefusedError } from '../connectors/safe-path.js';
import type { EntityName } from '../model/canonical-model.js';
import type { Profile } from '../model/profile.js';
import { buildRecord, type WireRecord } from '../model/record-builder.js';
import type { TableSummary } from '../protocol/messages.js';

/** One batch of canonical records of one entity, with the cursor range it covers. */
export interface ExtractedBatch {
  batchId: string;
  entity: EntityName;
  rows: WireRecord[];
  withheld: Record<string, number>;
  from: Cursor | undefined;
  to: Cursor;
}

/**
 * Deterministic batch id: the same range of the same source always gets the same
 * id, so a batch re-extracted after a crash is recognised by the server as one it
 * already has (idempotent re-sends, even across a lost spool write).
 */
export function batchIdFor(scope: string, entity: string, from: Cursor | undefined, to: Cursor, count: number): string {
  return createHash('sha256').update(JSON.stringify([scope, entity, from ?? null, to, count])).digest('hex').slice(0, 32);
}

/** Accumulates per-table figures for the summary the pharmacist sees. */
export class SummaryBuilder {
  readonly tables = new Map<EntityName, TableSummary>();

  table(entity: EntityName, source: string, columns: string[]): TableSummary {
    let t = this.tables.get(entity);
    if (!t) {
      t = { entity, source, columns, read: 0, sent: 0, withheld: {} };
      this.tables.set(entity, t);
    }
    return t;
  }

  list(): TableSummary[] {
    return [...this.tables.values()];
  }
}

export interface ExtractOptions {
  batchSize: number;
  /** Scope of batch ids (the agent id; "preview" before enrolment). */
  scope: string;
}

/**
 * Extracts every mapped entity after its cursor, as batches of canonical records.
 * A line failing a type check or the value scan is withheld and counted, never
 * yielded. A table whose file or query is refused is recorded in the summary and
 * skipped; the others go on.
 */
export async function* extractBatches(
  profile: Profile,
  source: SourceConnector,
  cursors: Partial<Record<EntityName, Cursor>>,
  opts: ExtractOptions,
  summary: SummaryBuilder,
): AsyncIterable<ExtractedBatch> {
  for (const m of profile.entities) {
    const fields = Object.keys(m.fields);
    const table = summary.table(m.entity, source.describe(m.table), fields);
    const columns = [...new Set(Object.values(m.fields).map((c) => c.column))];
    let from = cursors[m.entity];
    let rows: WireRecord[] = [];
    let withheld: Record<string, number> = {};
    let inBatch = 0;
    let last: Cursor | undefined;
    const flush = (): ExtractedBatch => {
      const to = last!;
      const b: ExtractedBatch = { batchId: batchIdFor(opts.scope, m.entity, from, to, inBatch), entity: m.entity, rows, withheld, from, to };
      from = to;
      rows = [];
      withheld = {};
      inBatch = 0;
      return b;
    };
    try {
      for await (const row of source.rows({ table: m.table, columns, key: m.key, watermark: m.watermark, after: from, pageSize: Math.max(opts.batchSize, 500) })) {
        table.read++;
        inBatch++;
        last = { wm: cursorValue(row[m.watermark]), key: cursorValue(row[m.key]) };
        const r = buildRecord(m.entity, m.fields, row);
        if (r.ok) {
          rows.push(r.record);
          table.sent++;
        } else {
          withheld[r.reason] = (withheld[r.reason] ?? 0) + 1;
          table.withheld[r.reason] = (table.withheld[r.reason] ?? 0) + 1;
        }
        if (inBatch >= opts.batchSize) yield flush();
      }
      if (inBatch > 0) yield flush();
    } catch (err) {
      table.refused = err instanceof PathRefusedError ? `fichier refusé (${err.reason})` : `lecture impossible : ${(err as Error).message}`.slice(0, 200);
    }
  }
}
