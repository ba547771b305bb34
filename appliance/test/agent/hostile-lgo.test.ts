import { spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import pino from 'pino';
import { buildHostileLgo, EXPECTED_WITHHELD, MARKERS, type HostileLgo } from '../../../agent/test/fixtures/hostile-lgo.js';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { PathRefusedError } from '../../../agent/src/connectors/safe-path.js';
import { AgentStore, type AgentConfig } from '../../../agent/src/store/agent-store.js';
import { runPreview } from '../../../agent/src/sync/preview.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';
import { createPharmacy, enrolmentCode, factCounts, openCaptured, startCapturingProxy, startChannelApp } from './helpers.js';

const AGENT = join(projectRoot(), 'dist/agent/src/cli/main.js');

function assertNoMarker(t: Test, text: string, where: string) {
  t.ok(text.length > 1000, `${where}: non-trivial content (${text.length} chars)`);
  const found = MARKERS.filter((m) => text.toLowerCase().includes(m.toLowerCase()));
  t.same(found, [], `${where}: no planted patient marker`);
}

/** Records as sorted JSON strings, to compare what preview shows with what the server got. */
const recordSet = (items: { entity: string; record: unknown }[]) => items.map((i) => JSON.stringify([i.entity, i.record])).sort();

async function scenario(t: Test, kind: 'sqlite' | 'csv', lgo: HostileLgo) {
  const dir = tempDir(t, `officine-agent-${kind}-`);
  const store = new AgentStore(join(dir, 'agent'));
  const config: AgentConfig = {
    profile: 'reference',
    source: kind === 'sqlite' ? { kind, path: lgo.sqlitePath } : { kind, dir: lgo.csvDir },
    roots: [kind === 'sqlite' ? lgo.root : lgo.csvDir],
    batchSize: 100,
    pollSeconds: 3600,
    maxSpoolMB: 100,
  };
  store.writeConfig(config);

  // 1. preview: exactly what would be sent, and nothing of the planted data.
  const out = join(dir, 'preview.jsonl');
  const summary = await runPreview(store.readConfig(), store.readState(), out);
  const previewText = readFileSync(out, 'utf8');
  assertNoMarker(t, previewText, `${kind} preview`);
  const byEntity = Object.fromEntries(summary.tables.map((s) => [s.entity, s]));
  for (const [entity, reasons] of Object.entries(EXPECTED_WITHHELD)) {
    t.same(byEntity[entity]?.withheld, reasons, `${kind}: ${entity} withheld lines and reasons`);
  }
  t.equal(byEntity.sale_line?.read, lgo.saleLines, `${kind}: every sale line read`);
  t.equal(byEntity.sale_line?.sent, lgo.saleLines, `${kind}: sale lines sent (patient FK and comment columns simply not read)`);
  t.same(byEntity.sale_line?.columns, ['source_id', 'ticket_id', 'sold_at', 'product_code', 'quantity', 'unit_price_ttc_cents', 'discount_cents', 'vat_rate', 'dispensing_fee_cents', 'is_credit_note', 'sale_type', 'unit_cost_ht_cents']);
  if (kind === 'csv') {
    t.equal(byEntity.stock?.refused, 'fichier refusé (symlink)', 'csv: symlinked stock.csv refused');
    t.equal(byEntity.stock?.read, 0, 'csv: nothing read through the symlink');
  } else {
    t.equal(byEntity.stock?.refused, undefined);
    t.equal(byEntity.stock?.sent, 60);
  }
  const previewRecords = previewText.trim().split('\n').map((l) => JSON.parse(l) as { entity: string; record: unknown });

  // 2. sync through a proxy that records the raw HTTP bodies; decrypt them with the appliance key.
  const srv = await startChannelApp(t);
  const proxy = await startCapturingProxy(t, () => srv.url);
  const pharmacyId = await createPharmacy(srv.ds);
  await enrolAgent(store, proxy.url, await enrolmentCode(srv.app, pharmacyId));
  const runner = new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 10, maxMs: 50 });
  await runner.run(new AbortController().signal, { once: true });
  t.equal(store.spool().list().length, 0, `${kind}: spool drained`);
  const lastSyncAt = store.readState().lastSyncAt;
  t.ok(lastSyncAt && Date.now() - Date.parse(lastSyncAt) < 10 * 60_000, `${kind}: last sync recorded for status`);

  // What the pharmacist sees: `officine-agent status`, human and --json, after this real sync.
  const withheldTotal: Record<string, number> = {};
  for (const reasons of Object.values(EXPECTED_WITHHELD)) for (const [r, n] of Object.entries(reasons)) withheldTotal[r] = (withheldTotal[r] ?? 0) + n;
  const agentCli = (...args: string[]) => spawnSync(process.execPath, [AGENT, '--dir', store.dir, ...args], { encoding: 'utf8' });
  const json = agentCli('status', '--json');
  t.equal(json.status, 0, json.stderr);
  const st = JSON.parse(json.stdout) as { lastSyncAt: string | null; withheldTotal: Record<string, number>; spool: { entries: number } };
  t.equal(st.lastSyncAt, lastSyncAt, `${kind}: status --json gives the last sync time`);
  t.same(st.withheldTotal, withheldTotal, `${kind}: status --json gives the withheld lines per reason (${JSON.stringify(withheldTotal)})`);
  t.equal(st.spool.entries, 0, `${kind}: status --json: nothing left in the spool`);
  const human = agentCli('status');
  t.equal(human.status, 0, human.stderr);
  t.match(human.stdout, new RegExp(`Dernière synchro :\\s+${lastSyncAt!.replace(/[.]/g, '\\.')}\\n`), `${kind}: status shows the last sync time`);
  const withheldLine = /Lignes retenues :\s+(.*)\n/.exec(human.stdout)?.[1] ?? '';
  t.same(withheldLine.split(', ').sort(), Object.entries(withheldTotal).map(([r, n]) => `${r}=${n}`).sort(), `${kind}: status shows every withheld count: ${withheldLine}`);
  t.same(MARKERS.filter((m) => (json.stdout + human.stdout).toLowerCase().includes(m.toLowerCase())), [], `${kind}: status itself shows no planted value`);

  for (const b of proxy.bodies) t.notOk(b.includes('ZZMARQUEUR'), 'raw body is ciphertext');
  const received = await openCaptured(srv.app, proxy.bodies);
  assertNoMarker(t, received.join('\n'), `${kind} bodies received by the server (decrypted)`);
  const receivedRecords = received
    .map((p) => JSON.parse(p) as { type: string; entity?: string; rows?: unknown[] })
    .filter((m) => m.type === 'batch')
    .flatMap((m) => m.rows!.map((record) => ({ entity: m.entity!, record })));
  t.same(recordSet(receivedRecords), recordSet(previewRecords), `${kind}: the server received exactly what preview showed`);

  const stored = await factCounts(srv.ds, pharmacyId);
  for (const [entity, sent] of Object.entries(byEntity)) {
    const s = stored[entity]!;
    t.equal(s.received, sent.sent, `${kind}: ${entity} lines ingested = lines sent`);
    t.equal(s.inserted + s.quarantined, sent.sent, `${kind}: ${entity} every line sent was stored or quarantined, once`);
    t.notOk(s.leak, `${kind}: ${entity} stored rows (facts and quarantine) carry no marker`);
  }
  t.ok(stored.sale_line!.rows > 0, `${kind}: sales reached the fact table`);
  const [agent] = (await srv.ds.query(`SELECT last_summary FROM agents WHERE pharmacy_id = $1`, [pharmacyId])) as { last_summary: { tables: { entity: string; withheld: Record<string, number> }[] } }[];
  t.same(
    Object.fromEntries(agent!.last_summary.tables.filter((x) => Object.keys(x.withheld).length).map((x) => [x.entity, x.withheld])),
    EXPECTED_WITHHELD,
    `${kind}: the summary travelled with the sync (withheld counts visible on the appliance)`,
  );
}

