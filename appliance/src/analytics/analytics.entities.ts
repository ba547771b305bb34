import { EntitySchema } from 'typeorm';

/** One cell of the daily sales rollup (pharmacy × day × family × VAT × sale type × generic kind). */
export interface SalesRollup {
  pharmacyId: string;
  day: string;
  family: string;
  vatRate: string;
  saleType: string;
  genericKind: string;
  lines: number;
  quantity: string;
  soldQuantity: string;
  amountTtcCents: string;
  amountHtCents: string;
  costHtCents: string;
  marginHtCents: string;
  feeTtcCents: string;
  salesTtcCents: string;
}

/** A pharmacy that granted the groupement benchmark (aggregates only). */
export interface BenchmarkConsent {
  pharmacyId: string;
  grantedAt: Date;
}

const big = { type: 'bigint' } as const;

export const SalesRollupEntity = new EntitySchema<SalesRollup>({
  name: 'SalesRollup',
  tableName: 'sales_rollups',
  columns: {
    pharmacyId: { name: 'pharmacy_id', type: 'uuid', primary: true },
    day: { type: 'date', primary: true },
    family: { type: 'text', primary: true },
    vatRate: { name: 'vat_rate', type: 'numeric', precision: 4, scale: 2, primary: true },
    saleType: { name: 'sale_type', type: 'text', primary: true },
    genericKind: { name: 'generic_kind', type: 'text', primary: true },
    lines: { type: 'integer' },
    quantity: big,
    soldQuantity: { name: 'sold_quantity', ...big },
    amountTtcCents: { name: 'amount_ttc_cents', ...big },
    amountHtCents: { name: 'amount_ht_cents', ...big },
    costHtCents: { name: 'cost_ht_cents', ...big },
    marginHtCents: { name: 'margin_ht_cents', ...big, insert: false, update: false },
    feeTtcCents: { name: 'fee_ttc_cents', ...big },
    salesTtcCents: { name: 'sales_ttc_cents', ...big },
  },
});

export const BenchmarkConsentEntity = new EntitySchema<BenchmarkConsent>({
  name: 'BenchmarkConsent',
  tableName: 'benchmark_consents',
  columns: {
    pharmacyId: { name: 'pharmacy_id', type: 'uuid', primary: true },
    grantedAt: { name: 'granted_at', type: 'timestamptz' },
  },
});
