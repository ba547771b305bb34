import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import { agentChannelService } from '../../src/agent-channel/agent-channel.factory.js';
import { IngestBatchSink, type BatchSink } from '../../src/agent-channel/batch-sink.js';
import { projectRoot } from '../../src/config/version.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { tempDir } from '../helpers/app.js';
import { collectLogLines } from '../helpers/log-scan.js';
import { createPharmacy, enrolmentCode, factCounts, startChannelApp } from './helpers.js';

const AGENT_CLI = join(projectRoot(), 'dist/agent/src/cli/main.js');
/** Runs the agent CLI to completion; its log lines join the minimisation scan. */
const agentCli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [AGENT_CLI, ...args], { encoding: 'utf8' });
  collectLogLines(`${r.stdout}\n${r.stderr}`);
  return r;
};
const salesCount = async (ds: import('typeorm').DataSource, pharmacyId: string) =>
  ((await ds.query(`SELECT count(*)::int AS n FROM sales_lines WHERE pharmacy_id = $1`, [pharmacyId])) as { n: number }[])[0]!.n;

t.test('a batch the database refuses is parked after N attempts, visible in status; later batches go on; requeue delivers it', async (t) => {
  const srv = await startChannelApp(t);
  const pharmacyId = await createPharmacy(srv.ds);
  const dir = tempDir(t, 'officine-agent-dead-');
  const lgo = join(dir, 'lgo', 'lgo.db');
  const counts = await writeReferenceSqlite(lgo, { saleLines: 600, products: 30, purchaseLines: 40 });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const agentDir = join(dir, 'agent');
  const store = new AgentStore(agentDir);
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: lgo }, roots: [join(dir, 'lgo')], batchSize: 100, pollSeconds: 3600, maxSpoolMB: 100, deadLetterAfter: 3 });
  await enrolAgent(store, srv.url, await enrolmentCode(srv.app, pharmacyId));

  // A real database-level failure: a constraint the ingestion knows nothing about refuses sale line 250.
  await srv.ds.query(`ALTER TABLE sales_lines ADD CONSTRAINT test_poison_line CHECK (source_id <> '250') NOT VALID`);
  const syncOnce = () => new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 5, maxMs: 20 }).run(new AbortController().signal, { once: true });
  await syncOnce();

  const rejected = srv.logs.filter((l) => l.event === 'agent_batch_rejected');
  t.equal(rejected.length, 3, 'the appliance answered batch_rejected to each of the 3 attempts (and logged why)');
  t.match(rejected[0], { sqlstate: '23514', entity: 'sale_line', rows: 100 });
  t.match(String(rejected[0]!.reason), /test_poison_line/, 'the log names the constraint');
  t.notOk(JSON.stringify(rejected).includes('Failing row'), 'and never the failing row values');

  t.equal(store.spool().list().length, 0, 'the queue is drained: the sync was not blocked');
  const dead = store.spool().deadLetters();
  t.equal(dead.length, 1, 'one batch parked');
  t.match(dead[0]!.info, { entity: 'sale_line', rows: 100, code: 'batch_rejected', status: 422, attempts: 3 });
  t.match(dead[0]!.info.reason, /contrainte d’intégrité violée \(SQLSTATE 23514, table sales_lines, contrainte test_poison_line\)/);
  t.equal(await salesCount(srv.ds, pharmacyId), counts.ventes_lignes! - 100, 'every other sale line arrived, after the parked batch too');
  const facts = await factCounts(srv.ds, pharmacyId);
  t.equal(Object.values(facts).reduce((a, f) => a + f.received, 0), total - 100, 'nothing else is missing');
  t.ok(store.readState().lastSyncAt, 'the sync completed');

  const status = agentCli('--dir', agentDir, 'status', '--json');
  t.equal(status.status, 0);
  const json = JSON.parse(status.stdout) as { deadLetters: { batchId: string; code: string; reason: string; rows: number }[]; spool: { entries: number } };
  t.match(json.deadLetters, [{ batchId: dead[0]!.info.batchId, code: 'batch_rejected', rows: 100 }], 'status --json lists the parked batch with its reason');
  const text = agentCli('--dir', agentDir, 'status').stdout;
  t.match(text, /Lots mis de côté :\s+1 /, 'status (text) shows it to the pharmacist');
  t.match(text, new RegExp(`${dead[0]!.info.batchId} sale_line, 100 ligne\\(s\\), 3 refus \\(batch_rejected\\)`));

  // The next pass's summary carries the parked batches to the appliance (agents.last_summary).
  await syncOnce();
  t.equal(store.spool().deadLetters().length, 1, 'still parked (nothing re-sends it by itself)');
  const [row] = (await srv.ds.query(`SELECT last_summary FROM agents WHERE pharmacy_id = $1`, [pharmacyId])) as { last_summary: { parked?: unknown[] } }[];
  t.match(row!.last_summary.parked, [{ batchId: dead[0]!.info.batchId, entity: 'sale_line', rows: 100, code: 'batch_rejected' }], 'the appliance sees the parked batch in the agent’s summary');

  // Once the appliance is fixed, the operator requeues it: it is delivered, exactly once.
  await srv.ds.query(`ALTER TABLE sales_lines DROP CONSTRAINT test_poison_line`);
  const requeue = agentCli('--dir', agentDir, 'requeue');
  t.equal(requeue.status, 0, requeue.stderr);
  t.match(requeue.stdout, /1 lot\(s\) remis en file d’attente/);
  const store2 = new AgentStore(agentDir);
  t.equal(store2.spool().deadLetters().length, 0, 'no dead letter left');
  t.equal(store2.spool().list().length, 1, 'the batch is back in the queue');
  await new SyncRunner(store2, store2.readConfig(), pino({ level: 'silent' }), { baseMs: 5, maxMs: 20 }).run(new AbortController().signal, { once: true });
  t.equal(await salesCount(srv.ds, pharmacyId), counts.ventes_lignes, 'every sale line is now in sales_lines');
  const after = await factCounts(srv.ds, pharmacyId);
  t.equal(Object.values(after).reduce((a, f) => a + f.received, 0), total, 'every source line arrived');
  t.equal(Object.values(after).reduce((a, f) => a + f.unchanged + f.updated, 0), 0, 'none twice');
});

