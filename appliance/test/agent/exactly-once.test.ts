import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { projectRoot } from '../../src/config/version.js';
import { createDataSource } from '../../src/db/data-source.js';
import { collectLogLines, collectLogStream } from '../helpers/log-scan.js';
import { tempDir } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import pino from 'pino';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import { agentChannelService } from '../../src/agent-channel/agent-channel.factory.js';
import { IngestBatchSink, type BatchSink } from '../../src/agent-channel/batch-sink.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createPharmacy, enrolmentCode, factChecksums, factCounts, FACT_TABLES, startChannelApp, type FactCounts } from './helpers.js';
import { freePort } from '../helpers/caddy.js';

const root = projectRoot();
const APPLIANCE = join(root, 'dist/appliance/src/cli/main.js');
const AGENT = join(root, 'dist/agent/src/cli/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('kill -9 of the agent mid-sync and of the appliance mid-batch: every line arrives exactly once', async (t) => {
  const db = await createTestDatabase(t);
  const ds = createDataSource(db.url, { poolSize: 2 });
  await ds.initialize();
  t.teardown(() => ds.destroy());
  const dir = tempDir(t, 'officine-e2e-');
  const port = await freePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const appEnv = { ...process.env, OFFICINE_ENV_FILE: '/dev/null', DATABASE_URL: db.url, PORT: String(port), DATA_DIR: join(dir, 'appliance'), NODE_ENV: 'test', LOG_LEVEL: 'info' };
  const agentEnv = { ...process.env, OFFICINE_AGENT_DIR: join(dir, 'agent'), OFFICINE_AGENT_BACKOFF_MS: '50', OFFICINE_AGENT_BACKOFF_MAX_MS: '400', OFFICINE_AGENT_LOG_LEVEL: 'info' };
  const children = new Set<ChildProcess>();
  t.teardown(() => children.forEach((c) => c.kill('SIGKILL')));
  const start = (script: string, args: string[], env: NodeJS.ProcessEnv) => {
    const c = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // their log lines join the minimisation scan; anything else on stderr still shows
    collectLogStream(c.stdout!);
    collectLogStream(c.stderr!, process.stderr);
    children.add(c);
    c.once('exit', () => children.delete(c));
    return c;
  };
  const kill9 = async (c: ChildProcess) => {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  const startAppliance = async () => {
    const c = start(APPLIANCE, ['serve'], appEnv);
    await until('appliance health', async () => (await fetch(`${serverUrl}/healthz`).catch(() => undefined))?.status === 200, 60_000);
    return c;
  };

  const lgo = join(dir, 'lgo', 'reference.db');
  const counts = await writeReferenceSqlite(lgo, { saleLines: 30_000, products: 300, purchaseLines: 3_000 });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  let appliance = await startAppliance();
  const pharmacyId = await createPharmacy(ds);

  const codeOut = spawnSync(process.execPath, [APPLIANCE, 'agents', 'enroll-code', '--pharmacy', pharmacyId], { env: appEnv, encoding: 'utf8' });
  collectLogLines(`${codeOut.stdout}\n${codeOut.stderr}`);
  t.equal(codeOut.status, 0, 'console created an enrolment code');
  const code = /([0-9A-Z]{5}(?:-[0-9A-Z]{5}){3})/.exec(codeOut.stdout)?.[1];
  t.ok(code, 'code printed');
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [AGENT, ...args], { env: agentEnv, encoding: 'utf8' });
    collectLogLines(`${r.stdout}\n${r.stderr}`);
    return r;
  };
  t.equal(cli('configure', '--profile', 'reference', '--sqlite', lgo, '--batch-size', '300').status, 0, 'agent configured');
  const enrolled = cli('enroll', '--server', serverUrl, '--code', code!);
  t.equal(enrolled.status, 0, `agent enrolled ${enrolled.stderr}`);
  t.match(enrolled.stdout, /Agent enrôlé/);
  for (const f of ['agent.json', 'agent-key.pem']) t.equal(statSync(join(dir, 'agent', f)).mode & 0o777, 0o600, `${f} is 0600`);
  t.equal(statSync(join(dir, 'agent')).mode & 0o777, 0o700, 'agent dir is 0700');

  const batches = async () => Number(((await ds.query(`SELECT count(*)::int AS n FROM agent_batches WHERE pharmacy_id = $1 AND kind = 'batch'`, [pharmacyId])) as { n: number }[])[0]!.n);
  const rows = async () => Object.values(await factCounts(ds, pharmacyId)).reduce((a, f) => a + f.received, 0);

  let agent = start(AGENT, ['run'], agentEnv);
  await until('ten batches', async () => (await batches()) >= 10);
  await kill9(agent);
  const atAgentKill = await rows();
  t.ok(atAgentKill > 0 && atAgentKill < total, `agent killed mid-sync (${atAgentKill}/${total} rows in)`);

  agent = start(AGENT, ['run'], agentEnv);
  const b0 = await batches();
  await until('more batches after the agent restart', async () => (await batches()) >= b0 + 10);
  await kill9(appliance);
  const atServerKill = await rows();
  t.ok(atServerKill < total, `appliance killed mid-sync (${atServerKill}/${total} rows in)`);
  await sleep(300);
  appliance = await startAppliance();

  await until('every line in', async () => (await rows()) === total, 180_000);
  await until('agent spool empty', async () => {
    const s = cli('status', '--json');
    return s.status === 0 && (JSON.parse(s.stdout) as { spool: { entries: number } }).spool.entries === 0;
  });
  const status = JSON.parse(cli('status', '--json').stdout) as { lastAckAt: string | null; withheldTotal: Record<string, number> };
  t.ok(status.lastAckAt, 'status shows the last acknowledgement');
  t.same(status.withheldTotal, {}, 'no line withheld from the clean reference LGO');
  const stop = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  await stop;

  const per = await factCounts(ds, pharmacyId);
  const tableOf: Record<string, string> = { product: 'produits', supplier: 'fournisseurs', stock: 'stock', purchase_line: 'achats_lignes', supplier_invoice: 'factures_fournisseurs', supplier_invoice_line: 'factures_lignes', sale_line: 'ventes_lignes' };
  const { default: Database } = await import('better-sqlite3');
  const src = new Database(lgo, { readonly: true });
  // Distinct natural keys at the source: the fact tables key products by code and stock by (day, code).
  const distinct: Record<string, number> = {
    product: (src.prepare(`SELECT count(DISTINCT cip13) AS n FROM produits`).get() as { n: number }).n,
    stock: (src.prepare(`SELECT count(DISTINCT cip13 || jour_stock) AS n FROM stock`).get() as { n: number }).n,
  };
  for (const [entity, p] of Object.entries(per) as [string, FactCounts][]) {
    const source = counts[tableOf[entity]!]!;
    t.equal(p.received, source, `${entity}: every source line was ingested`);
    t.equal(p.quarantined, source - (distinct[entity] ?? source), `${entity}: nothing quarantined but same-key duplicates`);
    t.equal(p.rows, distinct[entity] ?? source, `${entity}: fact table row count equals the source (${p.rows})`);
    t.equal(p.unchanged + p.updated, 0, `${entity}: every line ingested exactly once (none re-ingested as unchanged or updated)`);
  }
  t.equal(Object.keys(per).length, 7, 'all seven entities arrived');
  const [b] = (await ds.query(
    `SELECT (SELECT count(*)::int FROM agent_batches WHERE pharmacy_id = $1 AND kind = 'batch') AS channel, (SELECT count(*)::int FROM ingest_batches WHERE pharmacy_id = $1 AND source = 'agent') AS ingest`,
    [pharmacyId],
  )) as { channel: number; ingest: number }[];
  t.equal(b!.ingest, b!.channel, `one ingest batch per channel batch (${b!.channel})`);

  // The analytics read the rollups: they must agree with the source too.
  const sourceSums = src.prepare(`SELECT count(*) AS n, sum(quantite) AS q, sum(CAST(ROUND(prix_unitaire_ttc * 100) AS INTEGER) * quantite) AS ttc FROM ventes_lignes`).get() as { n: number; q: number; ttc: number };
  src.close();
  const [roll] = (await ds.query(`SELECT sum(lines)::int AS n, sum(quantity)::int AS q, sum(amount_ttc_cents)::bigint AS ttc FROM sales_rollups WHERE pharmacy_id = $1`, [pharmacyId])) as { n: number; q: number; ttc: string }[];
  t.same({ n: roll!.n, q: roll!.q, ttc: Number(roll!.ttc) }, { n: sourceSums.n, q: sourceSums.q, ttc: sourceSums.ttc }, 'sales rollups (what analytics read) equal the source: lines, quantity, amount');

  // Content checksums of every fact table: its values against the source, computed independently.
  const sums = await factChecksums(lgo, ds, pharmacyId);
  t.same(Object.keys(sums.stored).sort(), Object.keys(FACT_TABLES).sort(), 'a checksum for each of the seven fact tables');
  for (const entity of Object.keys(FACT_TABLES)) {
    t.ok(sums.source[entity]!.rows > 0, `${entity}: the source has rows (${sums.source[entity]!.rows})`);
    t.same(sums.stored[entity], sums.source[entity], `${FACT_TABLES[entity]!.table}: row count and content checksum equal the source`);
  }
});

