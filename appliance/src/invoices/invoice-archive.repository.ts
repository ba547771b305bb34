import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** One archived invoice version (chained per pharmacy). */
export interface ArchiveEntry {
  pharmacyId: string;
  seq: string;
  invoiceSourceId: string;
  supplierSourceId: string;
  invoiceNumber: string;
  issuedOn: string;
  fileName: string;
  mediaType: string;
  fileSha256: string;
  fileSize: string;
  recordSha256: string;
  archivedAt: Date;
  retainUntil: string;
  retention: RetentionBasis[];
  prevHash: string;
  hash: string;
  purgedAt: Date | null;
}

/** Why an entry is kept until its date: each basis in force on the issue date. */
export interface RetentionBasis {
  basis: 'commercial' | 'tax';
  years: number;
  legalReference: string;
  until: string;
}

/** A dated retention parameter row. */
export interface RetentionParameter {
  basis: 'commercial' | 'tax';
  years: number;
  validFrom: string;
  validTo: string | null;
  legalReference: string;
}

/** A legal hold on a pharmacy's archive (optionally a period of issue dates). */
export interface LegalHold {
  id: string;
  pharmacyId: string;
  reason: string;
  coversFrom: string | null;
  coversTo: string | null;
  placedAt: Date;
  releasedAt: Date | null;
}

/** The invoice as archived: header and lines from the fact tables. */
export interface InvoiceRecord {
  sourceId: string;
  supplierSourceId: string;
  supplierName: string | null;
  invoiceNumber: string;
  issuedOn: string;
  dueOn: string | null;
  totalHtCents: string;
  totalVatCents: string;
  totalTtcCents: string;
  fileSha256: string | null;
  lines: Record<string, unknown>[];
}

const ENTRY_COLS = `pharmacy_id AS "pharmacyId", seq::text AS seq, invoice_source_id AS "invoiceSourceId", supplier_source_id AS "supplierSourceId",
  invoice_number AS "invoiceNumber", to_char(issued_on, 'YYYY-MM-DD') AS "issuedOn", file_name AS "fileName", media_type AS "mediaType",
  file_sha256 AS "fileSha256", file_size::text AS "fileSize", record_sha256 AS "recordSha256", archived_at AS "archivedAt",
  to_char(retain_until, 'YYYY-MM-DD') AS "retainUntil", retention, prev_hash AS "prevHash", hash, purged_at AS "purgedAt"`;

/** Advisory lock key of one pharmacy's archive chain. */
function chainLockKey(pharmacyId: string): string {
  return createHash('sha256').update(`officine-invoice-archive:${pharmacyId}`).digest().readBigInt64BE(0).toString();
}

/** SQL of the invoice archive, its retention parameters and legal holds. */
export class InvoiceArchiveRepository {
  constructor(private readonly m: EntityManager) {}

  async lockChain(pharmacyId: string): Promise<void> {
    await this.m.query('SELECT pg_advisory_xact_lock($1::bigint)', [chainLockKey(pharmacyId)]);
  }

  async head(pharmacyId: string): Promise<{ seq: string; hash: string } | undefined> {
    return ((await this.m.query(`SELECT seq::text AS seq, hash FROM invoice_archive WHERE pharmacy_id = $1 ORDER BY seq DESC LIMIT 1`, [pharmacyId])) as { seq: string; hash: string }[])[0];
  }

  async pharmacy(pharmacyId: string): Promise<{ id: string; finess: string; name: string; leftAt: Date | null } | undefined> {
    return ((await this.m.query(`SELECT id, finess, name, left_groupement_at AS "leftAt" FROM pharmacies WHERE id = $1`, [pharmacyId])) as {
      id: string;
      finess: string;
      name: string;
      leftAt: Date | null;
    }[])[0];
  }

  async markPharmacyLeft(pharmacyId: string, now: Date): Promise<boolean> {
    const [, n] = (await this.m.query(`UPDATE pharmacies SET left_groupement_at = $2 WHERE id = $1 AND left_groupement_at IS NULL`, [pharmacyId, now])) as [unknown, number];
    return n > 0;
  }

  async invoice(pharmacyId: string, sourceId: string): Promise<InvoiceRecord | undefined> {
    const rows = (await this.m.query(
      `SELECT i.source_id AS "sourceId", i.supplier_source_id AS "supplierSourceId", s.name AS "supplierName", i.invoice_number AS "invoiceNumber",
              to_char(i.issued_on, 'YYYY-MM-DD') AS "issuedOn", to_char(i.due_on, 'YYYY-MM-DD') AS "dueOn", i.total_ht_cents::text AS "totalHtCents",
              i.total_vat_cents::text AS "totalVatCents", i.total_ttc_cents::text AS "totalTtcCents", i.file_sha256 AS "fileSha256",
              coalesce((SELECT jsonb_agg(jsonb_build_object('lineNo', l.line_no, 'productCode', l.product_code, 'quantity', l.quantity, 'freeUnits', l.free_units,
                        'unitPriceHtCents', l.unit_price_ht_cents, 'vatRate', l.vat_rate::text, 'amountHtCents', l.amount_ht_cents::text) ORDER BY l.line_no)
                        FROM supplier_invoice_lines l WHERE l.pharmacy_id = i.pharmacy_id AND l.invoice_source_id = i.source_id), '[]'::jsonb) AS lines
       FROM supplier_invoices i LEFT JOIN suppliers s ON s.pharmacy_id = i.pharmacy_id AND s.source_id = i.supplier_source_id
       WHERE i.pharmacy_id = $1 AND i.source_id = $2`,
      [pharmacyId, sourceId],
    )) as InvoiceRecord[];
    return rows[0];
  }

