import type { Router } from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { z } from 'zod';
import type { AppContext } from '../http/app-context.js';
import { AppError, ValidationError } from '../http/errors.js';
import { EXPORT_VIEWS, type ExportView } from './analytics.exports.js';
import { AnalyticsService, type KpiReport, type Kpis } from './analytics.service.js';
import { BenchmarkService } from './benchmark.service.js';
import { toCsv, toJsonExport } from './export.presenter.js';
import { trailingMonths, type Period } from './period.js';

/** Permissions as the identity policy names them (auth/policy.ts on the identity branch). */
export type AnalyticsPermission = 'pharmacy.aggregates' | 'pharmacy.read' | 'pharmacy.admin' | 'group.read';

/** Who is asking, as resolved by the authentication and tenant layer. */
export interface AnalyticsAccess {
  /** The pharmacy of a tenant route, authorised for the route's permission. */
  pharmacyId?: string;
  /** For group routes: the viewer's groupement and the pharmacies it holds the detail permission on. */
  groupementId?: string;
  detailPharmacyIds?: ReadonlySet<string>;
}

/**
 * Resolves (and authorises) the caller for a route. Until the identity framework is
 * merged, the default refuses everything: no analytics data leaves without a session.
 */
export type AccessResolver = (ctx: ParameterizedContext, route: { permission: AnalyticsPermission; tenant: boolean }) => Promise<AnalyticsAccess>;

const refuseAll: AccessResolver = async () => {
  throw new AppError(401, 'unauthenticated', 'Authentification requise.');
};

const day = z.iso.date();
const periodQuery = z.object({ from: day.optional(), to: day.optional(), format: z.enum(['json', 'csv']).optional() });
const pharmacyParams = z.object({ pharmacyId: z.uuid() });

/** One declared analytics route (the same fields the identity framework's defineRoute takes). */
export interface AnalyticsRoute {
  method: 'GET' | 'PUT';
  path: string;
  permission: AnalyticsPermission;
  tenant: boolean;
  summary: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  handler(ctx: ParameterizedContext, input: { access: AnalyticsAccess; params: any; query: any; body: any }): Promise<unknown>;
}

function periodOf(q: { from?: string; to?: string }, now: Date): Period {
  if (!q.from !== !q.to) throw new ValidationError([{ path: 'query.from', message: 'début et fin de période vont ensemble' }]);
  return q.from && q.to ? { from: q.from, to: q.to } : trailingMonths(now.toISOString().slice(0, 10), 12);
}

