import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseBdpmDirectory, parseBdpmPrice, parseRate } from '../../src/catalogue/bdpm.parser.js';
import { CatalogueService } from '../../src/catalogue/catalogue.service.js';
import { cip13FromCip7, cip7FromCip13, isValidCip7, isValidEan13, productCodeKind } from '../../src/catalogue/product-code.js';
import { tempDir } from '../helpers/app.js';
import { BDPM_DIR, writeTinyBdpm } from '../helpers/bdpm.js';
import { createTestDataSource } from '../helpers/db.js';


t.test('product codes: EAN-13 check digit, kinds, CIP7 key', async (t) => {
  t.equal(productCodeKind('3400949497294'), 'cip13');
  t.equal(productCodeKind('3400949497295'), null, 'CIP13 with a wrong check digit rejected');
  t.equal(productCodeKind('3401000000019'), 'acl13');
  t.equal(productCodeKind('4006381333931'), 'ean13');
  t.notOk(isValidEan13('340094949729'), '12 digits refused');
  t.notOk(isValidEan13('340094949729x'), 'non-digit refused');
  t.equal(cip13FromCip7('4949729'), '3400949497294');
  t.equal(cip7FromCip13('3400949497294'), '4949729');
  t.equal(cip7FromCip13('3401000000019'), null);
  t.ok(isValidCip7('4949729'), 'CIP7 key (Σ d×(i+2) mod 11)');
  t.notOk(isValidCip7('4949728'), 'wrong CIP7 key');
});

t.test('BDPM prices and rates', async (t) => {
  t.equal(parseBdpmPrice('33,48'), 3348);
  t.equal(parseBdpmPrice('2,850,07'), 285007, 'only the last comma is the decimal point');
  t.equal(parseBdpmPrice('4,5'), 450);
  t.equal(parseBdpmPrice(''), null);
  t.throws(() => parseBdpmPrice('abc'));
  t.equal(parseRate('65%'), 65);
  t.equal(parseRate('65 %'), 65);
  t.equal(parseRate(''), null);
  t.throws(() => parseRate('165%'));
});

t.test('BDPM files: each with its own encoding', async (t) => {
  const dir = tempDir(t);
  writeTinyBdpm(dir);
  const cat = parseBdpmDirectory(dir);
  t.equal(cat.products.length, 2);
  const [a, b] = cat.products;
  t.equal(a!.label, 'TESTOMYCINE 10 mg, comprimé sécable — plaquette(s) de 30 comprimé(s)', 'UTF-8 with BOM and Latin-1 decoded');
  t.equal(a!.lab, 'LABO ÉTOILE');
  t.equal(a!.priceTtcCents, 285007);
  t.equal(a!.dispensingFeeCents, 102);
  t.equal(a!.reimbursementRate, 65);
  t.equal(a!.family, 'reimbursable');
  t.equal(a!.vatRate, 2.1);
  t.equal(a!.genericGroupId, 77);
  t.equal(a!.genericType, 1);
  t.equal(b!.family, 'non_reimbursable');
  t.equal(b!.vatRate, 10);
  t.equal(b!.marketed, false);
  t.same(cat.groups, [{ id: 77, label: 'TESTOMYCINE 10 mg - PRINCEPS®' }]);
  t.equal(cat.rejected.length, 1);
  t.match(cat.rejected[0]!, { file: 'CIS_CIP_bdpm.txt', line: 3, reason: /CIP13 invalide/ });
});

t.test('catalogue import of the real BDPM extract, idempotent', async (t) => {
  t.ok(existsSync(join(BDPM_DIR, 'CIS_CIP_bdpm.txt')), `BDPM extract present at ${BDPM_DIR}`);
  const { ds } = await createTestDataSource(t);
  const svc = new CatalogueService(ds);
  t.notOk(await svc.hasProducts());
  const r = await svc.importBdpm(BDPM_DIR);
  t.ok(r.products > 20_000, `${r.products} presentations`);
  t.equal(r.changed, r.products, 'all new on first import');
  t.ok(r.genericGroups > 1000, `${r.genericGroups} generic groups`);
  t.equal(r.rejected.length, 0, 'no line rejected');
  const [p] = (await ds.query(`SELECT label, price_ttc_cents, reimbursement_rate, family, vat_rate::text, cip7 FROM products WHERE code = '3400949497294'`)) as Record<string, unknown>[];
  t.match(p, { price_ttc_cents: 3348, reimbursement_rate: 100, family: 'reimbursable', vat_rate: '2.10', cip7: '4949729' });
  const [big] = (await ds.query(`SELECT max(price_ttc_cents) AS m FROM products`)) as { m: number }[];
  t.ok(big!.m > 100_000, 'thousands-separated prices parsed (> 1 000 €)');
  const [g] = (await ds.query(`SELECT count(*) FILTER (WHERE generic_type = 0)::int AS ref, count(*) FILTER (WHERE generic_type = 1)::int AS gen FROM products`)) as { ref: number; gen: number }[];
  t.ok(g!.ref > 500 && g!.gen > 3000, `répertoire: ${g!.ref} references, ${g!.gen} generics`);
  const again = await svc.importBdpm(BDPM_DIR);
  t.equal(again.changed, 0, 're-import changes nothing');
  t.ok(await svc.hasProducts());
});