t.test('hostile LGO: nothing planted leaves the pharmacy', async (t) => {
  const lgo = await buildHostileLgo(tempDir(t, 'officine-hostile-'));
  await t.test('SQLite source', (t) => scenario(t, 'sqlite', lgo));
  await t.test('CSV export folder (with a symlink out of it)', (t) => scenario(t, 'csv', lgo));

  await t.test('files outside the configured folders are refused', async (t) => {
    const dir = tempDir(t, 'officine-agent-roots-');
    const store = new AgentStore(join(dir, 'agent'));
    const link = join(lgo.csvDir, 'lgo-link.db');
    symlinkSync(lgo.sqlitePath, link);
    const base = { profile: 'reference', batchSize: 100, pollSeconds: 60, maxSpoolMB: 10 };
    await t.rejects(runPreview({ ...base, source: { kind: 'sqlite', path: lgo.sqlitePath }, roots: [lgo.csvDir] }, store.readState(), join(dir, 'a.jsonl')), PathRefusedError, 'SQLite file outside the roots');
    await t.rejects(runPreview({ ...base, source: { kind: 'sqlite', path: join(lgo.csvDir, '..', 'hostile.db') }, roots: [lgo.csvDir] }, store.readState(), join(dir, 'b.jsonl')), PathRefusedError, '.. escape');
    await t.rejects(runPreview({ ...base, source: { kind: 'sqlite', path: link }, roots: [lgo.root] }, store.readState(), join(dir, 'c.jsonl')), new PathRefusedError('symlink', link), 'symlink even to a file inside the roots');
    const s = await runPreview({ ...base, source: { kind: 'csv', dir: lgo.csvDir }, roots: [join(lgo.root, 'nowhere')] }, store.readState(), join(dir, 'd.jsonl'));
    t.ok(s.tables.every((x) => x.refused === 'fichier refusé (outside_roots)' && x.read === 0), 'CSV folder outside the roots: every table refused');
  });
});
