import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { enrolAgent } from '../../../agent/src/channel/enrol.js';
import { writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { SyncRunner } from '../../../agent/src/sync/sync-runner.js';
import { tempDir } from '../helpers/app.js';
import { createPharmacy, enrolmentCode, factCounts, startChannelApp } from './helpers.js';

type Line = { invoice: string; line_no: number; code: string; q: number; free: number; unit: number; vat: string; amount: number };

t.test('supplier invoice lines travel as their own entity and land in supplier_invoice_lines, values intact', async (t) => {
  const srv = await startChannelApp(t);
  const pharmacyId = await createPharmacy(srv.ds);
  const dir = tempDir(t, 'officine-agent-invoices-');
  const lgo = join(dir, 'lgo', 'lgo.db');
  const counts = await writeReferenceSqlite(lgo, { saleLines: 200, products: 40, purchaseLines: 400 });
  t.ok(counts.factures_lignes! > counts.factures_fournisseurs!, `the reference LGO has invoice lines (${counts.factures_lignes} for ${counts.factures_fournisseurs} invoices)`);
  const store = new AgentStore(join(dir, 'agent'));
  store.writeConfig({ profile: 'reference', source: { kind: 'sqlite', path: lgo }, roots: [join(dir, 'lgo')], batchSize: 7, pollSeconds: 3600, maxSpoolMB: 100 });
  await enrolAgent(store, srv.url, await enrolmentCode(srv.app, pharmacyId));
  const sync = () => new SyncRunner(store, store.readConfig(), pino({ level: 'silent' }), { baseMs: 10, maxMs: 50 }).run(new AbortController().signal, { once: true });

  const { default: Database } = await import('better-sqlite3');
  const sourceLines = () => {
    const db = new Database(lgo, { readonly: true });
    try {
      return (db.prepare(
        `SELECT CAST(facture_id AS TEXT) AS invoice, num_ligne AS line_no, cip13 AS code, quantite AS q, unites_gratuites AS free,
                CAST(ROUND(prix_unitaire_ht * 100) AS INTEGER) AS unit, printf('%.2f', taux_tva) AS vat, CAST(ROUND(montant_ht * 100) AS INTEGER) AS amount
           FROM factures_lignes ORDER BY facture_id, num_ligne`,
      ).all() as Line[]);
    } finally {
      db.close();
    }
  };
  const storedLines = async () =>
    (await srv.ds.query(
      `SELECT invoice_source_id AS invoice, line_no, product_code AS code, quantity AS q, free_units AS free, unit_price_ht_cents AS unit, vat_rate::text AS vat, amount_ht_cents::int AS amount
         FROM supplier_invoice_lines WHERE pharmacy_id = $1 ORDER BY invoice_source_id::int, line_no`,
      [pharmacyId],
    )) as Line[];

  await sync();
  const facts = await factCounts(srv.ds, pharmacyId);
  t.equal(facts.supplier_invoice_line!.received, counts.factures_lignes, 'every invoice line was received by the ingestion');
  t.equal(facts.supplier_invoice_line!.quarantined, 0, 'none quarantined');
  t.equal(facts.supplier_invoice_line!.rows, counts.factures_lignes, 'row count in supplier_invoice_lines equals the source');
  t.same(await storedLines(), sourceLines(), 'every value equals the source (invoice, line number, product, quantities, prices, VAT, amount)');
  const [totals] = (await srv.ds.query(
    `SELECT count(*)::int AS n FROM supplier_invoices i
      WHERE i.pharmacy_id = $1 AND i.total_ht_cents <> (SELECT sum(amount_ht_cents) FROM supplier_invoice_lines l WHERE l.pharmacy_id = i.pharmacy_id AND l.invoice_source_id = i.source_id)`,
    [pharmacyId],
  )) as { n: number }[];
  t.equal(totals!.n, 0, 'each invoice total equals the sum of its lines');

  // The LGO changes one line and re-stamps an invoice header: the line is updated in place and
  // the re-sent header (which carries no lines) leaves the invoice's lines alone.
  const db = new Database(lgo);
  db.prepare(`UPDATE factures_lignes SET quantite = quantite + 5, montant_ht = montant_ht + 5 * prix_unitaire_ht, maj = '2030-01-01 00:00:00' WHERE id = 2`).run();
  db.prepare(`UPDATE factures_fournisseurs SET maj = '2030-01-01 00:00:00' WHERE id = 1`).run();
  db.close();
  await sync();
  const after = await factCounts(srv.ds, pharmacyId);
  t.equal(after.supplier_invoice_line!.updated, 1, 'the changed line counts as updated');
  t.equal(after.supplier_invoice_line!.rows, counts.factures_lignes, 'no line added or lost');
  t.same(await storedLines(), sourceLines(), 'stored lines still equal the source after the change');
});

t.test('an invoice line whose invoice is unknown is quarantined with its reason', async (t) => {
  const srv = await startChannelApp(t);
  const pharmacyId = await createPharmacy(srv.ds);
  const { IngestService } = await import('../../src/ingest/ingest.service.js');
  const { toIngestBatch } = await import('../../src/agent-channel/agent-ingest.adapter.js');
  const r = await new IngestService(srv.ds).ingestBatch(
    pharmacyId,
    'orphan-lines',
    toIngestBatch('supplier_invoice_line', [{ source_id: '1', invoice_id: 'NOPE', line_no: 1, product_code: '3400930000007', quantity: 1, free_units: 0, unit_price_ht_cents: 100, vat_rate: 2.1, amount_ht_cents: 100 }]),
  );
  t.equal(r.counts.invoiceLines.quarantined, 1);
  const [q] = (await srv.ds.query(`SELECT kind, source_id, reason FROM ingest_quarantine WHERE pharmacy_id = $1`, [pharmacyId])) as { kind: string; source_id: string; reason: string }[];
  t.match(q, { kind: 'invoiceLines', source_id: 'NOPE#1' });
  t.match(q!.reason, /facture inconnue « NOPE »/);
});

t.test('lines that came before their invoice wait in quarantine, then are stored when it comes', async (t) => {
  const srv = await startChannelApp(t);
  const pharmacyId = await createPharmacy(srv.ds);
  const { IngestService } = await import('../../src/ingest/ingest.service.js');
  const { toIngestBatch } = await import('../../src/agent-channel/agent-ingest.adapter.js');
  const ingest = new IngestService(srv.ds);
  const code = '3400930000007';
  const line = (n: number, q: number) => ({ source_id: `L${n}`, invoice_id: 'F7', line_no: n, product_code: code, quantity: q, free_units: 0, unit_price_ht_cents: 100, vat_rate: 2.1, amount_ht_cents: 100 * q });
  // The agent read the invoice table before the LGO committed F7, then its lines after.
  const early = await ingest.ingestBatch(pharmacyId, 'b1', toIngestBatch('supplier_invoice_line', [line(1, 1), line(2, 2), line(3, 3)]));
  t.equal(early.counts.invoiceLines.quarantined, 3, 'orphan lines quarantined');
  await ingest.ingestBatch(pharmacyId, 'b2', toIngestBatch('supplier', [{ source_id: 'S1', name: 'OCP', kind: 'grossiste' }]));
  // Next pass: the invoice, and (newer) a change of line 3 in its own batch.
  const header = await ingest.ingestBatch(pharmacyId, 'b3', {
    ...toIngestBatch('supplier_invoice', [{ source_id: 'F7', supplier_id: 'S1', invoice_number: 'FAC-7', invoice_date: '2025-02-03', total_ht_cents: 1400, total_ttc_cents: 1429, comment: null }]),
    ...toIngestBatch('supplier_invoice_line', [line(3, 11)]),
  });
  t.equal(header.counts.invoiceLines.revived, 3, 'the three waiting lines are revived (and counted as such)');
  const rows = (await srv.ds.query(`SELECT line_no, quantity FROM supplier_invoice_lines WHERE pharmacy_id = $1 ORDER BY line_no`, [pharmacyId])) as { line_no: number; quantity: number }[];
  t.same(rows, [{ line_no: 1, quantity: 1 }, { line_no: 2, quantity: 2 }, { line_no: 3, quantity: 11 }], 'stored; the newer version of line 3 wins');
  const [{ n }] = (await srv.ds.query(`SELECT count(*)::int AS n FROM ingest_quarantine WHERE pharmacy_id = $1`, [pharmacyId])) as [{ n: number }];
  t.equal(n, 0, 'and they left the quarantine');
});
