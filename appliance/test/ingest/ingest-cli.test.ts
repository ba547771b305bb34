import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/app.js';
import { writeTinyBdpm } from '../helpers/bdpm.js';
import { createTestDataSource } from '../helpers/db.js';
import { createPharmacy, seedTestCatalogue, TEST_PRODUCTS as P } from '../helpers/pharmacy-factory.js';

const CLI = join(process.cwd(), 'dist/appliance/src/cli/main.js');

t.test('console: `appliance catalogue import DIR` and `appliance ingest FILE --pharmacy ID`', async (t) => {
  const { ds, url } = await createTestDataSource(t);
  await seedTestCatalogue(ds);
  const ph = await createPharmacy(ds);
  const dir = tempDir(t);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, '--env-file', '/dev/null', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, DATA_DIR: dir, LOG_LEVEL: 'silent' },
      timeout: 120_000,
    });

  const bdpm = join(dir, 'bdpm');
  (await import('node:fs')).mkdirSync(bdpm);
  writeTinyBdpm(bdpm);
  const imp = run('catalogue', 'import', bdpm);
  t.equal(imp.status, 0, imp.stderr);
  t.match(imp.stdout, /Catalogue importé : 2 présentations \(2 nouvelles ou modifiées\), 1 groupes génériques, 1 ligne\(s\) rejetée\(s\)/);
  t.match(imp.stdout, /CIS_CIP_bdpm\.txt ligne 3 : CIP13 invalide/);
  t.same(await ds.query(`SELECT price_ttc_cents FROM products WHERE code = '3400949497294'`), [{ price_ttc_cents: 285007 }]);

  const file = join(dir, 'batch.json');
  const sale = { sourceId: 'C1', ticketId: 'T1', soldAt: '2026-03-10T09:15:00+01:00', productCode: P.generic, quantity: 1, unitPriceTtcCents: 600,
    vatRate: 2.1, unitCostHtCents: 350, feeTtcCents: 102, saleType: 'prescription' };
  writeFileSync(file, JSON.stringify({ batchId: 'console-1', sales: [sale, { ...sale, sourceId: 'C2', productCode: '3400930000015' }] }));
  const first = run('ingest', file, '--pharmacy', ph);
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, /Lot console-1 intégré\.\n {2}sales : 2 reçues, 1 nouvelles, 0 modifiées, 0 inchangées, 1 en quarantaine/);
  const again = run('ingest', file, '--pharmacy', ph);
  t.match(again.stdout, /Lot console-1 déjà intégré : rien n’a changé\./);
  t.same(await ds.query(`SELECT source FROM ingest_batches WHERE pharmacy_id = $1`, [ph]), [{ source: 'console' }]);

  writeFileSync(file, '{"batchId": "x", "patients": []}');
  const bad = run('ingest', file, '--pharmacy', ph);
  t.not(bad.status, 0, 'a file with an unknown section is refused');
  t.match(bad.stderr, /fichier de lot illisible/);
});
