import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import t from 'tap';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import type { Role } from '../../src/auth/user.entity.js';
import { anonymousHeaders, createUser, sessionFor } from '../helpers/auth.js';
import { tempDir } from '../helpers/app.js';
import { projectRoot } from '../../src/config/version.js';
import { cliEnv, runCli } from '../helpers/ops-process.js';
import { createPharmacy, enrolmentCode, startChannelApp, factCounts, factRows } from './helpers.js';

const AGENT = join(projectRoot(), 'dist/agent/src/cli/main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(25);
  }
  throw new Error(`timed out: ${what}`);
}

t.test('the real kill switch: the agent keeps spooling and says it waits, then resumes by itself; every line once', async (t) => {
  const srv = await startChannelApp(t);
  const pharmacyId = await createPharmacy(srv.ds);
  const dir = tempDir(t, 'officine-agent-ro-');
  const counts = await writeReferenceSqlite(join(dir, 'lgo', 'lgo.db'), { saleLines: 2000, products: 50, purchaseLines: 100 });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: join(dir, 'lgo', 'lgo.db') }, roots: [join(dir, 'lgo')], batchSize: 250, pollSeconds: 3600, maxSpoolMB: 100 });
  await enrolAgent(store, srv.url, await enrolmentCode(srv.app, pharmacyId));

  // The operator's switch, as in production: `appliance readonly on` in another process; the
  // serving process learns it through the database (LISTEN/NOTIFY), not from this test.
  const env = cliEnv(srv.dbUrl, dirname(srv.secretsDir));
  const on = await runCli(['readonly', 'on', '--reason', 'Restauration en cours'], env);
  t.equal(on.code, 0, `appliance readonly on ${on.stderr}`);
  const readOnly = async () => ((await (await fetch(`${srv.url}/api/ops/read-only`)).json()) as { readOnly: boolean }).readOnly;
  await until('the serving process is read-only', readOnly, 5000);

  const agentLog: { msg: string; status?: number; delayMs?: number; retryAfterMs?: number }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void agentLog.push(JSON.parse(line) as (typeof agentLog)[number]) });
  const backoff = { baseMs: 20, maxMs: 150 };
  const ac = new AbortController();
  const running = new SyncRunner(store, store.readConfig(), logger, backoff).run(ac.signal);
  const refusals = () => agentLog.filter((l) => l.msg === 'send failed, will retry');
  await until('extraction done while read-only, sends refused', () => store.readState().lastSummary !== null && refusals().length >= 3);

  const rows = async () => Object.values(await factCounts(srv.ds, pharmacyId)).reduce((a, f) => a + f.received, 0);
  t.equal(await rows(), 0, 'nothing reached the database while read-only');
  const [{ n: channelBatches }] = (await srv.ds.query(`SELECT count(*)::int AS n FROM agent_batches WHERE pharmacy_id = $1`, [pharmacyId])) as [{ n: number }];
  t.equal(channelBatches, 0, 'no batch recorded by the channel either');
  const spooled = store.spool().list();
  const spooledBatches = spooled.map((e) => JSON.parse(gunzipSync(store.spool().read(e)).toString('utf8')) as { type: string; rows?: unknown[] }).filter((m) => m.type === 'batch');
  t.equal(spooledBatches.reduce((a, m) => a + m.rows!.length, 0), total, `nothing lost: every source line waits in the spool (${spooled.length} entries)`);
  t.ok(refusals().every((l) => l.status === 503 && l.retryAfterMs === 300_000), 'every send met the appliance’s own 503 with Retry-After: 300');
  t.ok(
    refusals().every((l) => l.delayMs! >= backoff.maxMs * 0.8 && l.delayMs! <= backoff.maxMs),
    `the agent honours Retry-After, capped to its max backoff with jitter (delays ${[...new Set(refusals().map((l) => l.delayMs))].slice(0, 5).join(', ')} ms…)`,
  );
  t.match(store.readState().lastError, /lecture seule \(HTTP 503\).*file d’attente/, 'the agent records that it waits for the appliance');
  const status = spawnSync(process.execPath, [AGENT, '--dir', store.dir, 'status'], { encoding: 'utf8' });
  t.equal(status.status, 0, status.stderr);
  t.match(status.stdout, new RegExp(`File d’attente :\\s+${spooled.length} lot\\(s\\)`), '`officine-agent status` shows the waiting batches');
  t.match(status.stdout, /Dernière erreur :\s+appliance en lecture seule/, 'and why they wait');
  t.match(status.stdout, /Dernière synchro :\s+jamais/, 'and that no sync completed');

  const off = await runCli(['readonly', 'off'], env);
  t.equal(off.code, 0, `appliance readonly off ${off.stderr}`);
  const offAt = Date.now();
  await until('spool drained', () => store.spool().list().length === 0, 30_000);
  t.comment(`spool drained ${Date.now() - offAt} ms after the switch went off`);
  await until('sync recorded', () => store.readState().lastSyncAt !== null, 10_000);
  t.equal(await rows(), total, 'every line arrived once the appliance is writable again, with no action on the agent');
  const facts = Object.values(await factCounts(srv.ds, pharmacyId));
  t.equal(facts.reduce((a, f) => a + f.inserted + f.quarantined, 0), total, 'each stored (or quarantined) once');
  t.equal(facts.reduce((a, f) => a + f.unchanged + f.updated, 0), 0, 'no line delivered twice (nothing re-ingested as unchanged or updated)');
  t.equal(await factRows(srv.ds, pharmacyId), total - facts.reduce((a, f) => a + f.quarantined, 0), 'the fact tables hold exactly the stored lines');
  ac.abort();
  await running;
  const after = store.readState();
  t.ok(after.lastAckAt, 'last acknowledgement recorded');
  t.equal(after.lastError, null, 'the waiting notice is cleared once acknowledged');
  const audit = (await srv.ds.query(`SELECT action, actor_role FROM audit_log WHERE action LIKE 'ops.read_only.%' ORDER BY id`)) as { action: string; actor_role: string }[];
  t.same(audit, [{ action: 'ops.read_only.enabled', actor_role: 'console' }, { action: 'ops.read_only.disabled', actor_role: 'console' }], 'the switch went through the audited console path');
});

