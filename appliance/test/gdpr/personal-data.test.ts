import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pgLib from 'pg';
import t from 'tap';
import type { DataSource } from 'typeorm';
import { auditRef, recordAudit, userPseudonym, verifyAuditChain } from '../../src/audit/audit.service.js';
import { gdprJobs } from '../../src/gdpr/gdpr.jobs.js';
import { PERSONAL_DATA, type PersonalDataLink } from '../../src/gdpr/personal-data.registry.js';
import type { PersonalDataExport } from '../../src/gdpr/gdpr.service.js';
import { runJobOnce } from '../../src/scheduler/job-runner.js';
import { startTestApp, tempDir } from '../helpers/app.js';
import { createGroupement, createUser, sessionFor, type TestUser } from '../helpers/auth.js';
import { runCli } from '../helpers/cli.js';
import { notePersonalValues } from '../helpers/log-scan.js';

const TEXT_TYPES = ['text', 'character varying', 'character', 'jsonb', 'json', 'inet'];

/** Every (table, column) that is a foreign key to users.id in the live schema. */
async function userLinks(db: DataSource): Promise<string[]> {
  const rows = (await db.query(`
    SELECT cl.relname AS t, a.attname AS c
    FROM pg_constraint k
    JOIN pg_class cl ON cl.oid = k.conrelid
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
    WHERE k.contype = 'f' AND k.confrelid = 'public.users'::regclass`)) as { t: string; c: string }[];
  return [...rows.map((r) => `${r.t}.${r.c}`), 'users.id'].sort();
}

