import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { normaliseProductCode } from '../model/record-builder.js';
import { prng } from './prng.js';

export { prng };

/**
 * The "reference" LGO: a small, documented schema (agent/README.md) that the
 * shipped `reference` profile maps, used by the tests, the demo and the bench. It
 * holds commercial tables only; hostile fixtures add patient tables on top.
 * Products come from the real BDPM extract when available (real CIP13, prices).
 */
export const REFERENCE_SCHEMA_SQL = `
CREATE TABLE produits (id INTEGER PRIMARY KEY, cip13 TEXT NOT NULL, libelle TEXT NOT NULL, taux_tva REAL, prix_public REAL, laboratoire TEXT, famille TEXT, maj TEXT NOT NULL);
CREATE TABLE fournisseurs (id INTEGER PRIMARY KEY, raison_sociale TEXT NOT NULL, type_fournisseur TEXT, maj TEXT NOT NULL);
CREATE TABLE stock (id INTEGER PRIMARY KEY, cip13 TEXT NOT NULL, quantite INTEGER NOT NULL, pamp REAL, date_inventaire TEXT NOT NULL, jour_stock TEXT, maj TEXT NOT NULL);
CREATE TABLE achats_lignes (id INTEGER PRIMARY KEY, commande TEXT, fournisseur_id INTEGER, statut TEXT, date_commande TEXT, date_reception TEXT, cip13 TEXT NOT NULL, quantite INTEGER NOT NULL, unites_gratuites INTEGER, prix_achat_ht REAL NOT NULL, prix_catalogue_ht REAL, remise REAL, taux_tva REAL, commentaire TEXT, maj TEXT NOT NULL);
CREATE TABLE factures_fournisseurs (id INTEGER PRIMARY KEY, fournisseur_id INTEGER, numero TEXT NOT NULL, date_facture TEXT NOT NULL, total_ht REAL NOT NULL, total_ttc REAL, commentaire TEXT, maj TEXT NOT NULL);
CREATE TABLE factures_lignes (id INTEGER PRIMARY KEY, facture_id INTEGER NOT NULL, num_ligne INTEGER NOT NULL, cip13 TEXT NOT NULL, quantite INTEGER NOT NULL, unites_gratuites INTEGER, prix_unitaire_ht REAL NOT NULL, taux_tva REAL, montant_ht REAL, maj TEXT NOT NULL);
CREATE TABLE ventes_lignes (id INTEGER PRIMARY KEY, ticket TEXT NOT NULL, date_vente TEXT NOT NULL, cip13 TEXT NOT NULL, quantite INTEGER NOT NULL, prix_unitaire_ttc REAL NOT NULL, remise REAL, taux_tva REAL, honoraire REAL, avoir INTEGER NOT NULL DEFAULT 0, type_vente TEXT, cout_unitaire_ht REAL, maj TEXT NOT NULL);
CREATE INDEX produits_maj ON produits (maj, id);
CREATE INDEX fournisseurs_maj ON fournisseurs (maj, id);
CREATE INDEX stock_maj ON stock (maj, id);
CREATE INDEX achats_lignes_maj ON achats_lignes (maj, id);
CREATE INDEX factures_fournisseurs_maj ON factures_fournisseurs (maj, id);
CREATE INDEX factures_lignes_maj ON factures_lignes (maj, id);
CREATE INDEX ventes_lignes_maj ON ventes_lignes (maj, id);
`;

/** Column order of each reference table (also the CSV headers). */
export const REFERENCE_COLUMNS: Record<string, string[]> = {
  produits: ['id', 'cip13', 'libelle', 'taux_tva', 'prix_public', 'laboratoire', 'famille', 'maj'],
  fournisseurs: ['id', 'raison_sociale', 'type_fournisseur', 'maj'],
  stock: ['id', 'cip13', 'quantite', 'pamp', 'date_inventaire', 'jour_stock', 'maj'],
  achats_lignes: ['id', 'commande', 'fournisseur_id', 'statut', 'date_commande', 'date_reception', 'cip13', 'quantite', 'unites_gratuites', 'prix_achat_ht', 'prix_catalogue_ht', 'remise', 'taux_tva', 'commentaire', 'maj'],
  factures_fournisseurs: ['id', 'fournisseur_id', 'numero', 'date_facture', 'total_ht', 'total_ttc', 'commentaire', 'maj'],
  factures_lignes: ['id', 'facture_id', 'num_ligne', 'cip13', 'quantite', 'unites_gratuites', 'prix_unitaire_ht', 'taux_tva', 'montant_ht', 'maj'],
  ventes_lignes: ['id', 'ticket', 'date_vente', 'cip13', 'quantite', 'prix_unitaire_ttc', 'remise', 'taux_tva', 'honoraire', 'avoir', 'type_vente', 'cout_unitaire_ht', 'maj'],
};