t.test('a plain 500 on one batch: parked only once the server proves healthy; an outage is retried, never parked', async (t) => {
  const srv = await startChannelApp(t);
  const real = new IngestBatchSink(new IngestService(srv.ds));
  let poisoned: string | undefined;
  let down = false;
  let downCalls = 0;
  // A server bug on one batch (a TypeError, answered 500), and for a while a database outage
  // (SQLSTATE 57P01, answered 503) for every batch.
  const sink: BatchSink = {
    async ingest(tx, batch) {
      if (down) {
        downCalls++;
        throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
      }
      if (batch.entity === 'sale_line' && batch.rows.some((r) => r.source_id === '42')) {
        poisoned = batch.batchId;
        throw new TypeError('cannot read properties of undefined');
      }
      return real.ingest(tx, batch);
    },
  };
  agentChannelService(srv.app, sink);
  const pharmacyId = await createPharmacy(srv.ds);
  const dir = tempDir(t, 'officine-agent-500-');
  const lgo = join(dir, 'lgo', 'lgo.db');
  const counts = await writeReferenceSqlite(lgo, { saleLines: 300, products: 20, purchaseLines: 20 });
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: lgo }, roots: [join(dir, 'lgo')], batchSize: 100, pollSeconds: 3600, maxSpoolMB: 100, deadLetterAfter: 2 });
  await enrolAgent(store, srv.url, await enrolmentCode(srv.app, pharmacyId));

  // Outage first: every batch fails with a 5xx for many attempts, nothing is parked.
  down = true;
  const runner = new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 5, maxMs: 20 });
  const running = runner.run(new AbortController().signal, { once: true });
  const start = Date.now();
  while (downCalls < 8 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 20));
  t.ok(downCalls >= 8, `the first batch was refused ${downCalls} times during the outage`);
  t.equal(store.spool().deadLetters().length, 0, 'during the outage nothing is parked, although the attempts exceed deadLetterAfter');
  t.match(store.readState().lastError, /HTTP 503/, 'the outage is answered 503 (retry), not 500');
  down = false;
  await running;
  t.ok(poisoned, 'the poisoned batch was met');
  const dead = store.spool().deadLetters();
  t.same(dead.map((d) => d.info.batchId), [poisoned], 'only the batch the server keeps failing on is parked');
  t.match(dead[0]!.info, { code: 'http_500', status: 500, attempts: 2, entity: 'sale_line' });
  t.equal(await salesCount(srv.ds, pharmacyId), counts.ventes_lignes! - 100, 'the other sale lines arrived');
});