/** Text-like columns of a table. */
async function textColumns(db: DataSource, table: string): Promise<string[]> {
  const rows = (await db.query(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND data_type = ANY($2)`, [table, TEXT_TYPES])) as { c: string }[];
  return rows.map((r) => r.c).sort();
}

/** Problems of the registry against the schema: unregistered links, undeclared text columns, unknown columns. */
async function registryProblems(db: DataSource, registry: readonly PersonalDataLink[]): Promise<string[]> {
  const problems: string[] = [];
  const declared = registry.map((l) => `${l.table}.${l.userColumn}`).sort();
  for (const l of await userLinks(db)) if (!declared.includes(l)) problems.push(`link ${l} not in the registry`);
  for (const l of declared) if (!(await userLinks(db)).includes(l)) problems.push(`registry link ${l} is not a foreign key to users`);
  for (const link of registry) {
    const all = ((await db.query(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [link.table])) as { c: string }[]).map((r) => r.c);
    for (const c of Object.keys(link.personal)) if (!all.includes(c)) problems.push(`${link.table}.${c} declared but absent`);
    for (const c of await textColumns(db, link.table)) {
      if (!(c in link.personal) && !(c in link.notPersonal)) problems.push(`${link.table}.${c} (via ${link.userColumn}) neither personal nor declared not personal`);
    }
  }
  return problems;
}

/** Every (table, column) of the database whose text contains `value`. */
async function whereIs(db: DataSource, value: string): Promise<string[]> {
  const cols = (await db.query(
    `SELECT table_name AS t, column_name AS c FROM information_schema.columns c JOIN information_schema.tables tb USING (table_schema, table_name)
     WHERE table_schema = 'public' AND tb.table_type = 'BASE TABLE' AND data_type = ANY($1) ORDER BY 1, 2`,
    [TEXT_TYPES],
  )) as { t: string; c: string }[];
  const hits: string[] = [];
  for (const { t: table, c } of cols) {
    const r = (await db.query(`SELECT count(*)::int AS n FROM "${table}" WHERE position($1 in "${c}"::text) > 0`, [value])) as { n: number }[];
    if (r[0]!.n > 0) hits.push(`${table}.${c}`);
  }
  return hits;
}

t.test('the personal-data registry covers every user-linked table and every text column', async (t) => {
  const app = await startTestApp(t);
  const db = app.app.db;
  t.same(await registryProblems(db, PERSONAL_DATA), [], 'registry matches the schema');
  // The check can fail: a new text column on a user-linked table, or a new table linked to users.
  await db.query(`ALTER TABLE sessions ADD COLUMN device_name text`);
  await db.query(`CREATE TABLE user_notes (id serial PRIMARY KEY, user_id uuid REFERENCES users(id), note text)`);
  const p = await registryProblems(db, PERSONAL_DATA);
  t.ok(p.includes('sessions.device_name (via user_id) neither personal nor declared not personal'), 'a forgotten column is reported');
  t.ok(p.includes('link user_notes.user_id not in the registry'), 'a forgotten user-linked table is reported');
});

interface Fixture {
  a: TestUser;
  b: TestUser;
  g: TestUser;
  uaA: string;
  uaB: string;
  ipA: string;
  ipB: string;
}

async function fixture(app: Awaited<ReturnType<typeof startTestApp>>): Promise<Fixture> {
  const db = app.app.db;
  const { groupementId, pharmacyIds } = await createGroupement(db, 1);
  const pharmacyId = pharmacyIds[0]!;
  const a = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId, totpSecret: 'JBSWY3DPEHPK3PXP', displayName: `Camille Durand ${randomBytes(2).toString('hex')}` });
  const b = await createUser(app.app, { role: 'user', pharmacyId, displayName: `Bastien Morel ${randomBytes(2).toString('hex')}` });
  const g = await createUser(app.app, { role: 'group_admin', groupementId });
  const uaA = `Mozilla/5.0 poste-A-${randomBytes(4).toString('hex')}`;
  const uaB = `Mozilla/5.0 poste-B-${randomBytes(4).toString('hex')}`;
  const ipA = '192.0.2.77';
  const ipB = '198.51.100.9';
  notePersonalValues(uaA, uaB);
  for (const [u, ua, ip] of [[a, uaA, ipA], [b, uaB, ipB]] as const) {
    await db.query(`INSERT INTO sessions (user_id, expires_at, ip, user_agent, revoked_at, revoked_reason) VALUES ($1, now() + interval '1 hour', $2, $3, now(), 'logout')`, [u.id, ip, ua]);
    await db.query(`INSERT INTO auth_tokens (user_id, purpose, token_hash, expires_at) VALUES ($1, 'reset_password', $2, now() + interval '30 minutes')`, [u.id, randomBytes(32)]);
    await db.query(`INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES ($1, $2)`, [u.id, randomBytes(32)]);
    await recordAudit(db, { action: 'auth.login.success', actorUserId: u.id, actorRole: u.role, pharmacyId, ip, targetType: 'session', targetId: randomBytes(8).toString('hex') });
  }
  await db.query(`INSERT INTO group_admin_grants (pharmacy_id, grantee_user_id, permission, granted_by) VALUES ($1, $2, 'aggregates', $3)`, [pharmacyId, g.id, a.id]);
  await db.query(`INSERT INTO legal_holds (pharmacy_id, reason, placed_by, placed_at) VALUES ($1, 'Contrôle fiscal 2025 : conserver', $2, now())`, [pharmacyId, a.id]);
  // B acts on A's account: A sees the event, not B's identity or address.
  await recordAudit(db, { action: 'user.disabled', actorUserId: b.id, actorRole: 'pharmacy_admin', pharmacyId, ip: ipB, targetType: 'user', targetId: a.id });
  return { a, b, g, uaA, uaB, ipA, ipB };
}

t.test('export: every personal field of the user, nothing about anyone else (JSON and CSV)', async (t) => {
  const app = await startTestApp(t);
  const db = app.app.db;
  const f = await fixture(app);
  const s = await sessionFor(app.app, f.a.id);

  const res = await app.request('/api/me/data-export', { headers: s.headers });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-disposition'), /attachment; filename="mes-donnees-officine.json"/);
  const text = await res.text();
  const e = JSON.parse(text) as PersonalDataExport;
  t.equal(e.userId, f.a.id);
  t.equal(e.sections.length, PERSONAL_DATA.length, 'one section per registry link');
  for (const link of PERSONAL_DATA) {
    const sec = e.sections.find((x) => x.table === link.table && x.link === link.userColumn)!;
    t.ok(sec, `section ${link.table}.${link.userColumn}`);
    for (const row of sec.rows) t.same(Object.keys(row).sort(), Object.keys(link.personal).sort(), `${link.table}.${link.userColumn}: exactly the declared columns`);
    // Every value stored for the user in a declared text column is in the export.
    for (const [c, mode] of Object.entries(link.personal)) {
      const stored = (await db.query(`SELECT "${c}"::text AS v FROM "${link.table}" WHERE "${link.userColumn}" = $1 AND "${c}" IS NOT NULL`, [f.a.id])) as { v: string }[];
      for (const { v } of stored) {
        if (mode === 'value') t.ok(sec.rows.some((r) => r[c] !== null && r[c] !== undefined), `${link.table}.${c} present`);
        if (mode === 'value' && !/^\d{4}-\d{2}-\d{2} /.test(v)) t.ok(text.includes(JSON.stringify(v).slice(1, -1)), `${link.table}.${c} value exported`);
        if (mode === 'presence') t.ok(sec.rows.every((r) => r[c] === true), `${link.table}.${c} exported as presence only`);
      }
    }
  }
  const users = e.sections.find((x) => x.table === 'users')!.rows[0]!;
  t.equal(users.email, f.a.email);
  t.equal(users.display_name, (await db.query(`SELECT display_name FROM users WHERE id = $1`, [f.a.id]))[0].display_name);
  t.equal(users.totp_secret_enc, true, 'the sealed TOTP seed is only said to exist');
  t.notOk(text.includes((await db.query(`SELECT totp_secret_enc FROM users WHERE id = $1`, [f.a.id]))[0].totp_secret_enc), 'the sealed seed itself is not handed out');
  for (const n of ['sessions', 'auth_tokens', 'totp_recovery_codes', 'legal_holds']) t.ok(e.sections.some((x) => x.table === n && x.rows.length > 0), `${n} rows exported`);
  t.ok(e.sections.find((x) => x.table === 'group_admin_grants' && x.link === 'granted_by')!.rows.length === 1, 'the grant A gave');
  t.ok(text.includes(f.uaA) && text.includes(f.ipA), 'own session details');
  t.same(e.audit.rows.map((r) => [r.action, r.as]).sort(), [['auth.login.success', 'acteur'], ['user.disabled', 'cible']], 'own audit trail, as actor and as target');

  for (const [what, v] of [['B email', f.b.email], ['B name', 'Bastien Morel'], ['B id', f.b.id], ['B user agent', f.uaB], ['B ip', f.ipB], ['grantee id', f.g.id], ['grantee email', f.g.email]] as const) {
    t.notOk(text.includes(v), `nothing about others: ${what}`);
  }

  const csv = await app.request('/api/me/data-export?format=csv', { headers: s.headers });
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type'), /text\/csv/);
  const raw = Buffer.from(await csv.arrayBuffer());
  t.same([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for spreadsheets');
  const body = raw.subarray(3).toString('utf8');
  t.match(body, /^section,ligne,champ,valeur\r\n/);
  t.ok(body.includes(`users.id,1,email,${f.a.email}`), 'email row in CSV');
  t.ok(body.includes(f.uaA), 'session in CSV');
  t.notOk(body.includes(f.b.email) || body.includes(f.uaB), 'nothing about B in CSV');
  const audits = (await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'gdpr.exported' AND actor_user_id = $1`, [f.a.id])) as { n: number }[];
  t.equal(audits[0]!.n, 2, 'each export is audited');
});