t.test('admin routes: a pharmacy admin on their own pharmacy, a super-admin for revocation', async (t) => {
  const srv = await startChannelApp(t);
  const mine = await createPharmacy(srv.ds);
  const other = await createPharmacy(srv.ds);
  const totpSecret = 'JBSWY3DPEHPK3PXP';
  const as = async (role: Role, pharmacyId: string | null) => (await sessionFor(srv.app, (await createUser(srv.app, { role, pharmacyId, ...(role === 'pharmacy_admin' || role === 'super_admin' ? { totpSecret } : {}) })).id)).headers;
  const call = (path: string, headers: Record<string, string>, method = 'POST') => fetch(srv.url + path, { method, headers });
  const codes = `/api/pharmacies/${mine}/agents/enrolment-codes`;

  t.equal((await call(codes, anonymousHeaders(srv.app))).status, 401, 'anonymous: refused');
  t.equal((await call(codes, await as('user', mine))).status, 403, 'plain staff cannot create codes');
  const otherAdmin = await as('pharmacy_admin', other);
  t.equal((await call(codes, otherAdmin)).status, 403, 'admin of another pharmacy cannot');
  const admin = await as('pharmacy_admin', mine);
  const created = await call(codes, admin);
  t.equal(created.status, 201, 'pharmacy admin creates a code');
  const { code } = (await created.json()) as { code: string };
  t.match(code, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);

  const dir = tempDir(t, 'officine-agent-admin-');
  await writeReferenceSqlite(join(dir, 'lgo', 'lgo.db'), { saleLines: 10 });
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: join(dir, 'lgo', 'lgo.db') }, roots: [join(dir, 'lgo')], batchSize: 100, pollSeconds: 60, maxSpoolMB: 10 });
  const enrolled = await enrolAgent(store, srv.url, code);
  t.equal(enrolled.pharmacyId, mine, 'agent enrolled for the code’s pharmacy (no cookie, no CSRF token: the channel authenticates)');

  const list = (await (await call(`/api/pharmacies/${mine}/agents`, admin, 'GET')).json()) as { agents: { id: string; status: string }[] };
  t.same(list.agents.map((a) => [a.id, a.status]), [[enrolled.agentId, 'active']], 'listed');
  t.equal((await call(`/api/pharmacies/${mine}/agents/${enrolled.agentId}/revoke`, otherAdmin)).status, 403, 'another pharmacy’s admin cannot revoke');
  t.equal((await call(`/api/pharmacies/${other}/agents/${enrolled.agentId}/revoke`, otherAdmin)).status, 404, 'nor reach it through their own pharmacy');
  t.equal((await call(`/api/admin/agents/${enrolled.agentId}/revoke`, admin)).status, 403, 'the super-admin route is not for pharmacy admins');
  const root = await as('super_admin', null);
  t.equal((await call(`/api/admin/agents/${enrolled.agentId}/revoke`, root)).status, 204, 'super-admin revokes');
  const audit = (await srv.ds.query(`SELECT action FROM audit_log WHERE action LIKE 'agent.%' ORDER BY id`)) as { action: string }[];
  t.same(audit.map((a) => a.action), ['agent.enrolment_code.created', 'agent.revoked'], 'audited');

  const runner = new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 10, maxMs: 20 });
  await t.rejects(runner.run(new AbortController().signal, { once: true }), { name: 'AgentRevokedError' }, 'the revoked agent stops');
  t.equal(store.readState().revoked, true, 'and remembers it');

  const code3 = ((await (await call(codes, admin)).json()) as { code: string }).code;
  const store3 = new AgentStore(join(dir, 'agent3'));
  const { profile, source, roots } = store.readConfig();
  store3.writeConfig({ profile, source, roots, batchSize: 100, pollSeconds: 60, maxSpoolMB: 10 });
  const e3 = await enrolAgent(store3, srv.url, code3);
  t.equal((await call(`/api/pharmacies/${mine}/agents/${e3.agentId}/revoke`, admin)).status, 204, 'pharmacy admin revokes their own agent');
});
