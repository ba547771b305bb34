import type { DataSource, EntityManager } from 'typeorm';

interface DatedValue {
  code: string;
  value: number;
  from: string;
  to: string | null;
}

/**
 * The dated regulatory parameters in memory for one operation: VAT rates and
 * discount caps are rows with validity ranges, never constants, because they change.
 */
export class RegulatoryCalendar {
  constructor(private readonly rows: Map<string, DatedValue[]>) {}

  /** Loads every parameter (a few dozen rows). */
  static async load(db: DataSource | EntityManager): Promise<RegulatoryCalendar> {
    const rows = (await db.query(
      `SELECT kind, code, value::float8 AS value, valid_from::text AS "from", valid_to::text AS "to" FROM regulatory_parameters`,
    )) as (DatedValue & { kind: string })[];
    const byKind = new Map<string, DatedValue[]>();
    for (const r of rows) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
    return new RegulatoryCalendar(byKind);
  }

  private validAt(kind: string, day: string): DatedValue[] {
    return (this.rows.get(kind) ?? []).filter((r) => r.from <= day && (r.to === null || day < r.to));
  }

  /** True when `rate` (in %) is a VAT rate in force on `day` (YYYY-MM-DD). */
  isVatRate(rate: number, day: string): boolean {
    return this.validAt('vat_rate', day).some((r) => Math.abs(r.value - rate) < 1e-9);
  }

  /** The discount cap (in %) in force on `day` for `code`, or null when none applies. */
  discountCap(code: string, day: string): number | null {
    return this.validAt('discount_cap', day).find((r) => r.code === code)?.value ?? null;
  }
}