t.test('rectification and email opt-out', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });
  const s = await sessionFor(app.app, u.id);
  const patch = (body: unknown) => app.request('/api/me/profile', { method: 'PATCH', headers: { ...s.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  t.equal((await patch({ displayName: 'Claire Petit' })).status, 204);
  const newEmail = `claire-${randomBytes(3).toString('hex')}@pharmacie.test`;
  notePersonalValues(newEmail, 'Claire Petit');
  const noPw = await patch({ email: newEmail });
  t.equal(noPw.status, 422, 'email change needs the password');
  t.equal(((await noPw.json()) as { error: { message: string } }).error.message, 'Confirmez votre mot de passe pour changer d’adresse e-mail.');
  t.equal((await patch({ email: newEmail, password: 'wrong password here' })).status, 403, 'wrong password refused');
  t.equal((await patch({ email: newEmail, password: u.password })).status, 204);
  const row = (await app.app.db.query(`SELECT email, display_name FROM users WHERE id = $1`, [u.id]))[0];
  t.same(row, { email: newEmail, display_name: 'Claire Petit' });
  const ev = (await app.app.db.query(`SELECT details FROM audit_log WHERE action = 'gdpr.rectified' AND target_id = $1 ORDER BY id`, [u.id])) as { details: { fields: string[]; to?: string } }[];
  t.same(ev.map((x) => x.details.fields), [['display_name'], ['email']]);
  t.notOk(JSON.stringify(ev).includes(newEmail), 'the audit holds the email hashed only');

  const put = (optOut: unknown) => app.request('/api/me/email-preferences', { method: 'PUT', headers: { ...s.headers, 'content-type': 'application/json' }, body: JSON.stringify({ optOut }) });
  t.equal((await put(true)).status, 200);
  t.equal((await app.app.db.query(`SELECT email_opt_out FROM users WHERE id = $1`, [u.id]))[0].email_opt_out, true);
  const { GdprService } = await import('../../src/gdpr/gdpr.service.js');
  const sent: string[] = [];
  const { overrideAuthRuntime } = await import('../../src/auth/auth-runtime.js');
  overrideAuthRuntime(app.app, { mailer: { send: async (m) => void sent.push(m.subject) } });
  const svc = new GdprService(app.app);
  t.equal(await svc.sendToUser(u.id, 'optional', (to) => ({ to, subject: 'Lettre d’information', text: 'x' })), false, 'optional mail not sent after opt-out');
  t.equal(await svc.sendToUser(u.id, 'essential', (to) => ({ to, subject: 'Sécurité', text: 'x' })), true, 'essential mail still sent');
  t.same(sent, ['Sécurité']);
  t.equal((await put('yes')).status, 422, 'validated');
});

t.test('erasure: disabled at once, purged by the job, audit kept pseudonymised and the chain verifies', async (t) => {
  const app = await startTestApp(t);
  const db = app.app.db;
  const f = await fixture(app);
  const sealed = (await db.query(`SELECT totp_secret_enc FROM users WHERE id = $1`, [f.a.id]))[0].totp_secret_enc as string;
  const nameA = (await db.query(`SELECT display_name FROM users WHERE id = $1`, [f.a.id]))[0].display_name as string;
  const personalA = [f.a.email, nameA, f.uaA, f.ipA, sealed];
  const s = await sessionFor(app.app, f.a.id);
  const post = (password: string) => app.request('/api/me/erasure', { method: 'POST', headers: { ...s.headers, 'content-type': 'application/json' }, body: JSON.stringify({ password }) });

  t.equal((await post('not my password at all')).status, 403, 'password confirmation required');
  const ok = await post(f.a.password);
  t.equal(ok.status, 202);
  const purgeBy = new Date(((await ok.json()) as { purgeBy: string }).purgeBy);
  t.ok(purgeBy.getTime() - Date.now() <= 30 * 86_400_000, 'purge within 30 days');
  t.equal((await app.request('/api/me/data-export', { headers: s.headers })).status, 401, 'sessions ended at once');
  t.same((await db.query(`SELECT status, erasure_requested_at IS NOT NULL AS req FROM users WHERE id = $1`, [f.a.id]))[0], { status: 'disabled', req: true }, 'account disabled');

  const job = gdprJobs().find((j) => j.name === 'gdpr.erasure-purge')!;
  t.equal((await runJobOnce(app.app, job)).outcome, 'succeeded');
  t.same(await whereIs(db, f.a.email), ['users.email'], 'not purged before the delay (the job only purges due requests)');

  const outbox = join(app.app.config.dataDir, 'outbox');
  const mailedToA = () => existsSync(outbox) && readdirSync(outbox).some((n) => readFileSync(join(outbox, n), 'utf8').includes(f.a.email));
  for (let i = 0; i < 100 && !mailedToA(); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(mailedToA(), 'confirmation email written (demo outbox: no SMTP relay)');
  const later = { ...app.app, clock: { now: () => new Date(Date.now() + (app.app.config.GDPR_ERASURE_DELAY_DAYS + 1) * 86_400_000) } };
  t.equal((await runJobOnce(later, job)).outcome, 'succeeded');
  for (const v of personalA) t.same(await whereIs(db, v), [], `no trace of ${v === sealed ? 'the sealed TOTP seed' : 'a personal value'} in any text column of any table`);
  t.ok((await whereIs(db, f.b.email)).includes('users.email'), 'control: the scan finds the other user');
  t.notOk(mailedToA(), 'no mail file addressed to the user remains');
  t.ok((await whereIs(db, f.uaB)).includes('sessions.user_agent'), 'control: the other user’s session is untouched');

  const pseudo = userPseudonym(f.a.id);
  const rows = (await db.query(`SELECT actor_user_id, target_id, ip, action FROM audit_log WHERE actor_ref = $1 OR target_ref = $2 ORDER BY id`, [pseudo, auditRef('target', f.a.id)])) as { actor_user_id: string | null; target_id: string | null; ip: string | null; action: string }[];
  t.ok(rows.length >= 4, 'audit entries about the user are kept');
  const asActor = (await db.query(`SELECT actor_user_id FROM audit_log WHERE actor_ref = $1`, [pseudo])) as { actor_user_id: string | null }[];
  const asTarget = (await db.query(`SELECT target_id FROM audit_log WHERE target_ref = $1`, [auditRef('target', f.a.id)])) as { target_id: string | null }[];
  t.ok(asActor.length >= 2 && asActor.every((r) => r.actor_user_id === null), 'as actor: only the hash remains');
  t.ok(asTarget.length >= 2 && asTarget.every((r) => r.target_id === null), 'as target: only the hash remains');
  t.ok(rows.some((r) => r.actor_user_id === f.b.id), 'another user acting on the account stays identified (not erased)');
  t.ok(rows.filter((r) => r.action === 'auth.login.success').every((r) => r.ip === null), 'the user’s IPs are gone');
  const done = (await db.query(`SELECT details FROM audit_log WHERE action = 'gdpr.erasure.completed'`)) as { details: { subject: string; auditRows: number } }[];
  t.equal(done[0]!.details.subject, pseudo, 'erasure recorded under the pseudonym');
  t.equal(done[0]!.details.auditRows, rows.length, 'every earlier entry pseudonymised');
  t.match((await db.query(`SELECT email, display_name FROM users WHERE id = $1`, [f.a.id]))[0], { email: /^erased-[0-9a-f]{24}$/, display_name: 'Compte supprimé' }, 'tombstone');
  t.ok((await verifyAuditChain(db)).ok, 'audit chain still verifies');
  const cli = await runCli(['audit', 'verify'], { DATABASE_URL: (db.options as { url: string }).url, DATA_DIR: tempDir(t) });
  t.equal(cli.code, 0, '`appliance audit verify` stays green');

  // A backup from before the erasure is restored: the account comes back, the ledger (outside the DB) erases it again.
  const dataDir = app.app.config.dataDir;
  await db.query(`UPDATE users SET email = $2, display_name = 'Camille Durand (restaurée)', erased_at = NULL WHERE id = $1`, [f.a.id, f.a.email]);
  const re = await runCli(['gdpr', 'reapply-erasures'], { DATABASE_URL: (db.options as { url: string }).url, DATA_DIR: dataDir });
  t.equal(re.code, 0, re.stderr);
  t.match(re.stdout, /^1 compte\(s\) effacé\(s\) à nouveau \(1 dans le registre des effacements\)\./);
  t.same(await whereIs(db, f.a.email), [], 'erased again after the restore');
  t.notOk(readFileSync(join(dataDir, 'gdpr', 'erasure-ledger.jsonl'), 'utf8').includes('@'), 'the ledger holds ids only');

  await t.rejects(db.query(`UPDATE audit_log SET action = 'x.y' WHERE actor_ref = $1`, [pseudo]), /append-only/, 'other updates still refused');
  await t.rejects(db.query(`UPDATE audit_log SET actor_user_id = $2 WHERE actor_ref = $1`, [pseudo, f.b.id]), /append-only/, 'a pseudonymised row cannot be re-identified with another id');
  const su = new pgLib.Client({ connectionString: (db.options as { url: string }).url });
  await su.connect();
  t.teardown(() => su.end());
  await su.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
  await su.query(`UPDATE audit_log SET actor_user_id = $2 WHERE id = (SELECT min(id) FROM audit_log WHERE actor_ref = $1)`, [pseudo, f.b.id]);
  await su.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
  const v = await verifyAuditChain(db);
  t.same(v.problems.map((p) => p.kind), ['modified'], 'a plain value that does not match its hash is tampering');
});
