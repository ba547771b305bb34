import type { EntityManager } from 'typeorm';
import type { BdpmGenericGroup, BdpmProduct } from './bdpm.parser.js';

const CHUNK = 2000;

/** Bulk upserts of the BDPM catalogue (array parameters + unnest, by chunks). */
export class CatalogueRepository {
  constructor(private readonly em: EntityManager) {}

  /** Inserts or renames generic groups. */
  async upsertGroups(groups: BdpmGenericGroup[]): Promise<void> {
    for (let i = 0; i < groups.length; i += CHUNK) {
      const part = groups.slice(i, i + CHUNK);
      await this.em.query(
        `INSERT INTO generic_groups (id, label)
         SELECT * FROM unnest($1::int[], $2::text[])
         ON CONFLICT (id) DO UPDATE SET label = EXCLUDED.label WHERE generic_groups.label IS DISTINCT FROM EXCLUDED.label`,
        [part.map((g) => g.id), part.map((g) => g.label)],
      );
    }
  }

  /** Inserts or updates BDPM presentations; returns how many rows changed. */
  async upsertProducts(products: BdpmProduct[]): Promise<number> {
    let changed = 0;
    for (let i = 0; i < products.length; i += CHUNK) {
      const p = products.slice(i, i + CHUNK);
      const rows = (await this.em.query(
        `INSERT INTO products AS t (code, code_kind, cip7, cis, label, lab, family, vat_rate, reimbursement_rate,
                              price_ttc_cents, dispensing_fee_cents, generic_group_id, generic_type, marketed, source)
         SELECT code, 'cip13', cip7, cis, label, lab, family, vat_rate, rate, price, fee, grp, gtype, marketed, 'bdpm'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::smallint[],
                     $9::int[], $10::int[], $11::int[], $12::smallint[], $13::boolean[])
              AS u(code, cip7, cis, label, lab, family, vat_rate, rate, price, fee, grp, gtype, marketed)
         ON CONFLICT (code) DO UPDATE SET
           cip7 = EXCLUDED.cip7, cis = EXCLUDED.cis, label = EXCLUDED.label, lab = EXCLUDED.lab, family = EXCLUDED.family,
           vat_rate = EXCLUDED.vat_rate, reimbursement_rate = EXCLUDED.reimbursement_rate, price_ttc_cents = EXCLUDED.price_ttc_cents,
           dispensing_fee_cents = EXCLUDED.dispensing_fee_cents, generic_group_id = EXCLUDED.generic_group_id,
           generic_type = EXCLUDED.generic_type, marketed = EXCLUDED.marketed, updated_at = now()
         WHERE (t.cip7, t.cis, t.label, t.lab, t.family, t.vat_rate, t.reimbursement_rate, t.price_ttc_cents,
                t.dispensing_fee_cents, t.generic_group_id, t.generic_type, t.marketed)
           IS DISTINCT FROM (EXCLUDED.cip7, EXCLUDED.cis, EXCLUDED.label, EXCLUDED.lab, EXCLUDED.family, EXCLUDED.vat_rate,
                EXCLUDED.reimbursement_rate, EXCLUDED.price_ttc_cents, EXCLUDED.dispensing_fee_cents, EXCLUDED.generic_group_id,
                EXCLUDED.generic_type, EXCLUDED.marketed)
         RETURNING 1`,
        [
          p.map((x) => x.code), p.map((x) => x.cip7), p.map((x) => x.cis), p.map((x) => x.label), p.map((x) => x.lab),
          p.map((x) => x.family), p.map((x) => x.vatRate), p.map((x) => x.reimbursementRate), p.map((x) => x.priceTtcCents),
          p.map((x) => x.dispensingFeeCents), p.map((x) => x.genericGroupId), p.map((x) => x.genericType), p.map((x) => x.marketed),
        ],
      )) as unknown[];
      changed += rows.length;
    }
    return changed;
  }

  /** Number of catalogue products (to skip a re-import when seeding the demo). */
  async countProducts(): Promise<number> {
    const [r] = (await this.em.query(`SELECT count(*)::int AS n FROM products`)) as { n: number }[];
    return r!.n;
  }
}
