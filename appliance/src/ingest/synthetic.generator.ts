import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ean13CheckDigit } from '../catalogue/product-code.js';
import type { RawBatch } from './ingest.schemas.js';
import { prng } from '../../../agent/src/reference/prng.js';

export { prng };


function hashSeed(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('|')).digest().readUInt32LE(0);
}

/** One product of a synthetic pharmacy's assortment. */
interface Item {
  code: string;
  family: 'reimbursable' | 'non_reimbursable' | 'parapharmacy';
  vat: number;
  priceTtc: number;
  costHt: number;
  generic: boolean;
  /** Popularity weight. */
  weight: number;
  /** In stock but never sold (dormant stock). */
  dormant: boolean;
}

/** The shared pools the assortment is drawn from, built once from the BDPM catalogue. */
export interface SyntheticCatalogue {
  /** Generic groups with a reference and at least one generic, both priced. */
  groups: { reference: Item; generics: Item[] }[];
  reimbursable: Item[];
  otc: Item[];
  para: (Item & { label: string })[];
}

const SUPPLIERS = [
  { sourceId: 'GR-OCP', name: 'OCP Répartition', kind: 'wholesaler' },
  { sourceId: 'GR-ALLIANCE', name: 'Alliance Healthcare', kind: 'wholesaler' },
  { sourceId: 'GR-CERP', name: 'CERP Rhin Rhône Méditerranée', kind: 'wholesaler' },
  { sourceId: 'LAB-GEN', name: 'Laboratoire génériques (direct)', kind: 'lab' },
  { sourceId: 'LAB-DERMO', name: 'Laboratoire dermo-cosmétique (direct)', kind: 'lab' },
] as const;

const PARA_LABELS = ['Crème hydratante', 'Écran solaire SPF50', 'Shampooing doux', 'Baume à lèvres', 'Gel nettoyant', 'Sérum anti-âge',
  'Lait corporel', 'Complément vitamine C', 'Spray nasal eau de mer', 'Pansements', 'Brosse à dents souple', 'Dentifrice sensibilité'];

/** Reads the BDPM-based pools (the catalogue must have been imported). */
export async function loadSyntheticCatalogue(db: DataSource): Promise<SyntheticCatalogue> {
  const rows = (await db.query(
    `SELECT code, family, price_ttc_cents AS price, generic_group_id AS grp, generic_type AS gtype FROM products
     WHERE marketed AND ((family = 'reimbursable' AND price_ttc_cents BETWEEN 150 AND 20000) OR family = 'non_reimbursable')
     ORDER BY code`,
  )) as { code: string; family: 'reimbursable' | 'non_reimbursable'; price: number | null; grp: number | null; gtype: number | null }[];
  if (rows.length < 200) throw new Error('catalogue BDPM absent ou trop petit : lancer d’abord `appliance catalogue import`');
  const r = prng(42);
  const item = (x: (typeof rows)[number]): Item => {
    const generic = x.gtype !== null && x.gtype !== 0;
    if (x.family === 'reimbursable') {
      const ht = x.price! / 1.021;
      return { code: x.code, family: 'reimbursable', vat: 2.1, priceTtc: x.price!, costHt: Math.round(ht * (generic ? 0.55 : 0.74)), generic, weight: 0.2 + r() ** 3 * 5, dormant: false };
    }
    const price = 290 + Math.round(r() * 1400);
    return { code: x.code, family: 'non_reimbursable', vat: 10, priceTtc: price, costHt: Math.round((price / 1.1) * 0.62), generic, weight: 0.2 + r() ** 3 * 4, dormant: false };
  };
  const byGroup = new Map<number, { reference?: Item; generics: Item[] }>();
  const reimbursable: Item[] = [];
  const otc: Item[] = [];
  for (const x of rows) {
    const it = item(x);
    if (x.family === 'non_reimbursable') otc.push(it);
    else if (x.grp !== null) {
      const g = byGroup.get(x.grp) ?? { generics: [] };
      if (x.gtype === 0) g.reference ??= it;
      else if (x.gtype === 1) g.generics.push(it);
      byGroup.set(x.grp, g);
    } else reimbursable.push(it);
  }
  const groups = [...byGroup.values()].filter((g): g is { reference: Item; generics: Item[] } => !!g.reference && g.generics.length > 0);
  const para = Array.from({ length: 300 }, (_, i) => {
    const first12 = `376${String(1_000_000_000 + i * 7919).slice(1)}`;
    const price = 390 + Math.round(r() * 2600);
    return {
      code: first12 + String(ean13CheckDigit(first12)),
      label: `${PARA_LABELS[i % PARA_LABELS.length]} ${i + 1}`,
      family: 'parapharmacy' as const,
      vat: 20,
      priceTtc: price,
      costHt: Math.round((price / 1.2) * 0.55),
      generic: false,
      weight: 0.2 + r() ** 3 * 3,
      dormant: false,
    };
  });
  return { groups, reimbursable, otc, para };
}

