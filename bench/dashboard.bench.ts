/**
 * bench:dashboard — p50/p95 of the 12-month pharmacy dashboard (KPIs with previous
 * period and last year, monthly series, stock value: read from the rollups) and of
 * the groupement benchmark (50 pharmacies), on a synthetic groupement of 50
 * pharmacies × 12 months generated on the BDPM catalogue and fed through the real
 * ingestion service; versus the same figures computed by a direct GROUP BY over the
 * fact tables, measured in the same run. Targets: dashboard p95 ≤ 30 ms, benchmark
 * p95 ≤ 150 ms. The same two reads are also timed over HTTP through the whole stack
 * (session cookie, CSRF-free GET, tenant context, per-user rate limit in PostgreSQL,
 * JSON), as a pharmacist's browser and a groupement admin's would get them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { AnalyticsService } from '../appliance/src/analytics/analytics.service.js';
import { BenchmarkService } from '../appliance/src/analytics/benchmark.service.js';
import { lastYearPeriod, previousPeriod, trailingMonths, type Period } from '../appliance/src/analytics/period.js';
import { CatalogueService } from '../appliance/src/catalogue/catalogue.service.js';
import { SyntheticSeeder } from '../appliance/src/ingest/synthetic.service.js';
import { createGroupement, createPharmacy } from '../appliance/test/helpers/pharmacy-factory.js';
import { BDPM_DIR } from '../appliance/test/helpers/bdpm.js';
import { loadConfig } from '../appliance/src/config/config.js';
import { SecretStore } from '../appliance/src/config/secrets.js';
import { APP_VERSION } from '../appliance/src/config/version.js';
import type { AppContext } from '../appliance/src/http/app-context.js';
import { startHttpServer } from '../appliance/src/http/server.js';
import { createLogger } from '../appliance/src/logging/logger.js';
import { createUser, sessionFor } from '../appliance/test/helpers/auth.js';
import { startBenchPostgres } from './lib/bench-pg.js';
import { percentile, printResult, round } from './lib/bench-util.js';

const PHARMACIES = Number(process.env.BENCH_PHARMACIES ?? 50);
const MONTHS = Number(process.env.BENCH_MONTHS ?? 12);
const TICKETS = Number(process.env.BENCH_TICKETS_PER_DAY ?? 30);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < Math.min(10, n); i++) await fn(i); // warm-up (plans, caches, JIT)
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    ms.push(performance.now() - t0);
  }
  return { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)) };
}

/** Baseline dashboard: the same KPIs, monthly series and stock value straight from the facts. */
async function directDashboard(ds: DataSource, pharmacyId: string, p: Period): Promise<unknown> {
  const prev = previousPeriod(p);
  const ly = lastYearPeriod(p);
  const periods = `(VALUES ('current', $2::date, $3::date), ('previous', $4::date, $5::date), ('lastYear', $6::date, $7::date)) AS p(name, f, t)`;
  const params = [pharmacyId, p.from, p.to, prev.from, prev.to, ly.from, ly.to];
  return Promise.all([
    ds.query(
      `SELECT p.name, l.family, sum(l.amount_ttc_cents), sum(l.amount_ht_cents), sum(l.cost_ht_cents), sum(l.fee_ttc_cents),
              sum(l.amount_ttc_cents) FILTER (WHERE l.quantity > 0), sum(greatest(l.quantity, 0)),
              sum(greatest(l.quantity, 0)) FILTER (WHERE l.generic_kind = 'generic'), sum(greatest(l.quantity, 0)) FILTER (WHERE l.generic_kind <> 'none'),
              count(DISTINCT (l.sale_day, l.ticket_id)) FILTER (WHERE l.quantity > 0)
       FROM ${periods} LEFT JOIN sales_lines l ON l.pharmacy_id = $1 AND l.sale_day BETWEEN p.f AND p.t GROUP BY p.name, l.family`,
      params,
    ),
    ds.query(
      `SELECT date_trunc('month', sale_day), sum(amount_ttc_cents), sum(amount_ht_cents), sum(cost_ht_cents),
              count(DISTINCT (sale_day, ticket_id)) FILTER (WHERE quantity > 0)
       FROM sales_lines WHERE pharmacy_id = $1 AND sale_day BETWEEN $2 AND $3 GROUP BY 1`,
      [pharmacyId, p.from, p.to],
    ),
    ds.query(
      `SELECT snapshot_on, sum(value_ht_cents) FROM stock_snapshots WHERE pharmacy_id = $1
       AND snapshot_on = (SELECT max(snapshot_on) FROM stock_snapshots WHERE pharmacy_id = $1 AND snapshot_on <= $2) GROUP BY 1`,
      [pharmacyId, p.to],
    ),
  ]);
}

/** Baseline benchmark: per-pharmacy sums over the facts of every consenting pharmacy. */
async function directBenchmark(ds: DataSource, groupementId: string, p: Period): Promise<unknown> {
  return ds.query(
    `SELECT l.pharmacy_id, sum(l.amount_ttc_cents), sum(l.amount_ht_cents), sum(l.cost_ht_cents),
            sum(l.amount_ttc_cents) FILTER (WHERE l.quantity > 0), sum(greatest(l.quantity, 0)) FILTER (WHERE l.generic_kind = 'generic'),
            sum(greatest(l.quantity, 0)) FILTER (WHERE l.generic_kind <> 'none'), count(DISTINCT (l.sale_day, l.ticket_id)) FILTER (WHERE l.quantity > 0)
     FROM sales_lines l JOIN pharmacies ph ON ph.id = l.pharmacy_id JOIN benchmark_consents c ON c.pharmacy_id = ph.id
     WHERE ph.groupement_id = $1 AND l.sale_day BETWEEN $2 AND $3 GROUP BY l.pharmacy_id`,
    [groupementId, p.from, p.to],
  );
}

