import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { REFERENCE_COLUMNS, writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import { tempDir } from '../helpers/app.js';
import { createPharmacy, enrolmentCode, factChecksums, factCounts, FACT_TABLES, openCaptured, startCapturingProxy, startChannelApp } from './helpers.js';

/** Rows per entity in the batch messages among `bodies` (decrypted), as the server received them. */
async function sentRows(app: Parameters<typeof openCaptured>[0], bodies: Buffer[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of await openCaptured(app, bodies)) {
    const m = JSON.parse(p) as { type: string; entity?: string; rows?: unknown[] };
    if (m.type === 'batch') out[m.entity!] = (out[m.entity!] ?? 0) + m.rows!.length;
  }
  return out;
}

t.test('incremental sync by watermark: the second sync sends only the new and changed rows; the database ends equal to the source', async (t) => {
  const srv = await startChannelApp(t);
  const proxy = await startCapturingProxy(t, () => srv.url);
  const pharmacyId = await createPharmacy(srv.ds);
  const dir = tempDir(t, 'officine-agent-incremental-');
  const lgo = join(dir, 'lgo', 'lgo.db');
  const counts = await writeReferenceSqlite(lgo, { saleLines: 1500, products: 40, purchaseLines: 120 });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: lgo }, roots: [join(dir, 'lgo')], batchSize: 200, pollSeconds: 3600, maxSpoolMB: 100 });
  await enrolAgent(store, proxy.url, await enrolmentCode(srv.app, pharmacyId));
  const sync = () => new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 10, maxMs: 50 }).run(new AbortController().signal, { once: true });
  const sentBy = (s: NonNullable<ReturnType<AgentStore['readState']>['lastSummary']>) => Object.fromEntries(s.tables.filter((x) => x.sent > 0).map((x) => [x.entity, x.sent]));

  await sync();
  const first = await sentRows(srv.app, proxy.bodies);
  t.equal(Object.values(first).reduce((a, b) => a + b, 0), total, `first sync: the whole LGO crossed HTTP (${total} rows)`);
  let sums = await factChecksums(lgo, srv.ds, pharmacyId);
  t.same(sums.stored, sums.source, 'first sync: every fact table equals the source');

  // The pharmacy keeps working: new sales and purchases, one sale line corrected, one product renamed.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(lgo);
  const later = '2031-06-01 09:00:00';
  const copy = (table: string, n: number, over: Record<string, string>) => {
    const cols = REFERENCE_COLUMNS[table]!;
    db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.map((c) => over[c] ?? c).join(', ')} FROM ${table} WHERE id <= ${n}`).run();
  };
  copy('ventes_lignes', 37, { id: 'id + 100000', ticket: `ticket || '-bis'`, maj: `'${later}'` });
  copy('achats_lignes', 5, { id: 'id + 100000', maj: `'${later}'` });
  db.prepare(`UPDATE ventes_lignes SET quantite = quantite + 3, maj = ? WHERE id = 10`).run(later);
  db.prepare(`UPDATE produits SET libelle = libelle || ' (nouveau conditionnement)', maj = ? WHERE id = 3`).run(later);
  db.close();
  sums = await factChecksums(lgo, srv.ds, pharmacyId);
  for (const e of ['sale_line', 'purchase_line', 'product']) t.not(sums.stored[e]!.sha256, sums.source[e]!.sha256, `${e}: the checksum sees the source changed`);

  const before = await factCounts(srv.ds, pharmacyId);
  const mark = proxy.bodies.length;
  await sync();
  const delta = { sale_line: 38, purchase_line: 5, product: 1 };
  t.same(await sentRows(srv.app, proxy.bodies.slice(mark)), delta, 'second sync: only the 37 new + 1 changed sale lines, 5 new purchases and the renamed product crossed HTTP');
  t.same(sentBy(store.readState().lastSummary!), delta, 'the sync summary says the same');
  const after = await factCounts(srv.ds, pharmacyId);
  const diff = (e: string, k: 'received' | 'inserted' | 'updated' | 'unchanged') => after[e]![k] - before[e]![k];
  t.same(
    Object.fromEntries(Object.keys(FACT_TABLES).map((e) => [e, [diff(e, 'received'), diff(e, 'inserted'), diff(e, 'updated'), diff(e, 'unchanged')]])),
    { product: [1, 0, 1, 0], supplier: [0, 0, 0, 0], stock: [0, 0, 0, 0], purchase_line: [5, 5, 0, 0], supplier_invoice: [0, 0, 0, 0], supplier_invoice_line: [0, 0, 0, 0], sale_line: [38, 37, 1, 0] },
    'the server ingested exactly that delta: [received, inserted, updated, unchanged] per entity',
  );
  sums = await factChecksums(lgo, srv.ds, pharmacyId);
  t.same(sums.stored, sums.source, 'after the second sync every fact table equals the source again (row counts and content)');
  t.equal(sums.stored.sale_line!.rows, counts.ventes_lignes! + 37, 'sales_lines holds the original lines plus the 37 new ones');

  const idle = proxy.bodies.length;
  await sync();
  t.same(await sentRows(srv.app, proxy.bodies.slice(idle)), {}, 'a sync with nothing new sends no batch at all (only its summary)');
  t.ok(proxy.bodies.length > idle, 'yet the summary did travel');
});
