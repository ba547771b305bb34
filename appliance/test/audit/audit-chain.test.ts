import pgLib from 'pg';
import t from 'tap';
import { recordAudit, verifyAuditChain } from '../../src/audit/audit.service.js';
import { createTestDataSource } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/app.js';

t.test('audit log: append-only, hash-chained, `appliance audit verify` detects edits and deletions', async (t) => {
  const { ds, url } = await createTestDataSource(t);
  const env = { DATABASE_URL: url, DATA_DIR: tempDir(t) };
  for (let i = 0; i < 5; i++) {
    await recordAudit(ds, { action: 'test.event', actorRole: 'console', details: { i, nested: { b: 1, a: [1, 2] } } });
  }
  // Concurrent writers still form one chain.
  await Promise.all(Array.from({ length: 10 }, (_, i) => recordAudit(ds, { action: 'test.concurrent', details: { i } })));
  const v = await verifyAuditChain(ds);
  t.ok(v.ok, 'chain intact');
  t.equal(v.rows, 15);

  const ok = await runCli(['audit', 'verify'], env);
  t.equal(ok.code, 0, 'verify exits 0 on an intact log');
  t.match(ok.stdout, /Journal d’audit intègre : 15 entrée/);

  await t.rejects(ds.query(`UPDATE audit_log SET action = 'test.edited' WHERE id = (SELECT min(id) FROM audit_log)`), /append-only/, 'UPDATE refused by the trigger');
  await t.rejects(ds.query(`DELETE FROM audit_log`), /append-only/, 'DELETE refused');
  await t.rejects(ds.query(`TRUNCATE audit_log`), /append-only/, 'TRUNCATE refused');

  // A superuser can switch the trigger off: the chain still gives the edit away.
  const ids = ((await ds.query(`SELECT id::text AS id FROM audit_log ORDER BY id`)) as { id: string }[]).map((r) => r.id);
  const su = new pgLib.Client({ connectionString: url });
  await su.connect();
  t.teardown(() => su.end());
  await su.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
  await su.query(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`, [ids[2]]);
  await su.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
  const edited = await runCli(['audit', 'verify', '--json'], env);
  t.equal(edited.code, 1, 'verify exits 1 after an edit');
  const report = JSON.parse(edited.stdout) as { ok: boolean; problems: { id: string; kind: string }[] };
  t.same(report.problems.map((p) => [p.id, p.kind]), [[ids[2], 'modified']], 'the edited row is named');

  const fresh = await createTestDataSource(t);
  for (let i = 0; i < 4; i++) await recordAudit(fresh.ds, { action: 'test.event', details: { i } });
  const ids2 = ((await fresh.ds.query(`SELECT id::text AS id FROM audit_log ORDER BY id`)) as { id: string }[]).map((r) => r.id);
  const su2 = new pgLib.Client({ connectionString: fresh.url });
  await su2.connect();
  t.teardown(() => su2.end());
  await su2.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
  await su2.query(`DELETE FROM audit_log WHERE id = $1`, [ids2[1]]);
  await su2.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
  const deleted = await runCli(['audit', 'verify'], { DATABASE_URL: fresh.url, DATA_DIR: tempDir(t) });
  t.equal(deleted.code, 1, 'verify exits 1 after a deletion');
  t.match(deleted.stdout, new RegExp(`entrée ${ids2[2]} : chaînage rompu`), 'the row after the gap is named');
  const alert = (await fresh.ds.query(`SELECT level FROM audit_log WHERE action = 'audit.tampering_detected'`)) as { level: string }[];
  t.same(alert.map((a) => a.level), ['alert'], 'tampering itself is recorded as an alert');

});

t.test('a deleted tail leaves a coherent chain: the exported head (anchor) gives it away', async (t) => {
  const { ds, url } = await createTestDataSource(t);
  const env = { DATABASE_URL: url, DATA_DIR: tempDir(t) };
  for (let i = 0; i < 6; i++) await recordAudit(ds, { action: 'test.event', details: { i } });
  const exported = await runCli(['audit', 'verify', '--json'], env);
  t.equal(exported.code, 0);
  const head = (JSON.parse(exported.stdout) as { head: { id: string; hash: string } }).head;
  const last = ((await ds.query(`SELECT id::text AS id, hash FROM audit_log ORDER BY id DESC LIMIT 1`)) as { id: string; hash: string }[])[0]!;
  t.same(head, last, 'the JSON report carries the last entry (id and hash) to export');
  const anchor = `${head.id}:${head.hash}`;

  await recordAudit(ds, { action: 'test.after_export', details: {} });
  t.equal((await runCli(['audit', 'verify', '--anchor', anchor], env)).code, 0, 'entries after the anchor are fine');

  // Someone with the owner's rights cuts the last three entries, the anchor among them.
  const su = new pgLib.Client({ connectionString: url });
  await su.connect();
  t.teardown(() => su.end());
  await su.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
  await su.query(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id DESC LIMIT 3)`);
  await su.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
  const plain = await verifyAuditChain(ds);
  t.ok(plain.ok, 'without the anchor, the shortened chain still looks intact (the documented limit)');
  const cut = await runCli(['audit', 'verify', '--anchor', anchor], env);
  t.equal(cut.code, 1, 'with the anchor, verify fails');
  t.match(cut.stdout, new RegExp(`entrée ${head.id} : ancre exportée absente`), 'and says the tail was cut');

  const bad = await runCli(['audit', 'verify', '--anchor', 'nonsense'], env);
  t.equal(bad.code, 2, 'a malformed anchor is a usage error');
  t.match(bad.stderr, /--anchor attend ID:EMPREINTE/);
});
