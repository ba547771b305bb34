import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createTestDatabase } from '../helpers/db.js';
import { startTestApp, tempDir } from '../helpers/app.js';
import { allowedWhileReadOnly } from '../../src/ops/read-only/read-only.middleware.js';
import { cliEnv, runCli, spawnServe, waitFor, writeAdminToken } from '../helpers/ops-process.js';

const isReadOnly = async (base: string) => ((await (await fetch(`${base}/api/ops/read-only`)).json()) as { readOnly: boolean }).readOnly;
const tryWrite = (base: string) => fetch(`${base}/api/some/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

t.test('kill switch across two real serve processes: propagation, refusals, reads, restart, audit', async (t) => {
  const db = await createTestDatabase(t);
  const dataDir = tempDir(t, 'officine-ro-');
  const token = writeAdminToken(dataDir);
  const env = cliEnv(db.url, dataDir);
  const [a, b] = await Promise.all([spawnServe(t, env), spawnServe(t, env)]);
  t.not(a.url, b.url, 'two processes on two ports');

  t.equal(await isReadOnly(a.url), false, 'starts writable');
  t.equal((await tryWrite(b.url)).status, 404, 'writes reach the router when writable (no such route)');

  // Unauthenticated toggles are refused even though the path is allow-listed.
  const anon = await fetch(`${a.url}/api/admin/read-only`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true, reason: 'x' }) });
  t.equal(anon.status, 401, 'toggle without credentials refused');
  const wrong = await fetch(`${a.url}/api/admin/read-only`, { method: 'POST', headers: { authorization: 'Bearer wrong-token-0123456789', 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true, reason: 'x' }) });
  t.equal(wrong.status, 403, 'toggle with a wrong token refused');
  t.equal(await isReadOnly(b.url), false, 'still writable');

  // On through process A's admin API; measure until process B refuses writes.
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const on = await fetch(`${a.url}/api/admin/read-only`, { method: 'POST', headers: auth, body: JSON.stringify({ enabled: true, reason: 'Incident stockage' }) });
  t.equal(on.status, 200, 'switched on via the admin API of A');
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
  t.equal(await isReadOnly(b.url), true, 'banner state readable');
  const adminView = (await (await fetch(`${b.url}/api/admin/read-only`, { headers: auth })).json()) as { reason: string; by: string };
  t.match(adminView, { reason: 'Incident stockage', by: 'token:ops-admin' }, 'super-admin sees reason and actor');

  // Off through the API (allow-listed path), on and off through the CLI.
  const off = await fetch(`${b.url}/api/admin/read-only`, { method: 'POST', headers: auth, body: JSON.stringify({ enabled: false }) });
  t.equal(off.status, 200, 'switch can be turned off through the API while on');
  const offMs = await waitFor(async () => !(await isReadOnly(a.url)), 5000);
  t.ok(offMs <= 1000, `off propagated to A in ${offMs.toFixed(0)} ms`);

  const cliOn = await runCli(['readonly', 'on', '--reason', 'Restauration en cours'], env);
  t.equal(cliOn.code, 0, 'CLI on');
  t.match(cliOn.stdout, /lecture seule ACTIVÉ/);
  const cliMs = await waitFor(async () => (await tryWrite(a.url)).status === 503 && (await tryWrite(b.url)).status === 503, 5000);
  t.ok(cliMs <= 1000, `CLI switch seen by both processes ${cliMs.toFixed(0)} ms after the CLI exited`);
  const missingReason = await runCli(['readonly', 'on'], env);
  t.not(missingReason.code, 0, '--reason is mandatory');
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

  const audit = readFileSync(join(dataDir, 'audit', 'ops-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: string; details?: { reason?: string } });
  t.same(audit.map((e) => e.action), ['ops.read_only.enable', 'ops.read_only.disable', 'ops.read_only.enable', 'ops.read_only.disable'], 'every change audited');
  t.equal(audit[0]!.actor, 'token:ops-admin');
  t.match(audit[2]!.actor, /^cli:/, 'CLI actor recorded');
  t.equal(audit[2]!.details?.reason, 'Restauration en cours');
});

t.test('in-process: real write route refused then served; allow-list', async (t) => {
  const app = await startTestApp(t, {}, {
    extraRoutes: [(r) => r.post('/api/test/write', (ctx) => void (ctx.body = { ok: true }))],
  });
  const write = () => app.request('/api/test/write', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal((await write()).status, 200, 'write served');
  const { opsRuntime } = await import('../../src/ops/ops-runtime.js');
  await opsRuntime(app.app).readOnlyService.enable('test', 'test:actor');
  await waitFor(async () => (await write()).status === 503, 1000);
  t.pass('write refused once on');
  await opsRuntime(app.app).readOnlyService.disable('test:actor');
  await waitFor(async () => (await write()).status === 200, 1000);
  t.pass('write served again once off');
  await t.rejects(opsRuntime(app.app).readOnlyService.enable('  ', 'x'), { code: 'read_only_reason' }, 'reason required');

  t.ok(allowedWhileReadOnly('GET', '/api/anything'), 'GET allowed');
  t.ok(allowedWhileReadOnly('POST', '/api/auth/login'), 'login allowed');
  t.ok(allowedWhileReadOnly('POST', '/api/admin/read-only'), 'the switch itself allowed');
  t.notOk(allowedWhileReadOnly('POST', '/api/admin/read-only/../x'), 'no prefix tricks');
  t.notOk(allowedWhileReadOnly('POST', '/api/agent/batches'), 'agent ingestion refused (agents spool)');
  t.notOk(allowedWhileReadOnly('DELETE', '/api/auth/login'), 'other methods on allowed paths refused');
});
