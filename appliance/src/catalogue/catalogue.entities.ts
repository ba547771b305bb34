import { EntitySchema } from 'typeorm';

/** A presentation of the shared catalogue (BDPM), keyed by its CIP13. */
export interface Product {
  code: string;
  codeKind: 'cip13' | 'acl13' | 'ean13';
  cip7: string | null;
  cis: string | null;
  label: string;
  lab: string | null;
  family: 'reimbursable' | 'non_reimbursable' | 'parapharmacy';
  vatRate: string;
  reimbursementRate: number | null;
  priceTtcCents: number | null;
  dispensingFeeCents: number | null;
  genericGroupId: number | null;
  genericType: number | null;
  marketed: boolean;
  source: 'bdpm' | 'lgo';
  updatedAt: Date;
}

/** A generic group of the BDPM répertoire. */
export interface GenericGroup {
  id: number;
  label: string;
}

/** A product only one pharmacy's LGO knows (parapharmacy EANs). */
export interface PharmacyProduct {
  pharmacyId: string;
  code: string;
  label: string;
  family: Product['family'];
  vatRate: string;
  lab: string | null;
  updatedAt: Date;
}

/** A dated regulatory parameter (VAT rate, discount cap, margin band, dispensing fee). */
export interface RegulatoryParameter {
  id: number;
  kind: 'vat_rate' | 'discount_cap' | 'margin_band' | 'dispensing_fee';
  code: string;
  validFrom: string;
  validTo: string | null;
  value: string;
  lowerCents: string | null;
  upperCents: string | null;
  label: string;
}

export const ProductEntity = new EntitySchema<Product>({
  name: 'Product',
  tableName: 'products',
  columns: {
    code: { type: 'char', length: 13, primary: true },
    codeKind: { name: 'code_kind', type: 'text' },
    cip7: { type: 'char', length: 7, nullable: true },
    cis: { type: 'char', length: 8, nullable: true },
    label: { type: 'text' },
    lab: { type: 'text', nullable: true },
    family: { type: 'text' },
    vatRate: { name: 'vat_rate', type: 'numeric', precision: 4, scale: 2 },
    reimbursementRate: { name: 'reimbursement_rate', type: 'smallint', nullable: true },
    priceTtcCents: { name: 'price_ttc_cents', type: 'integer', nullable: true },
    dispensingFeeCents: { name: 'dispensing_fee_cents', type: 'integer', nullable: true },
    genericGroupId: { name: 'generic_group_id', type: 'integer', nullable: true },
    genericType: { name: 'generic_type', type: 'smallint', nullable: true },
    marketed: { type: 'boolean' },
    source: { type: 'text' },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
});

export const GenericGroupEntity = new EntitySchema<GenericGroup>({
  name: 'GenericGroup',
  tableName: 'generic_groups',
  columns: {
    id: { type: 'integer', primary: true },
    label: { type: 'text' },
  },
});

export const PharmacyProductEntity = new EntitySchema<PharmacyProduct>({
  name: 'PharmacyProduct',
  tableName: 'pharmacy_products',
  columns: {
    pharmacyId: { name: 'pharmacy_id', type: 'uuid', primary: true },
    code: { type: 'char', length: 13, primary: true },
    label: { type: 'text' },
    family: { type: 'text' },
    vatRate: { name: 'vat_rate', type: 'numeric', precision: 4, scale: 2 },
    lab: { type: 'text', nullable: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
});

export const RegulatoryParameterEntity = new EntitySchema<RegulatoryParameter>({
  name: 'RegulatoryParameter',
  tableName: 'regulatory_parameters',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    kind: { type: 'text' },
    code: { type: 'text' },
    validFrom: { name: 'valid_from', type: 'date' },
    validTo: { name: 'valid_to', type: 'date', nullable: true },
    value: { type: 'numeric', precision: 12, scale: 4 },
    lowerCents: { name: 'lower_cents', type: 'bigint', nullable: true },
    upperCents: { name: 'upper_cents', type: 'bigint', nullable: true },
    label: { type: 'text' },
  },
});
