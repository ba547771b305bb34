import type { Router } from '@koa/router';
import { z } from 'zod';
import { audit } from '../audit/audit.service.js';
import { toCsv, toJsonExport, type ExportColumn } from '../analytics/export.presenter.js';
import { checkPeriod } from '../analytics/period.js';
import type { AppContext } from '../http/app-context.js';
import { currentTenant, defineRoute, requestActor } from '../http/route.js';
import { InvoiceRepository, type InvoiceRow } from './invoice.repository.js';

const MAX_ROWS = 5000;

/** Columns of the invoices view, French headers for the CSV export. */
const COLUMNS: ExportColumn<InvoiceRow>[] = [
  { key: 'issuedOn', header: 'Date', type: 'text' },
  { key: 'supplier', header: 'Fournisseur', type: 'text' },
  { key: 'invoiceNumber', header: 'Numéro', type: 'text' },
  { key: 'lines', header: 'Lignes', type: 'int' },
  { key: 'totalHtCents', header: 'Total HT (€)', type: 'cents' },
  { key: 'totalVatCents', header: 'TVA (€)', type: 'cents' },
  { key: 'totalTtcCents', header: 'Total TTC (€)', type: 'cents' },
  { key: 'dueOn', header: 'Échéance', type: 'text' },
];

/**
 * Supplier invoices of a pharmacy for a period (detail data: `pharmacy.read`), as
 * JSON for the table or as an audited CSV download, like the analytics views.
 */
export function registerInvoiceRoutes(router: Router, app: AppContext): void {
  const repo = new InvoiceRepository(app.db);
  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/invoices',
    permission: 'pharmacy.read',
    tenant: true,
    params: z.object({ pharmacyId: z.uuid() }),
    query: z.object({ from: z.iso.date(), to: z.iso.date(), format: z.enum(['json', 'csv']).optional() }),
    summary: 'Factures fournisseurs de la période (JSON ou CSV)',
    handler: async (ctx, { query }) => {
      const period = checkPeriod({ from: query.from, to: query.to });
      const rows = await repo.list(currentTenant(ctx).pharmacyId, period.from, period.to, MAX_ROWS);
      if (query.format === 'csv') {
        await audit.record(app.db, { ...requestActor(ctx), action: 'analytics.exported', targetType: 'export', targetId: 'invoices', details: { ...period, rows: rows.length } });
        ctx.type = 'text/csv; charset=utf-8';
        ctx.set('Content-Disposition', `attachment; filename="invoices-${period.from}_${period.to}.csv"`);
        ctx.body = toCsv(COLUMNS, rows);
        return undefined;
      }
      return { period, ...toJsonExport(COLUMNS, rows) };
    },
  });
}