function pickWeighted<T extends { weight: number }>(items: T[], total: number, r: () => number): T {
  let x = r() * total;
  for (const it of items) {
    x -= it.weight;
    if (x <= 0) return it;
  }
  return items[items.length - 1]!;
}

const sum = (xs: { weight: number }[]) => xs.reduce((a, b) => a + b.weight, 0);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Options of a synthetic history. */
export interface SyntheticOptions {
  /** Average tickets per opening day (default 120). */
  ticketsPerDay?: number;
  /** Generation stops at this day (inclusive, YYYY-MM-DD): the demo uses today. */
  until?: string;
}

/**
 * One pharmacy's synthetic commercial history on the BDPM catalogue: its own
 * assortment (generic groups with a substitution rate, other reimbursable drugs,
 * OTC, parapharmacy, a few never-sold dormant items), seasonal daily sales with
 * credit notes and the occasional off-price or below-cost line, daily wholesaler
 * orders, monthly direct lab orders with discounts and free units (some above the
 * regulatory cap), monthly invoices with the sha256 of their source, and month-end
 * stock. Deterministic in (seed, month): re-generating gives identical batches.
 */
export class SyntheticPharmacy {
  private readonly assortment: { groups: SyntheticCatalogue['groups']; reimb: Item[]; otc: Item[]; para: (Item & { label: string })[]; dormant: Item[] };
  private readonly substitution: number;
  private readonly size: number;
  private readonly groupPicks: { weight: number; g: SyntheticCatalogue['groups'][number] }[];

  constructor(private readonly cat: SyntheticCatalogue, private readonly seed: number, private readonly opts: SyntheticOptions = {}) {
    const r = prng(hashSeed('assortment', seed));
    const take = <T>(xs: T[], n: number) => xs.filter(() => r() < Math.min(1, n / Math.max(1, xs.length)));
    this.size = 0.7 + r() * 0.6;
    this.substitution = 0.7 + r() * 0.22;
    const reimb = take(cat.reimbursable, 350);
    const dormant = reimb.splice(0, Math.max(3, Math.round(reimb.length * 0.04))).map((x) => ({ ...x, dormant: true }));
    this.assortment = { groups: take(cat.groups, 220), reimb, otc: take(cat.otc, 120), para: take(cat.para, 150), dormant };
    this.groupPicks = this.assortment.groups.map((g) => ({ weight: g.reference.weight, g }));
  }

  private daysOf(month: string): { days: string[]; complete: boolean } {
    const [y, m] = month.split('-').map(Number) as [number, number];
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const until = this.opts.until ?? '9999-12-31';
    const days: string[] = [];
    for (let d = 1; d <= last; d++) {
      const day = `${month}-${pad(d)}`;
      if (day <= until) days.push(day);
    }
    return { days, complete: days.length === last };
  }

  /** The batch id of a month (cheap: lets a caller skip months already ingested). */
  batchId(month: string): string | null {
    const { days, complete } = this.daysOf(month);
    if (!days.length) return null;
    return `synth-${this.seed}-${month}${complete ? '' : `-to${days[days.length - 1]!.slice(8)}`}`;
  }

  /** The batch of one calendar month (YYYY-MM), up to `until` when that falls inside it. */
  month(month: string): { batchId: string; batch: RawBatch } | null {
    const { days } = this.daysOf(month);
    const batchId = this.batchId(month);
    if (!batchId) return null;
    const sales: Record<string, unknown>[] = [];
    const purchases: Record<string, unknown>[] = [];
    const sold = new Map<string, { item: Item; units: number }>();
    const pending = new Map<string, { item: Item; units: number }>();
    for (const day of days) {
      this.day(day, sales, sold, pending);
      const dow = new Date(`${day}T12:00:00Z`).getUTCDay();
      if (dow === 2 || dow === 5 || day === days[days.length - 1]) this.wholesalerOrder(day, pending, purchases);
    }
    this.labOrder(month, days[0]!, sold, purchases);
    const invoices = this.invoices(month, days[days.length - 1]!, purchases);
    const stockDay = days[days.length - 1]!;
    const r = prng(hashSeed('stock', this.seed, stockDay));
    // Month-end stock of what is on the shelf (a product out of stock has no line).
    const stock = [...this.allItems()]
      .map((it) => {
        const units = sold.get(it.code)?.units ?? 0;
        return { snapshotOn: stockDay, productCode: it.code, quantity: it.dormant ? 1 + Math.floor(r() * 5) : Math.round(units * (0.3 + r() * 0.8)), wacHtCents: it.costHt };
      })
      .filter((x) => x.quantity > 0);
    return {
      batchId,
      batch: {
        suppliers: [...SUPPLIERS],
        products: this.assortment.para.map((p) => ({ code: p.code, label: p.label, family: 'parapharmacy', vatRate: 20 })),
        sales,
        purchases,
        invoices,
        stock,
      },
    };
  }

