import { join } from 'node:path';
import Koa from 'koa';
import { Router } from '@koa/router';
import pino from 'pino';
import t from 'tap';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import { registerAgentAdminRoutes, type AgentAdminPrincipal } from '../../src/agent-channel/agent-admin.routes.js';
import { errorHandler } from '../../src/http/error-handler.middleware.js';
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

t.test('admin routes: only a pharmacy admin of that pharmacy or a super-admin', async (t) => {
  const srv = await startChannelApp(t);
  const mine = await createPharmacy(srv.ds);
  const other = await createPharmacy(srv.ds);

  const unauth = await fetch(`${srv.url}/api/pharmacies/${mine}/agents/enrolment-codes`, { method: 'POST' });
  t.equal(unauth.status, 401, 'no session: refused (fails closed until identity is wired)');

  // The identity module will set ctx.state.user; here a stand-in does.
  let user: AgentAdminPrincipal | undefined;
  const koa = new Koa();
  const router = new Router();
  registerAgentAdminRoutes(router, srv.app);
  koa.use(errorHandler(srv.app.logger));
  koa.use(async (ctx, next) => {
    ctx.state.user = user;
    await next();
  });
  koa.use(router.routes());
  const server = koa.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const call = (path: string, method = 'POST') => fetch(base + path, { method });

  user = { id: '00000000-0000-4000-8000-000000000001', role: 'user', pharmacyId: mine };
  t.equal((await call(`/api/pharmacies/${mine}/agents/enrolment-codes`)).status, 403, 'plain staff cannot create codes');
  user = { id: '00000000-0000-4000-8000-000000000002', role: 'pharmacy_admin', pharmacyId: other };
  t.equal((await call(`/api/pharmacies/${mine}/agents/enrolment-codes`)).status, 403, 'admin of another pharmacy cannot');
  user = { id: '00000000-0000-4000-8000-000000000003', role: 'pharmacy_admin', pharmacyId: mine };
  await srv.ds.query(`INSERT INTO users (id, email, display_name, password_hash, role, pharmacy_id, status) VALUES ($1, 'admin@pharmacie.test', 'Admin', 'x', 'pharmacy_admin', $2, 'active')`, [user.id, mine]);
  const created = await call(`/api/pharmacies/${mine}/agents/enrolment-codes`);
  t.equal(created.status, 201, 'pharmacy admin creates a code');
  const { code } = (await created.json()) as { code: string };
  t.match(code, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);

  const dir = tempDir(t, 'officine-agent-admin-');
  await writeReferenceSqlite(join(dir, 'lgo', 'lgo.db'), { saleLines: 10 });
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: join(dir, 'lgo', 'lgo.db') }, roots: [join(dir, 'lgo')], batchSize: 100, pollSeconds: 60, maxSpoolMB: 10 });
  const enrolled = await enrolAgent(store, srv.url, code);
  t.equal(enrolled.pharmacyId, mine, 'agent enrolled for the code’s pharmacy');

  const list = (await (await call(`/api/pharmacies/${mine}/agents`, 'GET')).json()) as { agents: { id: string; status: string }[] };
  t.same(list.agents.map((a) => [a.id, a.status]), [[enrolled.agentId, 'active']], 'listed');
  user = { id: '00000000-0000-4000-8000-000000000002', role: 'pharmacy_admin', pharmacyId: other };
  t.equal((await call(`/api/pharmacies/${mine}/agents/${enrolled.agentId}/revoke`)).status, 403, 'another pharmacy’s admin cannot revoke');
  t.equal((await call(`/api/pharmacies/${other}/agents/${enrolled.agentId}/revoke`)).status, 404, 'nor reach it through their own pharmacy');
  user = { id: '00000000-0000-4000-8000-000000000009', role: 'super_admin', pharmacyId: null };
  await srv.ds.query(`INSERT INTO users (id, email, display_name, password_hash, role, status) VALUES ($1, 'root@appliance.test', 'Root', 'x', 'super_admin', 'active')`, [user.id]);
  t.equal((await call(`/api/pharmacies/${mine}/agents/${enrolled.agentId}/revoke`)).status, 204, 'super-admin revokes');

  const runner = new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 10, maxMs: 20 });
  await t.rejects(runner.run(new AbortController().signal, { once: true }), { name: 'AgentRevokedError' }, 'the revoked agent stops');
  t.equal(store.readState().revoked, true, 'and remembers it');
});
