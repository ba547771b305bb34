import type { Router } from '@koa/router';
import { z } from 'zod';
import { audit } from '../audit/audit.service.js';
import type { AppContext } from '../http/app-context.js';
import { ValidationError } from '../http/errors.js';
import { currentTenant, currentUser, defineRoute, requestActor, type ApiContext } from '../http/route.js';
import { TenantAccessRepository } from '../tenancy/tenant-access.repository.js';
import { EXPORT_VIEWS, type ExportView } from './analytics.exports.js';
import type { KpiReport, Kpis } from './analytics.api.js';
import { AnalyticsService } from './analytics.service.js';
import { BenchmarkService } from './benchmark.service.js';
import { toCsv, toJsonExport } from './export.presenter.js';
import { trailingMonths, type Period } from './period.js';

const day = z.iso.date();
const periodQuery = z.object({ from: day.optional(), to: day.optional(), format: z.enum(['json', 'csv']).optional() });
const pharmacyParams = z.object({ pharmacyId: z.uuid() });

function periodOf(q: { from?: string; to?: string }, now: Date): Period {
  if (!q.from !== !q.to) throw new ValidationError([{ path: 'query.from', message: 'début et fin de période vont ensemble' }]);
  return q.from && q.to ? { from: q.from, to: q.to } : trailingMonths(now.toISOString().slice(0, 10), 12);
}

