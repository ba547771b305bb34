import t, { type Test } from 'tap';
import { verifyAuditChain } from '../../src/audit/audit.service.js';
import { loadConfig } from '../../src/config/config.js';
import { SecretStore } from '../../src/config/secrets.js';
import { APP_VERSION } from '../../src/config/version.js';
import { createDataSource } from '../../src/db/data-source.js';
import type { AppContext } from '../../src/http/app-context.js';
import { createLogger } from '../../src/logging/logger.js';
import { ENVELOPE_CONTENT_TYPE } from '../../../agent/src/protocol/envelope.js';
import { AGENT_API } from '../../../agent/src/protocol/messages.js';
import { allowedWhileReadOnly } from '../../src/ops/read-only/read-only.middleware.js';
import { opsRuntime } from '../../src/ops/ops-runtime.js';
import { createTestDatabase } from '../helpers/db.js';
import { startTestApp, tempDir } from '../helpers/app.js';
import { anonymousHeaders, createGroupement, createUser, sessionFor } from '../helpers/auth.js';
import { cliEnv, runCli, spawnServe, waitFor } from '../helpers/ops-process.js';

const TOTP_SEED = 'JBSWY3DPEHPK3PXP';
const isReadOnly = async (base: string) => ((await (await fetch(`${base}/api/ops/read-only`)).json()) as { readOnly: boolean }).readOnly;
const tryWrite = (base: string) => fetch(`${base}/api/some/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

/** An AppContext on the same database and data directory as the spawned processes (same JWT key). */
async function sharedContext(t: Test, dbUrl: string, dataDir: string): Promise<AppContext> {
  const config = loadConfig({ envFile: '/dev/null', env: { NODE_ENV: 'test', DATABASE_URL: dbUrl, DATA_DIR: dataDir, LOG_LEVEL: 'silent' } });
  const ds = createDataSource(dbUrl, { poolSize: 2 });
  await ds.initialize();
  t.teardown(() => ds.destroy());
  return { config, db: ds, logger: createLogger('silent'), secrets: new SecretStore(config.secretsDir), clock: { now: () => new Date() }, version: APP_VERSION };
}

t.test('kill switch across two real serve processes: propagation, refusals, reads, restart, audit', async (t) => {
  const db = await createTestDatabase(t);
  const dataDir = tempDir(t, 'officine-ro-');
  const ctx = await sharedContext(t, db.url, dataDir);
  const admin = await createUser(ctx, { role: 'super_admin', totpSecret: TOTP_SEED });
  const adminSession = await sessionFor(ctx, admin.id); // also creates the shared JWT key before the processes start
  const { pharmacyIds } = await createGroupement(ctx.db, 1);
  const staff = await sessionFor(ctx, (await createUser(ctx, { role: 'pharmacy_admin', pharmacyId: pharmacyIds[0]!, totpSecret: TOTP_SEED })).id);
  const env = cliEnv(db.url, dataDir);
  const [a, b, missingReason] = await Promise.all([spawnServe(t, env), spawnServe(t, env), runCli(['readonly', 'on'], env)]);
  t.not(missingReason.code, 0, '--reason is mandatory');
  t.not(a.url, b.url, 'two processes on two ports');

  t.equal(await isReadOnly(a.url), false, 'starts writable');
  t.equal((await tryWrite(b.url)).status, 404, 'writes reach the router when writable (no such route)');

  const toggle = (base: string, headers: Record<string, string>, body: unknown) =>
    fetch(`${base}/api/admin/read-only`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  t.equal((await toggle(a.url, anonymousHeaders(ctx), { enabled: true, reason: 'x' })).status, 401, 'anonymous toggle refused');
  t.equal((await toggle(a.url, staff.headers, { enabled: true, reason: 'x' })).status, 403, 'a pharmacy admin may not toggle');
  const { 'x-csrf-token': _csrf, ...noCsrf } = adminSession.headers;
  t.equal((await toggle(a.url, noCsrf, { enabled: true, reason: 'x' })).status, 403, 'super-admin without CSRF token refused');
  t.equal(await isReadOnly(b.url), false, 'still writable');

  // On through process A's admin API; measure until process B refuses writes.
  const on = await toggle(a.url, adminSession.headers, { enabled: true, reason: 'Incident stockage' });
  t.equal(on.status, 200, 'switched on by a super-admin through A');
  // The UI banner asks A right after the POST: A must not wait for its own NOTIFY.
  t.equal(await isReadOnly(a.url), true, 'the process that took the switch reports it on the very next request');
  const viaApi = await waitFor(async () => (await tryWrite(b.url)).status === 503, 5000);
  t.ok(viaApi <= 1000, `propagated to B in ${viaApi.toFixed(0)} ms (≤ 1000)`);
  t.comment(`propagation A(API) → B: ${viaApi.toFixed(1)} ms`);

  const refused = await tryWrite(b.url);
  t.equal(refused.status, 503, 'write refused on B');
  t.equal(refused.headers.get('retry-after'), '300', 'Retry-After');
  t.equal(refused.headers.get('x-officine-read-only'), '1', 'read-only marker for agents and UI');
  const body = (await refused.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'read_only');
  t.match(body.error.message, /lecture seule/, 'French message');
  for (const m of ['PUT', 'PATCH', 'DELETE']) t.equal((await fetch(`${a.url}/api/x`, { method: m })).status, 503, `${m} refused on A`);
  t.equal((await fetch(`${b.url}/healthz`)).status, 200, 'reads served');
  t.equal((await fetch(`${b.url}/api/auth/session`, { headers: staff.headers })).status, 200, 'authenticated reads served');
  t.equal(await isReadOnly(b.url), true, 'banner state readable');
  const adminView = (await (await fetch(`${b.url}/api/admin/read-only`, { headers: adminSession.headers })).json()) as { reason: string; by: string };
  t.match(adminView, { reason: 'Incident stockage', by: /super-admin/ }, 'super-admin sees reason and actor');
  const login = await fetch(`${b.url}/api/auth/login`, { method: 'POST', headers: { ...anonymousHeaders(ctx), 'content-type': 'application/json' }, body: JSON.stringify({ email: admin.email, password: 'wrong password here' }) });
  t.equal(login.status, 401, 'login still reaches its handler (wrong password → 401, not 503)');
  const metrics = await (await fetch(b.metricsUrl)).text();
  t.match(b.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'the serve process exposes metrics on loopback');
  t.match(metrics, /officine_auth_failures_total\{reason="password"\} 1/, 'the failed login was counted');
  t.match(metrics, /officine_http_requests_total\{method="POST",route="unmatched",status_class="5xx"\} \d+/, 'refused writes counted as 503s');
  t.match(metrics, /officine_read_only 1/, 'read-only gauge');
  t.notMatch(metrics, /officine_http_server_errors_total\{route="unmatched"\}/, 'but not as server errors (no 5xx alert during maintenance)');

  // Off through the API (allow-listed path), on and off through the CLI.
  const off = await toggle(b.url, adminSession.headers, { enabled: false });
  t.equal(off.status, 200, 'switch can be turned off through the API while on');
  t.equal(await isReadOnly(b.url), false, 'off at once on the process that took it');
  const offMs = await waitFor(async () => !(await isReadOnly(a.url)), 5000);
  t.ok(offMs <= 1000, `off propagated to A in ${offMs.toFixed(0)} ms`);

  const cliOn = await runCli(['readonly', 'on', '--reason', 'Restauration en cours'], env);
  t.equal(cliOn.code, 0, 'CLI on');
  t.match(cliOn.stdout, /lecture seule ACTIVÉ/);
  const cliMs = await waitFor(async () => (await tryWrite(a.url)).status === 503 && (await tryWrite(b.url)).status === 503, 5000);
  t.ok(cliMs <= 1000, `CLI switch seen by both processes ${cliMs.toFixed(0)} ms after the CLI exited`);
  const st = await runCli(['readonly', 'status'], env);
  t.equal(st.code, 4, 'status exits 4 while read-only');
  t.match(st.stdout, /Restauration en cours/);

  // Restart B: the state lives in the database.
  await b.stop();
  const b2 = await spawnServe(t, env);
  t.equal((await tryWrite(b2.url)).status, 503, 'restarted process is read-only from its first request');
  t.equal((await fetch(`${b2.url}/healthz`)).status, 200, 'and serves reads');

  const cliOff = await runCli(['readonly', 'off'], env);
  t.equal(cliOff.code, 0, 'CLI off');
  await waitFor(async () => (await tryWrite(b2.url)).status === 404 && (await tryWrite(a.url)).status === 404, 1000);
  t.pass('writes accepted again on both processes within 1 s');

  const audit = (await ctx.db.query(
    `SELECT action, level, actor_user_id, actor_role, details FROM audit_log WHERE action LIKE 'ops.read_only.%' ORDER BY id`,
  )) as { action: string; level: string; actor_user_id: string | null; actor_role: string | null; details: Record<string, unknown> }[];
  t.same(audit.map((e) => e.action), ['ops.read_only.enabled', 'ops.read_only.disabled', 'ops.read_only.enabled', 'ops.read_only.disabled'], 'every change in the hash-chained audit log');
  t.match(audit[0], { actor_user_id: admin.id, actor_role: 'super_admin', level: 'warning', details: { reason: 'Incident stockage' } }, 'API actor');
  t.match(audit[2], { actor_user_id: null, actor_role: 'console', details: { via: 'console', command: 'readonly', reason: 'Restauration en cours' } }, 'CLI actor (OS account)');
  t.match(await verifyAuditChain(ctx.db), { ok: true }, 'audit chain intact');
});

t.test('in-process: real write route refused then served; allow-list', async (t) => {
  const app = await startTestApp(t, {}, {
    extraRoutes: [(r) => r.post('/api/test/write', (ctx) => void (ctx.body = { ok: true }))],
  });
  const write = () => app.request('/api/test/write', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal((await write()).status, 200, 'write served');
  const actor = { audit: { actorUserId: null, actorRole: 'console', details: { via: 'test' } }, label: 'test' };
  await opsRuntime(app.app).readOnlyService.enable('test', actor);
  await waitFor(async () => (await write()).status === 503, 1000);
  t.pass('write refused once on');
  const agentPost = () => app.request(AGENT_API.messages, { method: 'POST', headers: { 'content-type': ENVELOPE_CONTENT_TYPE }, body: 'not an envelope' });
  const agentRefused = await agentPost();
  t.equal(agentRefused.status, 503, 'the real agent route is refused: the agent keeps its batches and retries');
  t.equal(agentRefused.headers.get('x-officine-read-only'), '1', 'marked read-only for the agent');
  t.ok(Number(agentRefused.headers.get('retry-after')) > 0, 'with a Retry-After');
  await opsRuntime(app.app).readOnlyService.disable(actor);
  await waitFor(async () => (await write()).status === 200, 1000);
  t.pass('write served again once off');
  t.equal((await agentPost()).status, 400, 'the agent route reaches the channel again once off (which refuses the garbage)');
  await t.rejects(opsRuntime(app.app).readOnlyService.enable('  ', actor), { code: 'read_only_reason' }, 'reason required');

  t.ok(allowedWhileReadOnly('GET', '/api/anything'), 'GET allowed');
  t.ok(allowedWhileReadOnly('POST', '/api/auth/login'), 'login allowed');
  t.ok(allowedWhileReadOnly('POST', '/api/admin/read-only'), 'the switch itself allowed');
  t.notOk(allowedWhileReadOnly('POST', '/api/admin/read-only/../x'), 'no prefix tricks');
  t.notOk(allowedWhileReadOnly('POST', AGENT_API.messages), 'the agent channel refused (agents get 503 and spool)');
  t.notOk(allowedWhileReadOnly('POST', AGENT_API.enrol), 'agent enrolment refused');
  t.notOk(allowedWhileReadOnly('POST', '/api/auth/password/forgot'), 'other auth writes refused');
  t.notOk(allowedWhileReadOnly('DELETE', '/api/auth/login'), 'other methods on allowed paths refused');
});
