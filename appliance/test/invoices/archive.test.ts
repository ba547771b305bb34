import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import pgLib from 'pg';
import t from 'tap';
import { InvoiceArchiveService } from '../../src/invoices/invoice-archive.service.js';
import { startTestApp, tempDir } from '../helpers/app.js';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';
import { runCli } from '../helpers/cli.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A valid EAN-13 from 12 digits. */
function ean13(d12: string): string {
  const sum = [...d12].reduce((s, c, i) => s + Number(c) * (i % 2 === 0 ? 1 : 3), 0);
  return d12 + String((10 - (sum % 10)) % 10);
}

const files = {
  i2012: Buffer.from('%PDF-1.4\nfacture 2012 OCP\n%%EOF\n'),
  i2020: Buffer.from('%PDF-1.4\nfacture 2020 OCP\n%%EOF\n'),
  i2024: Buffer.from('<?xml version="1.0"?><Invoice><ID>F2024-77</ID></Invoice>\n'),
};

t.test('invoice archive: hash chain, dated retention, sha256sum -c export, tampering, legal hold, never deleted early', async (t) => {
  const app = await startTestApp(t, { RATE_LIMIT_WRITES_PER_MIN: '100000' });
  const db = app.app.db;
  const dbUrl = (db.options as { url: string }).url;
  const { pharmacyIds } = await createGroupement(db, 1);
  const p = pharmacyIds[0]!;
  const staff = await createUser(app.app, { role: 'user', pharmacyId: p });
  const admin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: p, totpSecret: 'JBSWY3DPEHPK3PXP' });
  const staffH = (await sessionFor(app.app, staff.id)).headers;
  const adminH = (await sessionFor(app.app, admin.id)).headers;

  await db.query(`INSERT INTO suppliers (pharmacy_id, source_id, name, kind) VALUES ($1, 'OCP', 'OCP Répartition', 'wholesaler')`, [p]);
  const invoice = async (id: string, number: string, issued: string, fileSha: string | null) => {
    await db.query(
      `INSERT INTO supplier_invoices (pharmacy_id, source_id, supplier_source_id, invoice_number, issued_on, total_ht_cents, total_vat_cents, total_ttc_cents, file_sha256)
       VALUES ($1, $2, 'OCP', $3, $4, 10000, 210, 10210, $5)`,
      [p, id, number, issued, fileSha],
    );
    await db.query(`INSERT INTO supplier_invoice_lines (pharmacy_id, invoice_source_id, line_no, product_code, quantity, unit_price_ht_cents, vat_rate, amount_ht_cents) VALUES ($1, $2, 1, $3, 10, 1000, 2.10, 10000)`, [p, id, ean13('340093000001')]);
  };
  await invoice('I2012', 'F2012/15', '2012-06-15', null);
  await invoice('I2020', 'F2020-03', '2020-03-01', sha(files.i2020));
  await invoice('I2024', 'F2024-77', '2024-05-10', null);
  // Retention parameters are dated rows: a (hypothetical) change of the tax period from 2023 applies to invoices issued since.
  await db.query(`UPDATE archive_retention_parameters SET valid_to = '2023-01-01' WHERE basis = 'tax'`);
  await db.query(`INSERT INTO archive_retention_parameters (basis, years, valid_from, legal_reference) VALUES ('tax', 8, '2023-01-01', 'Hypothèse de test : 8 ans')`);

  const put = (id: string, body: Buffer, type = 'application/pdf', headers = staffH) =>
    app.request(`/api/pharmacies/${p}/invoices/${id}/file`, { method: 'PUT', headers: { ...headers, 'content-type': type }, body });

  const r2020 = await put('I2020', files.i2020);
  t.equal(r2020.status, 201);
  const b2020 = (await r2020.json()) as { seq: string; sha256: string; retainUntil: string; retention: { basis: string; years: number; until: string }[] };
  t.equal(b2020.sha256, sha(files.i2020));
  t.equal(b2020.retainUntil, '2030-12-31', '10 years commercial from the end of the fiscal year');
  t.same(b2020.retention.map((r) => [r.basis, r.years, r.until]), [['commercial', 10, '2030-12-31'], ['tax', 6, '2026-12-31']]);
  const again = await put('I2020', files.i2020);
  t.equal(again.status, 200, 'same file again: idempotent');
  t.equal(((await again.json()) as { created: boolean }).created, false);
  const mismatch = await put('I2020', Buffer.from('%PDF another file'));
  t.equal(mismatch.status, 422, 'a file other than the one the LGO announced is refused');
  t.equal(((await mismatch.json()) as { error: { code: string } }).error.code, 'file_mismatch');
  t.equal((await put('NOPE', files.i2012)).status, 404, 'unknown invoice');
  t.equal((await put('I2012', Buffer.from('{}'), 'application/json')).status, 415, 'JSON is not a source file');
  t.equal((await put('I2012', files.i2012)).status, 201);
  const r2024 = await put('I2024', files.i2024, 'application/xml');
  t.same(((await r2024.json()) as { retention: { basis: string; years: number }[] }).retention.map((r) => [r.basis, r.years]), [['commercial', 10], ['tax', 8]], 'the parameters in force on the issue date apply');

  const list = (await (await app.request(`/api/pharmacies/${p}/invoice-archive`, { headers: staffH })).json()) as { entries: { seq: string; retainUntil: string }[]; retentionParameters: unknown[] };
  t.same(list.entries.map((e) => e.seq), ['1', '2', '3'], 'one chain, in archive order');
  t.equal(list.retentionParameters.length, 3);

  // --- Export a period, verify with the real sha256sum -c ---
  const exportZip = async (from: string, to: string) => app.request(`/api/pharmacies/${p}/invoice-archive/export?from=${from}&to=${to}`, { headers: adminH });
  t.equal((await app.request(`/api/pharmacies/${p}/invoice-archive/export?from=2010-01-01&to=2025-12-31`, { headers: staffH })).status, 403, 'export is for the pharmacy admin');
  const zres = await exportZip('2010-01-01', '2025-12-31');
  t.equal(zres.status, 200);
  t.equal(zres.headers.get('content-type'), 'application/zip');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'export.zip'), Buffer.from(await zres.arrayBuffer()));
  t.equal(spawnSync('unzip', ['-q', 'export.zip'], { cwd: dir }).status, 0, 'a standard unzip opens it');
  const folder = join(dir, readdirSync(dir).find((f) => f.startsWith('factures-'))!);
  const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder, encoding: 'utf8' });
  t.equal(check.status, 0, `sha256sum -c passes:\n${check.stdout}${check.stderr}`);
  t.equal(check.stdout.trim().split('\n').filter((l) => l.endsWith(': OK')).length, 7, '3 source files, 3 records, the manifest');
  const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as { entries: { sha256: string; hash: string; prevHash: string }[] };
  t.equal(manifest.entries.length, 3);
  t.equal(manifest.entries[1]!.prevHash, manifest.entries[0]!.hash, 'the chain is in the manifest');
  const pdf = readdirSync(join(folder, 'factures')).find((f) => f.endsWith('.pdf') && f.includes('2020'))!;
  t.same(readFileSync(join(folder, 'factures', pdf)), files.i2020, 'the source file, byte for byte');
  writeFileSync(join(folder, 'factures', pdf), 'altered');
  const bad = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder, encoding: 'utf8' });
  t.not(bad.status, 0, 'a third party detects an altered file in the export');
  t.match(bad.stdout, new RegExp(`${pdf}: FAILED`));
  const one = await exportZip('2020-01-01', '2020-12-31');
  writeFileSync(join(dir, 'one.zip'), Buffer.from(await one.arrayBuffer()));
  t.match(spawnSync('unzip', ['-l', 'one.zip'], { cwd: dir, encoding: 'utf8' }).stdout, /000001_2020-03-01_OCP_F2020-03\.pdf/, 'period filter');
  t.notMatch(spawnSync('unzip', ['-l', 'one.zip'], { cwd: dir, encoding: 'utf8' }).stdout, /2012|2024/);

  // --- Tampering with an archived file is detected ---
  const svc = new InvoiceArchiveService(app.app);
  const stored = svc.store.pathOf(p, sha(files.i2020));
  chmodSync(stored, 0o600);
  writeFileSync(stored, '%PDF-1.4\nfacture 2020 OCP (falsifiée)\n%%EOF\n');
  const v = (await (await app.request(`/api/pharmacies/${p}/invoice-archive/verify`, { headers: adminH })).json()) as { ok: boolean; problems: { seq: string; kind: string }[] };
  t.same([v.ok, v.problems.map((x) => [x.seq, x.kind])], [false, [['1', 'file_modified']]], 'the altered file is named');
  const refused = await exportZip('2010-01-01', '2025-12-31');
  t.equal(refused.status, 409, 'no export from a tampered archive');
  t.equal(((await refused.json()) as { error: { code: string } }).error.code, 'archive_tampered');
  t.ok(((await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'invoice_archive.tampering_detected' AND level = 'alert'`)) as { n: number }[])[0]!.n >= 2, 'alert in the audit log');
  const cli = await runCli(['archive', 'verify', '--pharmacy', p], { DATABASE_URL: dbUrl, DATA_DIR: tempDir(t), INVOICE_ARCHIVE_DIR: svc.store.root });
  t.equal(cli.code, 1, '`appliance archive verify` exits 1');
  t.match(cli.stdout, /entrée 1 : fichier 2020-03-01_OCP_F2020-03\.pdf altéré/);
  writeFileSync(stored, files.i2020);
  t.ok((await svc.verify(p)).ok, 'restored file verifies again');

  // A row edited behind the trigger's back breaks its hash.
  const su = new pgLib.Client({ connectionString: dbUrl });
  await su.connect();
  t.teardown(() => su.end());
  await su.query(`ALTER TABLE invoice_archive DISABLE TRIGGER invoice_archive_no_change`);
  await su.query(`UPDATE invoice_archive SET retain_until = '2013-01-01' WHERE pharmacy_id = $1 AND seq = 2`, [p]);
  t.same((await svc.verify(p)).problems.map((x) => [x.seq, x.kind]), [['2', 'modified_row']], 'an edited retention date is detected');
  await su.query(`UPDATE invoice_archive SET retain_until = '2022-12-31' WHERE pharmacy_id = $1 AND seq = 2`, [p]);
  await su.query(`ALTER TABLE invoice_archive ENABLE TRIGGER invoice_archive_no_change`);
  t.ok((await svc.verify(p)).ok);

  // --- Never deleted or purged early ---
  await t.rejects(db.query(`DELETE FROM invoice_archive WHERE pharmacy_id = $1`, [p]), /never changed or deleted/);
  await t.rejects(db.query(`TRUNCATE invoice_archive`), /never changed or deleted/);
  await t.rejects(db.query(`UPDATE invoice_archive SET purged_at = now() WHERE pharmacy_id = $1 AND seq = 1`, [p]), /retained until 2030-12-31/, 'purge before the retention date refused by the database');
  await t.rejects(db.query(`DELETE FROM supplier_invoices WHERE pharmacy_id = $1 AND source_id = 'I2020'`, [p]), /archived and under retention/, 'the invoice itself cannot be deleted');

  // --- Legal hold blocks the purge of an expired entry ---
  const hold = await app.request(`/api/pharmacies/${p}/invoice-archive/holds`, { method: 'POST', headers: { ...adminH, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'Litige fournisseur OCP en cours', coversTo: '2015-12-31' }) });
  t.equal(hold.status, 201);
  const holdId = ((await hold.json()) as { id: string }).id;
  t.same(await svc.purgeExpired(), { purged: 0 }, 'the 2012 invoice is past retention but held');
  await t.rejects(db.query(`UPDATE invoice_archive SET purged_at = now() WHERE pharmacy_id = $1 AND seq = 2`, [p]), /under legal hold/, 'the database refuses it too');
  t.equal((await app.request(`/api/pharmacies/${p}/invoice-archive/holds/${holdId}`, { method: 'DELETE', headers: adminH })).status, 204, 'hold released');
  t.same(await svc.purgeExpired(), { purged: 1 }, 'then the expired entry is purged');
  t.notOk(existsSync(svc.store.pathOf(p, sha(files.i2012))), 'its file is gone');
  t.ok(existsSync(svc.store.pathOf(p, sha(files.i2020))), 'files still in retention stay');
  const afterPurge = await svc.verify(p);
  t.same([afterPurge.ok, afterPurge.entries], [true, 3], 'the chain stays whole (the row is kept, marked purged)');

  // --- The pharmacy leaves: export and retention only ---
  const left = await runCli(['archive', 'pharmacy-left', '--pharmacy', p], { DATABASE_URL: dbUrl, DATA_DIR: tempDir(t) });
  t.equal(left.code, 0, left.stderr);
  t.match(left.stdout, /Départ enregistré/);
  await invoice('I2025', 'F2025-01', '2025-01-10', null);
  const late = await put('I2025', Buffer.from('%PDF late'));
  t.equal(late.status, 409, 'no new archiving after leaving');
  t.equal(((await late.json()) as { error: { code: string } }).error.code, 'pharmacy_left');
  const clockFar = { ...app.app, clock: { now: () => new Date(Date.now() + 20 * 365 * 86_400_000) } };
  await t.rejects(new InvoiceArchiveService(clockFar).purgeExpired(), /retained until/, 'a wrong application clock cannot purge early: the database checks its own');
  await t.rejects(db.query(`DELETE FROM pharmacies WHERE id = $1`, [p]), /foreign key/, 'the pharmacy row cannot go while its archive is kept');
  // Operators can still place a hold on a pharmacy that left (its admin may be gone).
  const cliEnv = { DATABASE_URL: dbUrl, DATA_DIR: tempDir(t) };
  const placed = await runCli(['archive', 'hold', 'place', '--pharmacy', p, '--reason', 'Réquisition judiciaire n° 2026-114'], cliEnv);
  t.equal(placed.code, 0, placed.stderr);
  const cliHold = /Gel juridique posé : ([0-9a-f-]{36})/.exec(placed.stdout)![1]!;
  const short = await runCli(['archive', 'hold', 'place', '--pharmacy', p, '--reason', 'court'], cliEnv);
  t.same([short.code, short.stderr], [1, 'Erreur : Indiquez le motif du gel juridique (10 caractères au moins).\n'], 'a reason is required');
  const released = await runCli(['archive', 'hold', 'release', '--pharmacy', p, '--hold', cliHold], cliEnv);
  t.equal(released.code, 0, released.stderr);
  t.equal((await runCli(['archive', 'hold', 'release', '--pharmacy', p, '--hold', cliHold], cliEnv)).code, 1, 'already released');
  const out = join(tempDir(t), 'cli.zip');
  const exp = await runCli(['archive', 'export', '--pharmacy', p, '--from', '2000-01-01', '--to', '2030-12-31', '--out', out], { DATABASE_URL: dbUrl, DATA_DIR: tempDir(t), INVOICE_ARCHIVE_DIR: svc.store.root });
  t.equal(exp.code, 0, exp.stderr);
  t.match(exp.stdout, /2 facture\(s\) exportée\(s\)/, 'export still works after leaving (purged entry left out)');
  const d2 = tempDir(t);
  t.equal(spawnSync('unzip', ['-q', out], { cwd: d2 }).status, 0);
  t.equal(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(d2, readdirSync(d2)[0]!) }).status, 0, 'console export verifies with sha256sum -c');
});
