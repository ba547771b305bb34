import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidCip7, productCodeKind } from './product-code.js';

/** One presentation of the BDPM, ready for the `products` table. */
export interface BdpmProduct {
  code: string;
  cip7: string;
  cis: string;
  label: string;
  lab: string | null;
  family: 'reimbursable' | 'non_reimbursable';
  vatRate: number;
  reimbursementRate: number | null;
  priceTtcCents: number | null;
  dispensingFeeCents: number | null;
  genericGroupId: number | null;
  genericType: 0 | 1 | 2 | 4 | null;
  marketed: boolean;
}

/** A generic group of the BDPM répertoire. */
export interface BdpmGenericGroup {
  id: number;
  label: string;
}

/** What a BDPM directory parses into, with the lines it had to reject and why. */
export interface BdpmCatalogue {
  products: BdpmProduct[];
  groups: BdpmGenericGroup[];
  rejected: { file: string; line: number; reason: string }[];
  /** CIP7 whose last digit is not the modulo-11 key (kept: the CIP13 is authoritative). */
  cip7KeyMismatches: number;
}

/**
 * BDPM price: comma decimal, and sometimes commas as thousands separators too
 * ("2,850,07" is 2 850,07 €): only the last comma is the decimal point.
 * Returns cents, or null for an empty field.
 */
export function parseBdpmPrice(raw: string): number | null {
  const s = raw.trim();
  if (s === '') return null;
  const last = s.lastIndexOf(',');
  const euros = last < 0 ? s : `${s.slice(0, last).replace(/[,.\s]/g, '')}.${s.slice(last + 1)}`;
  if (!/^[0-9]+(\.[0-9]{1,2})?$/.test(euros)) throw new Error(`prix illisible « ${raw} »`);
  const [whole, frac = ''] = euros.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

/** "65%", "65 %" → 65; empty → null. */
export function parseRate(raw: string): number | null {
  const s = raw.replace(/\s/g, '');
  if (s === '') return null;
  const m = /^([0-9]{1,3})%$/.exec(s);
  if (!m || Number(m[1]) > 100) throw new Error(`taux illisible « ${raw} »`);
  return Number(m[1]);
}

const GENERIC_TYPES = new Set([0, 1, 2, 4]);

function lines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
}

/**
 * Reads the three BDPM files of `dir` with their own encodings: CIS_bdpm.txt is
 * UTF-8 with a BOM, CIS_CIP_bdpm.txt is ISO-8859-1, CIS_GENER_bdpm.txt is UTF-8.
 */
export function parseBdpmDirectory(dir: string): BdpmCatalogue {
  const rejected: BdpmCatalogue['rejected'] = [];
  const specialties = new Map<string, { name: string; lab: string | null }>();
  lines(readFileSync(join(dir, 'CIS_bdpm.txt')).toString('utf8')).forEach((l, i) => {
    const f = l.split('\t');
    if (f.length < 11 || !/^[0-9]{8}$/.test(f[0]!)) {
      rejected.push({ file: 'CIS_bdpm.txt', line: i + 1, reason: 'ligne mal formée' });
      return;
    }
    const lab = (f[10] ?? '').split(';')[0]!.trim();
    specialties.set(f[0]!, { name: f[1]!.trim(), lab: lab || null });
  });

  const groups = new Map<number, string>();
  const genericOfCis = new Map<string, { group: number; type: 0 | 1 | 2 | 4 }>();
  lines(readFileSync(join(dir, 'CIS_GENER_bdpm.txt')).toString('utf8')).forEach((l, i) => {
    const f = l.split('\t');
    const group = Number(f[0]);
    const type = Number(f[3]);
    if (f.length < 5 || !Number.isInteger(group) || !/^[0-9]{8}$/.test(f[2] ?? '') || !GENERIC_TYPES.has(type)) {
      rejected.push({ file: 'CIS_GENER_bdpm.txt', line: i + 1, reason: 'ligne mal formée' });
      return;
    }
    if (!groups.has(group)) groups.set(group, f[1]!.trim());
    if (!genericOfCis.has(f[2]!)) genericOfCis.set(f[2]!, { group, type: type as 0 | 1 | 2 | 4 });
  });

  const products = new Map<string, BdpmProduct>();
  let cip7KeyMismatches = 0;
  lines(readFileSync(join(dir, 'CIS_CIP_bdpm.txt')).toString('latin1')).forEach((l, i) => {
    const f = l.split('\t');
    const reject = (reason: string) => rejected.push({ file: 'CIS_CIP_bdpm.txt', line: i + 1, reason });
    if (f.length < 12) return reject('ligne mal formée');
    const [cis, cip7, presentation, , marketing, , cip13, , rate, price, , fee] = f as string[];
    if (productCodeKind(cip13!) !== 'cip13') return reject(`CIP13 invalide « ${cip13} »`);
    if (!/^[0-9]{7}$/.test(cip7!) || cip13!.slice(5, 12) !== cip7) return reject(`CIP7 « ${cip7} » incohérent avec le CIP13`);
    if (!isValidCip7(cip7!)) cip7KeyMismatches++;
    let reimbursementRate: number | null;
    let priceTtcCents: number | null;
    let dispensingFeeCents: number | null;
    try {
      reimbursementRate = parseRate(rate!);
      priceTtcCents = parseBdpmPrice(price!);
      dispensingFeeCents = parseBdpmPrice(fee!);
    } catch (err) {
      return reject((err as Error).message);
    }
    const spec = specialties.get(cis!);
    const generic = genericOfCis.get(cis!);
    const reimbursable = reimbursementRate !== null && priceTtcCents !== null;
    const label = spec ? `${spec.name} — ${presentation!.trim()}` : presentation!.trim();
    products.set(cip13!, {
      code: cip13!,
      cip7: cip7!,
      cis: cis!,
      label: label.slice(0, 500),
      lab: spec?.lab ?? null,
      family: reimbursable ? 'reimbursable' : 'non_reimbursable',
      vatRate: reimbursable ? 2.1 : 10,
      reimbursementRate,
      priceTtcCents,
      dispensingFeeCents,
      genericGroupId: generic?.group ?? null,
      genericType: generic?.type ?? null,
      marketed: /^Déclaration de commercialisation/.test(marketing!),
    });
  });
  return {
    products: [...products.values()],
    groups: [...groups].map(([id, label]) => ({ id, label })),
    rejected,
    cip7KeyMismatches,
  };
}
