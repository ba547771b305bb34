import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import type { Role } from '../../src/auth/user.entity.js';
import { anonymousHeaders, createUser, sessionFor } from '../helpers/auth.js';
import { tempDir } from '../helpers/app.js';
import { createPharmacy, enrolmentCode, startCapturingProxy, startChannelApp } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(25);
  }
  throw new Error(`timed out: ${what}`);
}

t.test('while the appliance answers 503 (read-only) the agent keeps spooling, then resumes by itself', async (t) => {
  const srv = await startChannelApp(t);
  const proxy = await startCapturingProxy(t, () => srv.url);
  const pharmacyId = await createPharmacy(srv.ds);
  const dir = tempDir(t, 'officine-agent-ro-');
  const counts = await writeReferenceSqlite(join(dir, 'lgo', 'lgo.db'), { saleLines: 2000, products: 50, purchaseLines: 100 });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: join(dir, 'lgo', 'lgo.db') }, roots: [join(dir, 'lgo')], batchSize: 250, pollSeconds: 3600, maxSpoolMB: 100 });
  await enrolAgent(store, proxy.url, await enrolmentCode(srv.app, pharmacyId));

  proxy.unavailable = 1_000_000;
  const ac = new AbortController();
  const runner = new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 20, maxMs: 100 });
  const running = runner.run(ac.signal);
  await until('extraction spooled while read-only', () => store.readState().lastSummary !== null && proxy.served503 >= 3);
  const spooled = store.spool().list().length;
  t.ok(spooled >= 12, `everything extracted went to the spool (${spooled} entries)`);
  const rows = async () => ((await srv.ds.query(`SELECT count(*)::int AS n FROM agent_staged_rows WHERE pharmacy_id = $1`, [pharmacyId])) as { n: number }[])[0]!.n;
  t.equal(await rows(), 0, 'nothing reached the database while read-only');
  t.match(store.readState().lastError, /HTTP 503/, 'status shows the outage');

  proxy.unavailable = 0;
  await until('spool drained', () => store.spool().list().length === 0);
  await until('rows in', async () => (await rows()) === total);
  t.equal(await rows(), total, 'every line arrived once the appliance is writable again');
  const [d] = (await srv.ds.query(`SELECT max(deliveries) AS m FROM agent_staged_rows WHERE pharmacy_id = $1`, [pharmacyId])) as { m: number }[];
  t.equal(d!.m, 1, 'no line delivered twice');
  ac.abort();
  await running;
  t.ok(store.readState().lastAckAt, 'last acknowledgement recorded');
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