  private *allItems(): Generator<Item> {
    for (const g of this.assortment.groups) {
      yield g.reference;
      yield* g.generics;
    }
    yield* this.assortment.reimb;
    yield* this.assortment.dormant;
    yield* this.assortment.otc;
    yield* this.assortment.para;
  }

  private day(day: string, sales: Record<string, unknown>[], sold: Map<string, { item: Item; units: number }>, pending: Map<string, { item: Item; units: number }>): void {
    const date = new Date(`${day}T12:00:00Z`);
    const dow = date.getUTCDay();
    if (dow === 0) return; // closed on Sundays
    const month = date.getUTCMonth();
    const r = prng(hashSeed('day', this.seed, day));
    // Winter epidemics, quieter August; parapharmacy peaks before summer.
    const season = [1.18, 1.15, 1.05, 0.98, 0.95, 0.97, 0.92, 0.8, 0.98, 1.02, 1.08, 1.15][month]!;
    const paraSeason = [0.8, 0.8, 0.9, 1.0, 1.2, 1.4, 1.4, 1.1, 0.9, 0.9, 0.9, 1.3][month]!;
    const tickets = Math.round((this.opts.ticketsPerDay ?? 120) * this.size * season * (dow === 6 ? 0.75 : 1) * (0.85 + r() * 0.3));
    const a = this.assortment;
    const reimbTotal = sum(a.reimb);
    const otcTotal = sum(a.otc);
    const paraTotal = sum(a.para);
    const groupTotal = a.groups.reduce((s, g) => s + g.reference.weight, 0);
    const stamp = day.replace(/-/g, '');
    const today = new Map<string, { item: Item; units: number }>();
    // Every month has at least one of each anomaly to find: a promotion below cost on
    // the 15th, a reimbursable drug off its BDPM price on the 20th (plus random ones).
    let promoDue = day.endsWith('-15');
    let offPriceDue = day.endsWith('-20');
    for (let t = 0; t < tickets; t++) {
      const ticketId = `T${stamp}-${t}`;
      const minute = 9 * 60 + Math.floor(r() * 600);
      const soldAt = `${day}T${pad(Math.floor(minute / 60))}:${pad(minute % 60)}:00+01:00`;
      const kind = r();
      const saleType = kind < 0.6 ? 'prescription' : kind < 0.85 - (paraSeason - 1) * 0.1 ? 'otc' : 'parapharmacy';
      const creditNote = r() < 0.004;
      const nLines = saleType === 'prescription' ? 1 + Math.floor(r() * 3.2) : 1 + Math.floor(r() * 1.6);
      for (let l = 0; l < nLines; l++) {
        let item: Item;
        if (saleType === 'prescription') {
          if (r() < 0.55) {
            const g = pickWeighted(this.groupPicks, groupTotal, r).g;
            item = r() < this.substitution ? g.generics[Math.floor(r() * g.generics.length)]! : g.reference;
          } else item = pickWeighted(a.reimb, reimbTotal, r);
        } else item = saleType === 'otc' ? pickWeighted(a.otc, otcTotal, r) : pickWeighted(a.para, paraTotal, r);
        const qty = (r() < 0.8 ? 1 : r() < 0.8 ? 2 : 3) * (creditNote ? -1 : 1);
        let price = item.priceTtc;
        if (item.family === 'reimbursable' && !creditNote && (r() < 0.002 || offPriceDue)) {
          price += 10; // off the BDPM price
          offPriceDue = false;
        }
        if (item.family === 'parapharmacy' && !creditNote && (r() < 0.01 || promoDue)) {
          price = Math.round(item.costHt * 1.2 * 0.9); // promotion below cost
          promoDue = false;
        }
        sales.push({
          sourceId: `S${stamp}-${t}-${l}`,
          ticketId,
          soldAt,
          productCode: item.code,
          quantity: qty,
          unitPriceTtcCents: price,
          vatRate: item.vat,
          unitCostHtCents: item.costHt,
          feeTtcCents: saleType === 'prescription' && item.family === 'reimbursable' ? 102 * qty : 0,
          saleType,
        });
        if (qty > 0) {
          const e = today.get(item.code) ?? { item, units: 0 };
          e.units += qty;
          today.set(item.code, e);
        }
      }
    }
    for (const { item, units } of today.values()) {
      for (const m of [sold, pending]) {
        const e = m.get(item.code) ?? { item, units: 0 };
        e.units += units;
        m.set(item.code, e);
      }
    }
  }