type Row = (string | number | null)[];


interface Product {
  cip13: string;
  label: string;
  price: number;
  vat: number;
  lab: string;
}

/** Reads real presentations from the BDPM extract (CIP13, label, price); synthetic ones otherwise. */
function loadProducts(bdpmDir: string | undefined, n: number, rnd: () => number): Product[] {
  const out: Product[] = [];
  if (bdpmDir && existsSync(join(bdpmDir, 'CIS_CIP_bdpm.txt')) && existsSync(join(bdpmDir, 'CIS_bdpm.txt'))) {
    const names = new Map<string, [string, string]>();
    for (const line of readFileSync(join(bdpmDir, 'CIS_bdpm.txt'), 'utf8').replace(/^\uFEFF/, '').split('\n')) {
      const f = line.split('\t');
      if (f[0] && f[1]) names.set(f[0], [f[1].trim(), (f[10] ?? '').trim()]);
    }
    for (const line of readFileSync(join(bdpmDir, 'CIS_CIP_bdpm.txt'), 'latin1').split('\n')) {
      const f = line.split('\t');
      const cip = f[6]?.trim();
      const priceRaw = f[10]?.trim();
      if (!cip || !priceRaw || !normaliseProductCode(cip)) continue;
      const lastComma = priceRaw.lastIndexOf(',');
      const price = Number(priceRaw.slice(0, lastComma).replace(/[,.\s]/g, '') + '.' + priceRaw.slice(lastComma + 1));
      const [name, lab] = names.get(f[0]!) ?? ['PRODUIT', 'LABO'];
      if (!Number.isFinite(price) || price <= 0) continue;
      out.push({ cip13: cip, label: name.slice(0, 190), price, vat: 2.1, lab: lab.slice(0, 100) || 'LABO' });
      if (out.length >= n) break;
    }
  }
  for (let i = out.length; i < n; i++) {
    const base = `34009${String(1000000 + Math.floor(rnd() * 8999999)).slice(0, 7)}`;
    const cip13 = normaliseProductCode(base.slice(5))!;
    out.push({ cip13, label: `PARAPHARMACIE PRODUIT ${i}`, price: Math.round(200 + rnd() * 3000) / 100, vat: 20, lab: 'LABO PARA' });
  }
  return out;
}

/** Commercial family: BDPM presentations (2.1 % VAT) are reimbursable, the synthetic ones parapharmacy. */
const familyOf = (p: Product) => (p.vat === 2.1 ? 'reimbursable' : 'parapharmacy');

const pad = (n: number) => String(n).padStart(2, '0');
/** Local (Europe/Paris wall clock) timestamp text, as LGOs store it. */
const localTs = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};

export interface ReferenceOptions {
  saleLines: number;
  products?: number;
  purchaseLines?: number;
  seed?: number;
  bdpmDir?: string;
  /** First sale time (ms, read as a Paris wall clock). */
  startMs?: number;
}

