import type { DataSource } from 'typeorm';

/** One supplier invoice as the pharmacist lists it. */
export interface InvoiceRow {
  sourceId: string;
  invoiceNumber: string;
  supplier: string;
  issuedOn: string;
  dueOn: string | null;
  lines: number;
  totalHtCents: number;
  totalVatCents: number;
  totalTtcCents: number;
  /** Whether the agent sent the source document's SHA-256 (the invoice file is traceable). */
  hasFileHash: boolean;
}

/** SQL of the supplier invoices (pharmacy_id first: it leads the index). */
export class InvoiceRepository {
  constructor(private readonly db: DataSource) {}

  /** Invoices issued in a period, newest first, capped. */
  async list(pharmacyId: string, from: string, to: string, limit: number): Promise<InvoiceRow[]> {
    return (await this.db.query(
      `SELECT i.source_id AS "sourceId", i.invoice_number AS "invoiceNumber", s.name AS supplier,
              i.issued_on::text AS "issuedOn", i.due_on::text AS "dueOn",
              (SELECT count(*)::int FROM supplier_invoice_lines l WHERE l.pharmacy_id = i.pharmacy_id AND l.invoice_source_id = i.source_id) AS lines,
              i.total_ht_cents::float8 AS "totalHtCents", i.total_vat_cents::float8 AS "totalVatCents", i.total_ttc_cents::float8 AS "totalTtcCents",
              (i.file_sha256 IS NOT NULL) AS "hasFileHash"
         FROM supplier_invoices i
         JOIN suppliers s ON s.pharmacy_id = i.pharmacy_id AND s.source_id = i.supplier_source_id
        WHERE i.pharmacy_id = $1 AND i.issued_on BETWEEN $2 AND $3
        ORDER BY i.issued_on DESC, i.invoice_number
        LIMIT $4`,
      [pharmacyId, from, to, limit],
    )) as InvoiceRow[];
  }
}
