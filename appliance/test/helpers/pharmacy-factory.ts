import { randomInt } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** A fresh groupement (unique name) for a test. */
export async function createGroupement(ds: DataSource, name = `Groupement test ${randomInt(1e9)}`): Promise<string> {
  const [g] = (await ds.query(`INSERT INTO groupements (name) VALUES ($1) RETURNING id`, [name])) as { id: string }[];
  return g!.id;
}

/** A fresh pharmacy (random FINESS) in `groupementId`, or in a new groupement. */
export async function createPharmacy(ds: DataSource, opts: { groupementId?: string; name?: string; finess?: string } = {}): Promise<string> {
  const groupementId = opts.groupementId ?? (await createGroupement(ds));
  const finess = opts.finess ?? String(randomInt(100_000_000, 999_999_999));
  const [p] = (await ds.query(`INSERT INTO pharmacies (groupement_id, name, finess) VALUES ($1, $2, $3) RETURNING id`, [
    groupementId,
    opts.name ?? `Pharmacie ${finess}`,
    finess,
  ])) as { id: string }[];
  return p!.id;
}

/** Test catalogue: real-looking CIP13s with valid check digits, a generic group and a parapharmacy EAN. */
export const TEST_PRODUCTS = {
  /** Reference (princeps), reimbursable, group 1. */
  princeps: '3400930000014',
  /** Generic of group 1, reimbursable. */
  generic: '3400930000021',
  /** Reimbursable, not in any group. */
  other: '3400930000038',
  /** Non-reimbursable drug (10 % VAT). */
  otc: '3400930000045',
  /** Parapharmacy (ACL13), unknown to BDPM. */
  para: '3401000000019',
};

/** Inserts the TEST_PRODUCTS catalogue rows (idempotent). */
export async function seedTestCatalogue(ds: DataSource): Promise<void> {
  await ds.query(`INSERT INTO generic_groups (id, label) VALUES (990001, 'TESTOMYCINE 10 mg') ON CONFLICT DO NOTHING`);
  await ds.query(
    `INSERT INTO products (code, code_kind, cip7, label, family, vat_rate, reimbursement_rate, price_ttc_cents, generic_group_id, generic_type, source)
     VALUES ($1, 'cip13', '3000001', 'TESTOMYCINE 10 mg princeps', 'reimbursable', 2.10, 65, 1000, 990001, 0, 'bdpm'),
            ($2, 'cip13', '3000002', 'TESTOMYCINE 10 mg générique', 'reimbursable', 2.10, 65, 600, 990001, 1, 'bdpm'),
            ($3, 'cip13', '3000003', 'AUTRE remboursable', 'reimbursable', 2.10, 30, 2000, NULL, NULL, 'bdpm'),
            ($4, 'cip13', '3000004', 'CONSEIL non remboursable', 'non_reimbursable', 10.00, NULL, NULL, NULL, NULL, 'bdpm')
     ON CONFLICT DO NOTHING`,
    [TEST_PRODUCTS.princeps, TEST_PRODUCTS.generic, TEST_PRODUCTS.other, TEST_PRODUCTS.otc],
  );
}
