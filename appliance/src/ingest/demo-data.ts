import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CatalogueService } from '../catalogue/catalogue.service.js';
import type { AppContext } from '../http/app-context.js';
import { DEMO_PHARMACIES } from '../tenancy/demo-seed.js';
import { SyntheticSeeder, type SyntheticSeedResult } from './synthetic.service.js';

/** Where the BDPM files are: BDPM_DIR, else ../shared/data/bdpm beside the installed tree. */
export function bdpmDir(configured: string | undefined): string {
  return configured ?? resolve(import.meta.dirname, '../../../../../shared/data/bdpm');
}

/** What the demo data step did (or why it did nothing). */
export type DemoDataResult = ({ catalogueImported: number } & SyntheticSeedResult) | { unavailable: string };

/**
 * Demo commercial data (`npm start`): imports the BDPM catalogue once, has the demo
 * pharmacies join the groupement benchmark, and seeds DEMO_MONTHS months of synthetic
 * history through the ingestion service. Idempotent: months already there are skipped.
 */
export async function seedDemoData(app: AppContext): Promise<DemoDataResult> {
  const catalogue = new CatalogueService(app.db);
  let imported = 0;
  if (!(await catalogue.hasProducts())) {
    const dir = bdpmDir(app.config.BDPM_DIR);
    if (!existsSync(join(dir, 'CIS_CIP_bdpm.txt'))) return { unavailable: `fichiers BDPM introuvables dans ${dir} (BDPM_DIR)` };
    imported = (await catalogue.importBdpm(dir)).products;
  }
  const rows = (await app.db.query(`SELECT id FROM pharmacies WHERE finess = ANY($1::text[]) ORDER BY finess`, [DEMO_PHARMACIES.map((p) => p.finess)])) as { id: string }[];
  const ids = rows.map((r) => r.id);
  await app.db.query(`INSERT INTO benchmark_consents (pharmacy_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING`, [ids]);
  const r = await new SyntheticSeeder(app.db).seed(ids, app.config.DEMO_MONTHS, {
    until: app.clock.now().toISOString().slice(0, 10),
    ticketsPerDay: app.config.DEMO_TICKETS_PER_DAY,
  });
  return { catalogueImported: imported, ...r };
}
