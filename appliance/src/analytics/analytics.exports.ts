import type { ExportColumn } from './export.presenter.js';

// Column descriptions of every exportable table view (French headers for Excel).

type Row = Record<string, unknown>;
const col = (key: string, header: string, type: ExportColumn<Row>['type']): ExportColumn<Row> => ({ key, header, type });

/** Table views and their columns. */
export const EXPORT_VIEWS = {
  kpis: [
    col('kpi', 'Indicateur', 'text'),
    col('unit', 'Unité', 'text'),
    col('current', 'Période', 'decimal'),
    col('previous', 'Période précédente', 'decimal'),
    col('lastYear', 'Même période N-1', 'decimal'),
  ],
  monthly: [
    col('month', 'Mois', 'text'),
    col('caTtcCents', 'CA TTC (€)', 'cents'),
    col('caHtCents', 'CA HT (€)', 'cents'),
    col('marginHtCents', 'Marge brute HT (€)', 'cents'),
    col('tauxMarquePct', 'Taux de marque (%)', 'pct'),
    col('tickets', 'Tickets', 'int'),
  ],
  products: [
    col('productCode', 'Code produit', 'text'),
    col('label', 'Libellé', 'text'),
    col('family', 'Famille', 'text'),
    col('units', 'Unités', 'int'),
    col('caTtcCents', 'CA TTC (€)', 'cents'),
    col('caHtCents', 'CA HT (€)', 'cents'),
    col('costHtCents', 'Coût d’achat HT (€)', 'cents'),
    col('marginHtCents', 'Marge HT (€)', 'cents'),
    col('tauxMarquePct', 'Taux de marque (%)', 'pct'),
  ],
  purchases: [
    col('supplierId', 'Code fournisseur', 'text'),
    col('name', 'Fournisseur', 'text'),
    col('kind', 'Type', 'text'),
    col('lines', 'Lignes', 'int'),
    col('units', 'Unités facturées', 'int'),
    col('freeUnits', 'Unités gratuites', 'int'),
    col('listHtCents', 'Montant tarif HT (€)', 'cents'),
    col('netHtCents', 'Montant net HT (€)', 'cents'),
    col('effectiveDiscountPct', 'Remise effective (%)', 'pct'),
    col('overCapLines', 'Lignes au-delà du plafond', 'int'),
    col('overCapExcessHtCents', 'Dépassement du plafond HT (€)', 'cents'),
  ],
  dormant: [
    col('productCode', 'Code produit', 'text'),
    col('label', 'Libellé', 'text'),
    col('quantity', 'Quantité en stock', 'int'),
    col('wacHtCents', 'PMP HT (€)', 'cents'),
    col('valueHtCents', 'Valeur HT (€)', 'cents'),
    col('lastSale', 'Dernière vente', 'text'),
  ],
  anomalies: [
    col('kind', 'Anomalie', 'text'),
    col('soldAt', 'Date', 'date'),
    col('ticketId', 'Ticket', 'text'),
    col('productCode', 'Code produit', 'text'),
    col('label', 'Libellé', 'text'),
    col('quantity', 'Quantité', 'int'),
    col('unitPriceTtcCents', 'Prix unitaire TTC (€)', 'cents'),
    col('unitPriceHtCents', 'Prix unitaire HT (€)', 'cents'),
    col('unitCostHtCents', 'Coût unitaire HT (€)', 'cents'),
    col('bdpmPriceTtcCents', 'Prix BDPM TTC (€)', 'cents'),
  ],
  benchmark: [
    col('kpi', 'Indicateur', 'text'),
    col('q1', '1er quartile', 'decimal'),
    col('median', 'Médiane', 'decimal'),
    col('q3', '3e quartile', 'decimal'),
    col('value', 'Votre pharmacie', 'decimal'),
    col('rank', 'Rang', 'int'),
  ],
} satisfies Record<string, ExportColumn<Row>[]>;

export type ExportView = keyof typeof EXPORT_VIEWS;