async function main(): Promise<void> {
  const pg = await startBenchPostgres();
  try {
    const ds = await pg.database('bench_dashboard');
    const t0 = performance.now();
    await new CatalogueService(ds).importBdpm(BDPM_DIR);
    const groupementId = await createGroupement(ds, 'Groupement bench');
    const ids: string[] = [];
    for (let i = 0; i < PHARMACIES; i++) ids.push(await createPharmacy(ds, { groupementId, name: `Pharmacie bench ${i + 1}` }));
    await ds.query(`INSERT INTO benchmark_consents (pharmacy_id) SELECT unnest($1::uuid[])`, [ids]);
    const until = '2026-10-31';
    const seeded = await new SyntheticSeeder(ds).seed(ids, MONTHS, { until, ticketsPerDay: TICKETS, concurrency: 2 });
    await ds.query('VACUUM ANALYZE');
    const seedSeconds = (performance.now() - t0) / 1000;
    const [counts] = (await ds.query(
      `SELECT (SELECT count(*) FROM sales_lines)::int AS lines, (SELECT count(*) FROM sales_rollups)::int AS rollups, (SELECT count(*) FROM stock_snapshots)::int AS stock`,
    )) as { lines: number; rollups: number; stock: number }[];

    const period = trailingMonths(until, 12);
    const analytics = new AnalyticsService(ds);
    const bench = new BenchmarkService(ds);
    const pick = (i: number) => ids[(i * 7) % ids.length]!;
    const dashboard = await timed(ITERATIONS, (i) => analytics.dashboard(pick(i), period));
    const dashboardDirect = await timed(Math.max(20, ITERATIONS / 4), (i) => directDashboard(ds, pick(i), period));
    const benchmark = await timed(Math.max(20, ITERATIONS / 2), () => bench.forGroupement(groupementId, period, { revealPharmacyIds: new Set() }));
    const benchmarkDirect = await timed(Math.max(10, ITERATIONS / 20), () => directBenchmark(ds, groupementId, period));

    // Over HTTP: the real app on the same database, a pharmacist and a groupement admin signed in.
    const dataDir = mkdtempSync(join(tmpdir(), 'officine-bench-dashboard-'));
    const config = loadConfig({
      envFile: '/dev/null',
      env: { NODE_ENV: 'production', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', RATE_LIMIT_READS_PER_MIN: '100000' },
    });
    const app: AppContext = { config, db: ds, logger: createLogger('silent'), secrets: new SecretStore(config.secretsDir), clock: { now: () => new Date() }, version: APP_VERSION };
    const srv = await startHttpServer(app);
    let dashboardHttp: { p50: number; p95: number };
    let benchmarkHttp: { p50: number; p95: number };
    try {
      const sessions = new Map<string, Record<string, string>>();
      for (const id of new Set(Array.from({ length: ITERATIONS }, (_, i) => pick(i)))) {
        sessions.set(id, (await sessionFor(app, (await createUser(app, { role: 'user', pharmacyId: id })).id)).headers);
      }
      const groupAdmin = (await sessionFor(app, (await createUser(app, { role: 'group_admin', groupementId })).id)).headers;
      const q = `from=${period.from}&to=${period.to}`;
      const get = async (path: string, headers: Record<string, string>) => {
        const res = await fetch(srv.url + path, { headers });
        if (res.status !== 200) throw new Error(`bench: ${path} answered ${res.status}`);
        return res.json();
      };
      dashboardHttp = await timed(ITERATIONS, (i) => get(`/api/pharmacies/${pick(i)}/analytics/dashboard?${q}`, sessions.get(pick(i))!));
      benchmarkHttp = await timed(Math.max(20, ITERATIONS / 2), () => get(`/api/groupement/analytics/benchmark?${q}`, groupAdmin));
    } finally {
      await srv.close();
      rmSync(dataDir, { recursive: true, force: true });
    }

    printResult({
      bench: 'dashboard',
      pharmacies: PHARMACIES,
      months: MONTHS,
      tickets_per_day: TICKETS,
      sales_lines: counts!.lines,
      rollup_rows: counts!.rollups,
      stock_rows: counts!.stock,
      seed_batches: seeded.batches,
      seed_seconds: round(seedSeconds, 1),
      dashboard_ms: dashboard,
      dashboard_direct_group_by_ms: dashboardDirect,
      benchmark_ms: benchmark,
      benchmark_direct_group_by_ms: benchmarkDirect,
      dashboard_http_ms: dashboardHttp,
      benchmark_http_ms: benchmarkHttp,
      dashboard_speedup_p95: round(dashboardDirect.p95 / dashboard.p95, 1),
      benchmark_speedup_p95: round(benchmarkDirect.p95 / benchmark.p95, 1),
      ratio: round(dashboardDirect.p95 / dashboard.p95, 2),
      targets: { dashboard_p95_ms: '<= 30', benchmark_p95_ms: '<= 150' },
      met: dashboard.p95 <= 30 && benchmark.p95 <= 150,
      met_over_http: dashboardHttp.p95 <= 30 && benchmarkHttp.p95 <= 150,
    });
  } finally {
    await pg.stop();
  }
}

await main();