t.test('appliance dies mid-batch (rows written, transaction not committed): the batch arrives once, after retry', async (t) => {
  const srv = await startChannelApp(t);
  const real = new IngestBatchSink(new IngestService(srv.ds));
  let calls = 0;
  let crashed: { batchId: string; rows: number } | undefined;
  // A sink that, on the 4th batch, ingests it into the fact tables then loses its database
  // session and restarts the HTTP server — the state of an appliance killed in the middle of a batch.
  const crashing: BatchSink = {
    async ingest(tx, batch) {
      const r = await real.ingest(tx, batch);
      if (++calls === 4) {
        const [{ n }] = (await tx.query(`SELECT count(*)::int AS n FROM ingest_batches WHERE pharmacy_id = $1 AND batch_id = $2`, [batch.pharmacyId, `agent-${batch.batchId}`])) as [{ n: number }];
        crashed = { batchId: batch.batchId, rows: n * r.rows };
        void srv.restart();
        await tx.query(`SELECT pg_terminate_backend(pg_backend_pid())`);
      }
      return r;
    },
  };
  agentChannelService(srv.app, crashing);
  const pharmacyId = await createPharmacy(srv.ds);
  const dir = tempDir(t, 'officine-agent-midbatch-');
  const counts = await writeReferenceSqlite(join(dir, 'lgo', 'lgo.db'), { saleLines: 3000, products: 50, purchaseLines: 100 });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: join(dir, 'lgo', 'lgo.db') }, roots: [join(dir, 'lgo')], batchSize: 200, pollSeconds: 3600, maxSpoolMB: 100 });
  await enrolAgent(store, srv.url, await enrolmentCode(srv.app, pharmacyId));
  await new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 20, maxMs: 200 }).run(new AbortController().signal, { once: true });

  t.ok(crashed && crashed.rows > 0, `the crash happened with the batch ingested (${crashed?.rows} lines) but not committed`);
  const facts = Object.values(await factCounts(srv.ds, pharmacyId));
  t.equal(facts.reduce((a, f) => a + f.received, 0), total, 'every line arrived');
  t.equal(facts.reduce((a, f) => a + f.unchanged + f.updated, 0), 0, 'none twice');
  const [{ n }] = (await srv.ds.query(`SELECT count(*)::int AS n FROM sales_lines WHERE pharmacy_id = $1`, [pharmacyId])) as [{ n: number }];
  t.equal(n, counts.ventes_lignes, 'every sale line is in sales_lines');
  const [{ b, i }] = (await srv.ds.query(
    `SELECT (SELECT count(*)::int FROM agent_batches WHERE pharmacy_id = $1 AND batch_id = $2) AS b, (SELECT count(*)::int FROM ingest_batches WHERE pharmacy_id = $1 AND batch_id = $3) AS i`,
    [pharmacyId, crashed!.batchId, `agent-${crashed!.batchId}`],
  )) as [{ b: number; i: number }];
  t.equal(b, 1, 'the interrupted batch was recorded once, on its retry');
  t.equal(i, 1, 'and ingested once');
  t.equal(store.spool().list().length, 0, 'spool empty');
  const sums = await factChecksums(join(dir, 'lgo', 'lgo.db'), srv.ds, pharmacyId);
  for (const entity of Object.keys(FACT_TABLES)) t.same(sums.stored[entity], sums.source[entity], `${FACT_TABLES[entity]!.table}: row count and content checksum equal the source`);
});