  /** Twice-weekly wholesaler order for what was sold since the last one (generics come from the monthly lab order). */
  private wholesalerOrder(day: string, pending: Map<string, { item: Item; units: number }>, purchases: Record<string, unknown>[]): void {
    const r = prng(hashSeed('order', this.seed, day));
    const stamp = day.replace(/-/g, '');
    let n = 0;
    for (const { item, units } of pending.values()) {
      if (item.generic) continue;
      const supplier = r() < 0.8 ? SUPPLIERS[0] : r() < 0.5 ? SUPPLIERS[1] : SUPPLIERS[2];
      const discount = item.family === 'reimbursable' ? (r() < 0.03 ? 3 : 2.5) : item.family === 'non_reimbursable' ? 8 + Math.floor(r() * 8) : 10 + Math.floor(r() * 10);
      const list = Math.round(item.costHt / (1 - discount / 100));
      purchases.push({
        sourceId: `A${stamp}-${n++}`,
        supplierSourceId: item.family === 'parapharmacy' && r() < 0.3 ? SUPPLIERS[4].sourceId : supplier.sourceId,
        productCode: item.code,
        orderRef: `CMD${stamp}`,
        status: 'received',
        orderedOn: day,
        receivedOn: day,
        quantity: units,
        freeUnits: 0,
        listPriceHtCents: list,
        discountPct: discount,
        netPriceHtCents: item.costHt,
      });
    }
    pending.clear();
  }

  private labOrder(month: string, first: string, sold: Map<string, { item: Item; units: number }>, purchases: Record<string, unknown>[]): void {
    const r = prng(hashSeed('lab', this.seed, month));
    let n = 0;
    for (const { item, units } of sold.values()) {
      if (!item.generic) continue;
      const discount = r() < 0.1 ? 35 + Math.floor(r() * 6) : 22 + Math.floor(r() * 8); // some above the 30 % cap
      const free = units >= 10 && r() < 0.3 ? Math.floor(units / 10) : 0;
      const net = item.costHt;
      purchases.push({
        sourceId: `L${month.replace('-', '')}-${n++}`,
        supplierSourceId: 'LAB-GEN',
        productCode: item.code,
        orderRef: `LAB${month.replace('-', '')}`,
        status: 'received',
        orderedOn: first,
        receivedOn: first,
        quantity: units,
        freeUnits: free,
        listPriceHtCents: Math.round(net / (1 - discount / 100)),
        discountPct: discount,
        netPriceHtCents: net,
      });
    }
  }

  private invoices(month: string, lastDay: string, purchases: Record<string, unknown>[]): Record<string, unknown>[] {
    const bySupplier = new Map<string, Record<string, unknown>[]>();
    for (const p of purchases) {
      const list = bySupplier.get(p.supplierSourceId as string);
      if (list) list.push(p);
      else bySupplier.set(p.supplierSourceId as string, [p]);
    }
    const vatOf = new Map([...this.allItems()].map((i) => [i.code, i.vat]));
    return [...bySupplier].map(([supplier, lines]) => {
      const perProduct = new Map<string, { q: number; free: number; amount: number; unit: number }>();
      for (const l of lines) {
        const e = perProduct.get(l.productCode as string) ?? { q: 0, free: 0, amount: 0, unit: l.netPriceHtCents as number };
        e.q += l.quantity as number;
        e.free += l.freeUnits as number;
        e.amount += (l.quantity as number) * (l.netPriceHtCents as number);
        perProduct.set(l.productCode as string, e);
      }
      const invLines = [...perProduct].map(([code, e], i) => ({
        lineNo: i + 1, productCode: code, quantity: e.q, freeUnits: e.free, unitPriceHtCents: e.unit, vatRate: vatOf.get(code) ?? 20, amountHtCents: e.amount,
      }));
      const ht = invLines.reduce((a, l) => a + l.amountHtCents, 0);
      const vat = invLines.reduce((a, l) => a + Math.round((l.amountHtCents * l.vatRate) / 100), 0);
      const id = `F-${supplier}-${month}`;
      return {
        sourceId: id,
        supplierSourceId: supplier,
        invoiceNumber: `${supplier.slice(0, 6)}-${month.replace('-', '')}`,
        issuedOn: lastDay,
        dueOn: null,
        totalHtCents: ht,
        totalVatCents: vat,
        totalTtcCents: ht + vat,
        fileSha256: createHash('sha256').update(JSON.stringify([id, invLines])).digest('hex'),
        lines: invLines,
      };
    });
  }
}

/** The `months` calendar months (YYYY-MM) ending with the month of `day`. */
export function monthsEndingAt(day: string, months: number): string[] {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return Array.from({ length: months }, (_, i) => {
    const d = new Date(Date.UTC(y, m - 1 - (months - 1 - i), 1));
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
  });
}