/** Sends a table view as JSON (default) or as a CSV download for Excel. */
async function table(app: AppContext, ctx: ApiContext, view: ExportView, format: 'json' | 'csv' | undefined, period: Period, rows: Record<string, unknown>[]) {
  const columns = EXPORT_VIEWS[view];
  if (format === 'csv') {
    // A file leaving the appliance: who exported what, for which pharmacy and period.
    await audit.record(app.db, { ...requestActor(ctx), action: 'analytics.exported', targetType: 'export', targetId: view, details: { ...period, rows: rows.length } });
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="${view}-${period.from}_${period.to}.csv"`);
    ctx.body = toCsv(columns, rows);
    return undefined;
  }
  return { period, ...toJsonExport(columns, rows) };
}

const KPI_ROWS: [keyof Kpis, string, '€' | '%' | 'nombre'][] = [
  ['caTtcCents', 'CA TTC', '€'],
  ['caHtCents', 'CA HT', '€'],
  ['marginHtCents', 'Marge brute HT (honoraires inclus)', '€'],
  ['tauxMarquePct', 'Taux de marque', '%'],
  ['tauxMargePct', 'Taux de marge', '%'],
  ['coefficient', 'Coefficient', 'nombre'],
  ['tickets', 'Tickets', 'nombre'],
  ['panierMoyenCents', 'Panier moyen TTC', '€'],
  ['genericSharePct', 'Part des génériques', '%'],
  ['feesTtcCents', 'Honoraires TTC', '€'],
];

function kpiRows(r: KpiReport): Record<string, unknown>[] {
  const v = (k: Kpis, key: keyof Kpis, unit: string) => {
    const x = k[key] as number | null;
    return x === null ? null : unit === '€' ? (x / 100).toFixed(2) : unit === '%' ? x.toFixed(2) : x;
  };
  return KPI_ROWS.map(([key, label, unit]) => ({
    kpi: label,
    unit,
    current: v(r.current, key, unit),
    previous: v(r.previous, key, unit),
    lastYear: v(r.lastYear, key, unit),
  }));
}

/**
 * The analytics API. Tenant routes read the pharmacy from the resolved tenant
 * (never from the query); aggregates need `pharmacy.aggregates`, detail views and
 * exports `pharmacy.read`; the groupement view is `group.read`.
 */
export function registerAnalyticsRoutes(router: Router, app: AppContext): void {
  const svc = new AnalyticsService(app.db);
  const bench = new BenchmarkService(app.db);
  const base = '/api/pharmacies/:pharmacyId/analytics';
  const now = () => app.clock.now();
  const pid = (ctx: ApiContext) => currentTenant(ctx).pharmacyId;

  defineRoute(router, app, {
    method: 'GET', path: `${base}/dashboard`, permission: 'pharmacy.aggregates', tenant: true, params: pharmacyParams, query: periodQuery,
    summary: 'Tableau de bord : KPI, comparaisons, série mensuelle, stock',
    handler: (ctx, { query }) => svc.dashboard(pid(ctx), periodOf(query, now())),
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/kpis`, permission: 'pharmacy.aggregates', tenant: true, params: pharmacyParams, query: periodQuery,
    summary: 'KPI de la période, période précédente et N-1',
    handler: async (ctx, { query }) => {
      const period = periodOf(query, now());
      const r = await svc.kpis(pid(ctx), period);
      return query.format === 'csv' ? table(app, ctx, 'kpis', 'csv', period, kpiRows(r)) : r;
    },
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/monthly`, permission: 'pharmacy.aggregates', tenant: true, params: pharmacyParams, query: periodQuery,
    summary: 'Série mensuelle',
    handler: async (ctx, { query }) => {
      const period = periodOf(query, now());
      return table(app, ctx, 'monthly', query.format, period, await svc.monthly(pid(ctx), period));
    },
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/products`, permission: 'pharmacy.read', tenant: true, params: pharmacyParams,
    query: periodQuery.extend({
      by: z.enum(['margin', 'revenue']).default('margin'),
      order: z.enum(['top', 'flop']).default('top'),
      limit: z.coerce.number().int().min(1).max(1000).default(50),
    }),
    summary: 'Produits : top et flop par marge ou CA',
    handler: async (ctx, { query }) => {
      const period = periodOf(query, now());
      return table(app, ctx, 'products', query.format, period, await svc.products(pid(ctx), period, query));
    },
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/purchases`, permission: 'pharmacy.read', tenant: true, params: pharmacyParams, query: periodQuery,
    summary: 'Achats par fournisseur, remises effectives, plafonds',
    handler: async (ctx, { query }) => {
      const period = periodOf(query, now());
      return table(app, ctx, 'purchases', query.format, period, await svc.purchasesBySupplier(pid(ctx), period));
    },
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/stock`, permission: 'pharmacy.read', tenant: true, params: pharmacyParams, query: periodQuery,
    summary: 'Valeur du stock, rotation, stock dormant',
    handler: (ctx, { query }) => svc.stock(pid(ctx), periodOf(query, now())),
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/dormant`, permission: 'pharmacy.read', tenant: true, params: pharmacyParams,
    query: periodQuery.extend({ months: z.coerce.number().int().min(1).max(36).default(6) }),
    summary: 'Stock dormant (aucune vente depuis N mois)',
    handler: async (ctx, { query }) => {
      const period = periodOf(query, now());
      return table(app, ctx, 'dormant', query.format, period, await svc.dormant(pid(ctx), period, query.months));
    },
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/anomalies`, permission: 'pharmacy.read', tenant: true, params: pharmacyParams, query: periodQuery,
    summary: 'Ventes à perte, médicaments remboursables hors prix BDPM',
    handler: async (ctx, { query }) => {
      const period = periodOf(query, now());
      return table(app, ctx, 'anomalies', query.format, period, await svc.anomalies(pid(ctx), period));
    },
  });
  defineRoute(router, app, {
    method: 'GET', path: `${base}/benchmark`, permission: 'pharmacy.aggregates', tenant: true, params: pharmacyParams, query: periodQuery,
    summary: 'Comparatif du groupement : médiane, quartiles, rang (sans identité des autres pharmacies)',
    handler: async (ctx, { query }) => {
      const period = periodOf(query, now());
      const r = await bench.forPharmacy(pid(ctx), period);
      return query.format === 'csv' ? table(app, ctx, 'benchmark', 'csv', period, r.kpis as unknown as Record<string, unknown>[]) : r;
    },
  });
  defineRoute(router, app, {
    method: 'PUT', path: `${base}/benchmark-consent`, permission: 'pharmacy.admin', tenant: true, params: pharmacyParams,
    body: z.strictObject({ granted: z.boolean() }),
    summary: 'Participation au comparatif du groupement (accord ou retrait)',
    handler: async (ctx, { body }) => {
      await svc.setBenchmarkConsent(pid(ctx), body.granted);
      await audit.record(app.db, { ...requestActor(ctx), action: 'analytics.benchmark_consent', targetType: 'pharmacy', targetId: pid(ctx), details: { granted: body.granted } });
      return { granted: body.granted };
    },
  });
  defineRoute(router, app, {
    method: 'GET', path: '/api/groupement/analytics/benchmark', permission: 'group.read', tenant: false, query: periodQuery,
    summary: 'Comparatif du groupement : agrégats ; identités seulement pour les pharmacies qui ont accordé le détail',
    handler: async (ctx, { query }) => {
      const user = currentUser(ctx);
      const period = periodOf(query, now());
      const detail = new Set(await new TenantAccessRepository(app.db.manager).grantedPharmacyIds(user.id, ['details']));
      const r = await bench.forGroupement(user.groupementId!, period, { revealPharmacyIds: detail });
      return query.format === 'csv' ? table(app, ctx, 'benchmark', 'csv', period, r.kpis as unknown as Record<string, unknown>[]) : r;
    },
  });
}