  /** Retention parameters in force on a date. */
  async parametersOn(day: string): Promise<RetentionParameter[]> {
    return (await this.m.query(
      `SELECT basis, years, to_char(valid_from, 'YYYY-MM-DD') AS "validFrom", to_char(valid_to, 'YYYY-MM-DD') AS "validTo", legal_reference AS "legalReference"
       FROM archive_retention_parameters WHERE valid_from <= $1::date AND (valid_to IS NULL OR valid_to > $1::date) ORDER BY basis`,
      [day],
    )) as RetentionParameter[];
  }

  async allParameters(): Promise<RetentionParameter[]> {
    return (await this.m.query(
      `SELECT basis, years, to_char(valid_from, 'YYYY-MM-DD') AS "validFrom", to_char(valid_to, 'YYYY-MM-DD') AS "validTo", legal_reference AS "legalReference"
       FROM archive_retention_parameters ORDER BY basis, valid_from`,
    )) as RetentionParameter[];
  }

  async latestFor(pharmacyId: string, invoiceSourceId: string): Promise<ArchiveEntry | undefined> {
    return ((await this.m.query(`SELECT ${ENTRY_COLS} FROM invoice_archive WHERE pharmacy_id = $1 AND invoice_source_id = $2 ORDER BY seq DESC LIMIT 1`, [pharmacyId, invoiceSourceId])) as ArchiveEntry[])[0];
  }

  async insert(e: ArchiveEntry): Promise<void> {
    await this.m.query(
      `INSERT INTO invoice_archive (pharmacy_id, seq, invoice_source_id, supplier_source_id, invoice_number, issued_on, file_name, media_type, file_sha256,
         file_size, record_sha256, archived_at, retain_until, retention, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [e.pharmacyId, e.seq, e.invoiceSourceId, e.supplierSourceId, e.invoiceNumber, e.issuedOn, e.fileName, e.mediaType, e.fileSha256, e.fileSize,
        e.recordSha256, e.archivedAt, e.retainUntil, JSON.stringify(e.retention), e.prevHash, e.hash],
    );
  }

  /** Entries of a pharmacy, in chain order, optionally only those issued in [from, to]. */
  async list(pharmacyId: string, period?: { from: string; to: string }): Promise<ArchiveEntry[]> {
    return (await this.m.query(
      `SELECT ${ENTRY_COLS} FROM invoice_archive WHERE pharmacy_id = $1 AND ($2::date IS NULL OR issued_on BETWEEN $2::date AND $3::date) ORDER BY seq`,
      [pharmacyId, period?.from ?? null, period?.to ?? null],
    )) as ArchiveEntry[];
  }

  /** Pharmacies that have an archive (for the verification job). */
  async pharmaciesWithArchive(): Promise<string[]> {
    return ((await this.m.query(`SELECT DISTINCT pharmacy_id AS id FROM invoice_archive ORDER BY 1`)) as { id: string }[]).map((r) => r.id);
  }

  /** Entries past their retention date, not purged, not under an active legal hold. */
  async expired(today: string): Promise<ArchiveEntry[]> {
    return (await this.m.query(
      `SELECT ${ENTRY_COLS} FROM invoice_archive a WHERE a.purged_at IS NULL AND a.retain_until < $1::date
         AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.pharmacy_id = a.pharmacy_id AND h.released_at IS NULL
                         AND (h.covers_from IS NULL OR a.issued_on >= h.covers_from) AND (h.covers_to IS NULL OR a.issued_on <= h.covers_to))
       ORDER BY a.pharmacy_id, a.seq`,
      [today],
    )) as ArchiveEntry[];
  }

  /** Marks an entry purged (the database trigger refuses it before the retention date or under a hold). */
  async markPurged(pharmacyId: string, seq: string, now: Date): Promise<void> {
    await this.m.query(`UPDATE invoice_archive SET purged_at = $3 WHERE pharmacy_id = $1 AND seq = $2`, [pharmacyId, seq, now]);
  }

  /** Whether an unpurged entry still references a stored file (files are shared by content). */
  async fileStillNeeded(pharmacyId: string, sha: string): Promise<boolean> {
    return ((await this.m.query(`SELECT 1 FROM invoice_archive WHERE pharmacy_id = $1 AND purged_at IS NULL AND (file_sha256 = $2 OR record_sha256 = $2) LIMIT 1`, [pharmacyId, sha])) as unknown[]).length > 0;
  }

  async holds(pharmacyId: string): Promise<LegalHold[]> {
    return (await this.m.query(
      `SELECT id, pharmacy_id AS "pharmacyId", reason, to_char(covers_from, 'YYYY-MM-DD') AS "coversFrom", to_char(covers_to, 'YYYY-MM-DD') AS "coversTo",
              placed_at AS "placedAt", released_at AS "releasedAt"
       FROM legal_holds WHERE pharmacy_id = $1 ORDER BY placed_at DESC`,
      [pharmacyId],
    )) as LegalHold[];
  }

  async placeHold(h: { pharmacyId: string; reason: string; coversFrom: string | null; coversTo: string | null; placedBy: string | null; now: Date }): Promise<string> {
    const rows = (await this.m.query(
      `INSERT INTO legal_holds (pharmacy_id, reason, covers_from, covers_to, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [h.pharmacyId, h.reason, h.coversFrom, h.coversTo, h.placedBy, h.now],
    )) as { id: string }[];
    return rows[0]!.id;
  }

  async releaseHold(pharmacyId: string, holdId: string, by: string | null, now: Date): Promise<boolean> {
    const [, n] = (await this.m.query(
      `UPDATE legal_holds SET released_at = $4, released_by = $3 WHERE pharmacy_id = $1 AND id = $2 AND released_at IS NULL`,
      [pharmacyId, holdId, by, now],
    )) as [unknown, number];
    return n > 0;
  }
}