/** Generates the reference tables' rows (deterministic for a seed). */
export function* referenceRows(opts: ReferenceOptions): Generator<[string, Row]> {
  const rnd = prng(opts.seed ?? 42);
  const products = loadProducts(opts.bdpmDir, opts.products ?? 500, rnd);
  const start = opts.startMs ?? Date.UTC(2025, 0, 2, 8, 0, 0);
  const maj0 = localTs(start);
  for (let i = 0; i < products.length; i++) {
    const p = products[i]!;
    yield ['produits', [i + 1, p.cip13, p.label, p.vat, p.price, p.lab, familyOf(p), maj0]];
  }
  const suppliers = ['OCP Répartition', 'CERP Rhin Rhône Méditerranée', 'Alliance Healthcare', 'Laboratoire Biogaran', 'Laboratoire Arrow'];
  for (let i = 0; i < suppliers.length; i++) yield ['fournisseurs', [i + 1, suppliers[i]!, i < 3 ? 'grossiste' : 'laboratoire', maj0]];
  for (let i = 0; i < products.length; i++) {
    const p = products[i]!;
    yield ['stock', [i + 1, p.cip13, Math.floor(rnd() * 40), Math.round(p.price * 0.7 * 100) / 100, maj0, maj0.slice(0, 10), maj0]];
  }
  const purchases = opts.purchaseLines ?? Math.max(10, Math.floor(opts.saleLines / 10));
  for (let i = 0; i < purchases; i++) {
    const p = products[Math.floor(rnd() * products.length)]!;
    const t = localTs(start + i * 60_000);
    const net = Math.round(p.price * 0.68 * 100) / 100;
    yield ['achats_lignes', [i + 1, `CMD-${1000 + Math.floor(i / 20)}`, 1 + (i % 3), 'received', t.slice(0, 10), t, p.cip13, 1 + Math.floor(rnd() * 20), i % 7 === 0 ? 1 : 0, net, Math.max(net, Math.round(p.price * 0.72 * 100) / 100), 0, p.vat, i % 50 === 0 ? 'livraison partielle' : null, t]];
  }
  // Supplier invoices and their lines (own PRNG, so the other tables do not depend on them);
  // the header's totals are the sums of its lines.
  const irnd = prng((opts.seed ?? 42) ^ 0x1f4c7);
  let lineId = 0;
  for (let i = 0; i < Math.max(1, Math.floor(purchases / 20)); i++) {
    const t = localTs(start + i * 3_600_000);
    const lines: Row[] = [];
    let htCents = 0;
    let ttcCents = 0;
    for (let n = 1, count = 1 + Math.floor(irnd() * 4); n <= count; n++) {
      const p = products[Math.floor(irnd() * products.length)]!;
      const q = 1 + Math.floor(irnd() * 30);
      const unitCents = Math.round(p.price * 68);
      const amount = q * unitCents;
      htCents += amount;
      ttcCents += Math.round(amount * (1 + p.vat / 100));
      lines.push([++lineId, i + 1, n, p.cip13, q, n % 3 === 0 ? 1 : 0, unitCents / 100, p.vat, amount / 100, t]);
    }
    yield ['factures_fournisseurs', [i + 1, 1 + (i % 3), `FAC-2025-${String(i + 1).padStart(5, '0')}`, t.slice(0, 10), htCents / 100, ttcCents / 100, null, t]];
    for (const l of lines) yield ['factures_lignes', l];
  }
  let ticket = 0;
  let left = 0;
  for (let i = 0; i < opts.saleLines; i++) {
    if (left === 0) {
      ticket++;
      left = 1 + Math.floor(rnd() * 3);
    }
    left--;
    const p = products[Math.floor(rnd() * products.length)]!;
    const t = localTs(start + ticket * 7_000);
    const credit = i % 500 === 499 ? 1 : 0;
    const family = familyOf(p);
    yield ['ventes_lignes', [i + 1, `T${ticket}`, t, p.cip13, credit ? -1 : 1 + Math.floor(rnd() * 2), p.price, 0, p.vat, p.vat === 2.1 ? 1.02 : 0, credit, family === 'reimbursable' ? 'prescription' : 'parapharmacy', Math.round(p.price * 0.7 * 100) / 100, t]];
  }
}

/** Writes the reference LGO as a SQLite file. Returns the row count per table. */
export async function writeReferenceSqlite(path: string, opts: ReferenceOptions, extraSql = ''): Promise<Record<string, number>> {
  const { default: Database } = await import('better-sqlite3');
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = DELETE');
  db.exec(REFERENCE_SCHEMA_SQL);
  const stmts = new Map(Object.entries(REFERENCE_COLUMNS).map(([t, cols]) => [t, db.prepare(`INSERT INTO ${t} (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`)]));
  const counts: Record<string, number> = {};
  const insertAll = db.transaction(() => {
    for (const [table, row] of referenceRows(opts)) {
      stmts.get(table)!.run(...row);
      counts[table] = (counts[table] ?? 0) + 1;
    }
  });
  insertAll();
  if (extraSql) db.exec(extraSql);
  db.close();
  return counts;
}

/** CSV-quotes one field (always quotes text, doubles quotes). */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  return `"${v.replace(/"/g, '""')}"`;
}

/** Writes the reference LGO as a folder of CSV exports (`;`-separated, header row). */
export async function writeReferenceCsv(dir: string, opts: ReferenceOptions): Promise<Record<string, number>> {
  mkdirSync(dir, { recursive: true });
  const streams = new Map<string, ReturnType<typeof createWriteStream>>();
  const counts: Record<string, number> = {};
  for (const [t, cols] of Object.entries(REFERENCE_COLUMNS)) {
    writeFileSync(join(dir, `${t}.csv`), cols.join(';') + '\n');
    streams.set(t, createWriteStream(join(dir, `${t}.csv`), { flags: 'a' }));
  }
  for (const [table, row] of referenceRows(opts)) {
    const s = streams.get(table)!;
    if (!s.write(row.map(csvField).join(';') + '\n')) await once(s, 'drain');
    counts[table] = (counts[table] ?? 0) + 1;
  }
  await Promise.all([...streams.values()].map((s) => new Promise((r) => s.end(r))));
  return counts;
}