/** Sends a table view as JSON (default) or as a CSV download for Excel. */
function table(ctx: ParameterizedContext, view: ExportView, format: 'json' | 'csv' | undefined, period: Period, rows: Record<string, unknown>[]) {
  const columns = EXPORT_VIEWS[view];
  if (format === 'csv') {
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

/** The analytics API, as declarations (tenant routes take the pharmacy from the resolved tenant only). */
export function analyticsRoutes(app: AppContext): AnalyticsRoute[] {
  const svc = new AnalyticsService(app.db);
  const bench = new BenchmarkService(app.db);
  const base = '/api/pharmacies/:pharmacyId/analytics';
  const now = () => app.clock.now();
  const tenantRoute = (path: string, permission: AnalyticsPermission, summary: string, query: z.ZodType, handler: AnalyticsRoute['handler']): AnalyticsRoute => ({
    method: 'GET', path: `${base}/${path}`, permission, tenant: true, summary, params: pharmacyParams, query, handler,
  });
  return [
    tenantRoute('dashboard', 'pharmacy.aggregates', 'Tableau de bord : KPI, comparaisons, série mensuelle, stock', periodQuery, async (_ctx, { access, query }) =>
      svc.dashboard(access.pharmacyId!, periodOf(query, now())),
    ),
    tenantRoute('kpis', 'pharmacy.aggregates', 'KPI de la période, période précédente et N-1', periodQuery, async (ctx, { access, query }) => {
      const period = periodOf(query, now());
      const r = await svc.kpis(access.pharmacyId!, period);
      return query.format === 'csv' ? table(ctx, 'kpis', 'csv', period, kpiRows(r)) : r;
    }),
    tenantRoute('monthly', 'pharmacy.aggregates', 'Série mensuelle', periodQuery, async (ctx, { access, query }) => {
      const period = periodOf(query, now());
      return table(ctx, 'monthly', query.format, period, await svc.monthly(access.pharmacyId!, period));
    }),
    tenantRoute(
      'products',
      'pharmacy.read',
      'Produits : top et flop par marge ou CA',
      periodQuery.extend({
        by: z.enum(['margin', 'revenue']).default('margin'),
        order: z.enum(['top', 'flop']).default('top'),
        limit: z.coerce.number().int().min(1).max(1000).default(50),
      }),
      async (ctx, { access, query }) => {
        const period = periodOf(query, now());
        return table(ctx, 'products', query.format, period, await svc.products(access.pharmacyId!, period, query));
      },
    ),
    tenantRoute('purchases', 'pharmacy.read', 'Achats par fournisseur, remises effectives, plafonds', periodQuery, async (ctx, { access, query }) => {
      const period = periodOf(query, now());
      return table(ctx, 'purchases', query.format, period, await svc.purchasesBySupplier(access.pharmacyId!, period));
    }),
    tenantRoute('stock', 'pharmacy.read', 'Valeur du stock, rotation, stock dormant', periodQuery, async (_ctx, { access, query }) =>
      svc.stock(access.pharmacyId!, periodOf(query, now())),
    ),
    tenantRoute(
      'dormant',
      'pharmacy.read',
      'Stock dormant (aucune vente depuis N mois)',
      periodQuery.extend({ months: z.coerce.number().int().min(1).max(36).default(6) }),
      async (ctx, { access, query }) => {
        const period = periodOf(query, now());
        return table(ctx, 'dormant', query.format, period, await svc.dormant(access.pharmacyId!, period, query.months));
      },
    ),
    tenantRoute('anomalies', 'pharmacy.read', 'Ventes à perte, médicaments remboursables hors prix BDPM', periodQuery, async (ctx, { access, query }) => {
      const period = periodOf(query, now());
      return table(ctx, 'anomalies', query.format, period, await svc.anomalies(access.pharmacyId!, period));
    }),
    tenantRoute('benchmark', 'pharmacy.aggregates', 'Comparatif du groupement : médiane, quartiles, rang', periodQuery, async (ctx, { access, query }) => {
      const period = periodOf(query, now());
      const r = await bench.forPharmacy(access.pharmacyId!, period);
      return query.format === 'csv' ? table(ctx, 'benchmark', 'csv', period, r.kpis as unknown as Record<string, unknown>[]) : r;
    }),
    {
      method: 'PUT',
      path: `${base}/benchmark-consent`,
      permission: 'pharmacy.admin',
      tenant: true,
      summary: 'Participation au comparatif du groupement (accord ou retrait)',
      params: pharmacyParams,
      body: z.strictObject({ granted: z.boolean() }),
      handler: async (_ctx, { access, body }) => {
        await svc.setBenchmarkConsent(access.pharmacyId!, body.granted);
        return { granted: body.granted };
      },
    },
    {
      method: 'GET',
      path: '/api/groupement/analytics/benchmark',
      permission: 'group.read',
      tenant: false,
      summary: 'Comparatif du groupement (agrégats ; identités selon les droits de détail)',
      query: periodQuery,
      handler: async (ctx, { access, query }) => {
        const period = periodOf(query, now());
        const r = await bench.forGroupement(access.groupementId!, period, { revealPharmacyIds: access.detailPharmacyIds ?? new Set() });
        return query.format === 'csv' ? table(ctx, 'benchmark', 'csv', period, r.kpis as unknown as Record<string, unknown>[]) : r;
      },
    },
  ];
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })));
  return r.data;
}

/**
 * Mounts the analytics routes. Interim adapter until the identity framework's
 * defineRoute lands: access is resolved first (refused by default), then input is
 * validated, then the handler runs; a returned value is the JSON body.
 */
export function registerAnalyticsRoutes(router: Router, app: AppContext, resolveAccess: AccessResolver = refuseAll): void {
  for (const route of analyticsRoutes(app)) {
    const method = route.method === 'GET' ? 'get' : 'put';
    router[method](route.path, async (ctx) => {
      const access = await resolveAccess(ctx, { permission: route.permission, tenant: route.tenant });
      const params = parse(route.params, ctx.params, 'params') as { pharmacyId?: string } | undefined;
      if (route.tenant && access.pharmacyId !== params?.pharmacyId) throw new AppError(403, 'forbidden', 'Accès refusé.', 'tenant mismatch');
      const query = parse(route.query, ctx.query, 'query');
      const body = parse(route.body, ctx.request.body, 'body');
      const out = await route.handler(ctx, { access, params, query, body });
      ctx.set('Cache-Control', 'no-store');
      if (out !== undefined) ctx.body = out;
    });
  }
}
