import { execFileSync } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { startTestApp, tempDir } from '../helpers/app.js';
import { cliEnv, runCli } from '../helpers/ops-process.js';
import { buildStatusService } from '../../src/ops/ops.factory.js';
import { renderStatus } from '../../src/ops/status/status.presenter.js';
import { TlsProbe } from '../../src/ops/status/status.probes.js';
import type { StatusReport } from '../../src/ops/status/status.service.js';
import type { OpsProviders } from '../../src/ops/ops.providers.js';

/** A self-signed certificate valid for `days` days (openssl CLI). */
function makeCert(dir: string, days: number): { cert: string; key: string } {
  const cert = join(dir, `cert-${days}.pem`);
  const key = join(dir, `key-${days}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(days), '-subj', '/CN=officine.test', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

t.test('status report: every section, French rendering, providers', async (t) => {
  const dir = tempDir(t);
  const { cert } = makeCert(dir, 10);
  const app = await startTestApp(t, { TLS_CERT_FILE: cert });
  const now = new Date();
  const providers: OpsProviders = {
    backups: { targets: async () => [{ target: 'nas', lastBackupAt: new Date(now.getTime() - 3600_000), lastBackupOk: true, lastDrillAt: new Date(now.getTime() - 10 * 86_400_000), lastDrillOk: true }] },
    agents: {
      agents: async () => [
        { agentId: 'a1', pharmacyName: 'Pharmacie du Port', lastSeenAt: new Date(now.getTime() - 60_000) },
        { agentId: 'a2', pharmacyName: 'Pharmacie des Halles', lastSeenAt: new Date(now.getTime() - 72 * 3600_000) },
      ],
    },
    jobRuns: { jobs: async () => [], runsSince: async () => [{ job: 'backup', startedAt: new Date(now.getTime() - 3600_000), finishedAt: null, outcome: 'succeeded' }], firstRunAt: async () => null },
  };
  const r = await buildStatusService(app.app, providers).collect();
  t.equal(r.version, app.app.version);
  t.ok(!('error' in r.system), 'system section read');
  if (!('error' in r.system)) {
    t.ok(r.system.memory.totalBytes > 0 && r.system.disks.length >= 1, 'memory and disk');
    t.equal(r.system.load.length, 3, 'load averages');
  }
  t.match(r.postgres, { ok: true, version: /^\d+/ });
  t.ok((r.postgres.sizeBytes ?? 0) > 0 && (r.postgres.connections ?? 0) >= 1, 'database size and connections');
  t.equal(r.processes.web.ok, false, 'web probe uses HOST:PORT from config (PORT=0 here: nothing there)');
  t.equal(r.processes.web.instances, 1, 'the test app counted through its database listener');
  t.ok(r.processes.web.uptimeS !== null && r.processes.web.uptimeS >= 0, 'web uptime');
  t.match(r.tls, { subject: /officine\.test/, daysLeft: 9 }, 'certificate from TLS_CERT_FILE');
  t.match(r.backups, { available: true, targets: [{ target: 'nas', lastBackupOk: true }] });
  t.match(r.agents, { available: true, total: 2, online: 1, late: [{ agentId: 'a2' }] });
  t.match(r.readOnly, { enabled: false });
  t.same(r.migrations, { pending: [] });
  const text = renderStatus(r);
  for (const label of ['Système', 'Processeur', 'Processus web', 'Mémoire', 'Disque /', 'PostgreSQL', 'Connexions', 'Certificat TLS', 'À RENOUVELER', 'Sauvegardes', 'exercice de restauration', 'Pharmacie des Halles', 'Mode lecture seule', 'Migrations en attente']) {
    t.match(text, label, `French label « ${label} »`);
  }
});

t.test('TLS probe reads the certificate served at PUBLIC_URL', async (t) => {
  const dir = tempDir(t);
  const { cert, key } = makeCert(dir, 40);
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const info = await new TlsProbe(undefined, `https://127.0.0.1:${(server.address() as AddressInfo).port}/`).certificate();
  t.ok(info, 'certificate read');
  const days = (info!.notAfter.getTime() - Date.now()) / 86_400_000;
  t.ok(days > 39 && days <= 40, `expires in ${days.toFixed(1)} days`);
  t.equal(await new TlsProbe(undefined, 'http://127.0.0.1:1/').certificate(), null, 'nothing to watch over plain http');
});

t.test('appliance status --json (real CLI): stable keys, exit code follows health', async (t) => {
  const app = await startTestApp(t);
  const port = new URL(app.url).port;
  const env = cliEnv(app.app.config.DATABASE_URL!, tempDir(t), { PORT: port });
  const ok = await runCli(['status', '--json'], env);
  t.equal(ok.code, 0, `healthy → exit 0 ${ok.stderr}`);
  const r = JSON.parse(ok.stdout) as StatusReport;
  t.same(Object.keys(r), ['version', 'generatedAt', 'system', 'postgres', 'processes', 'tls', 'backups', 'agents', 'readOnly', 'migrations'], 'stable top-level keys');
  t.match(r, { processes: { web: { ok: true, instances: 1 }, scheduler: { available: true, active: false } }, backups: { available: true, targets: [] }, agents: { available: false }, tls: null });

  const down = await runCli(['status'], { ...env, PORT: '1' });
  t.equal(down.code, 1, 'web server down → exit 1');
  t.match(down.stdout, /Serveur web\s+ARRÊTÉ/, 'French text');
  t.match(down.stdout, /Planificateur\s+ARRÊTÉ/, 'no scheduler holds the runner lock');
  t.match(down.stdout, /AUCUNE CIBLE CONFIGURÉE/, 'no backup target configured');
  t.match(down.stdout, /Agents\s+non disponible/, 'modules not installed yet shown as such');
});

t.test('status shows the WAL spool: segments waiting and the oldest one’s age, late beyond BACKUP_WAL_SPOOL_MAX_AGE_S', async (t) => {
  const spool = tempDir(t, 'officine-spool-');
  const app = await startTestApp(t, { BACKUP_WAL_ARCHIVING: 'on', BACKUP_WAL_SPOOL_DIR: spool, BACKUP_WAL_SPOOL_MAX_AGE_S: '600' });
  const providers: OpsProviders = {
    backups: { targets: async () => [] },
    agents: { agents: async () => null },
    jobRuns: { jobs: async () => null, runsSince: async () => [], firstRunAt: async () => null },
  };
  const empty = await buildStatusService(app.app, providers).collect();
  t.match(empty.backups, { walSpool: { dir: spool, pending: 0, oldestAgeS: null, maxAgeS: 600 } }, 'empty spool');
  const old = new Date(Date.now() - 20 * 60_000);
  for (const n of ['000000010000000000000007', '000000010000000000000008']) writeFileSync(join(spool, n), 'x');
  utimesSync(join(spool, '000000010000000000000007'), old, old);
  writeFileSync(join(spool, '.000000010000000000000009.tmp'), 'copy in progress');
  const r = await buildStatusService(app.app, providers).collect();
  t.match(r.backups, { walSpool: { pending: 2 } }, 'two segments waiting (the temp copy is not one)');
  const w = 'error' in r.backups ? null : r.backups.walSpool;
  t.ok(w && w.oldestAgeS !== null && w.oldestAgeS >= 1200, 'oldest age', { w });
  t.match(renderStatus(r), /WAL en attente\s+2 segment\(s\), le plus ancien depuis 20 min — EN RETARD/, 'French line, flagged late');
});
