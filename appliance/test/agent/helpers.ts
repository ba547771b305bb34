import { createHash, randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import type { DataSource } from 'typeorm';
import { sharedSecret } from '../../../agent/src/protocol/channel-crypto.js';
import { EpochKeys, openEnvelope, parseEnvelope } from '../../../agent/src/protocol/envelope.js';
import { AGENT_API } from '../../../agent/src/protocol/messages.js';
import { agentChannelService } from '../../src/agent-channel/agent-channel.factory.js';
import { ServerKeyProvider } from '../../src/agent-channel/server-key.js';
import { loadConfig } from '../../src/config/config.js';
import { SecretStore } from '../../src/config/secrets.js';
import { APP_VERSION } from '../../src/config/version.js';
import type { AppContext } from '../../src/http/app-context.js';
import { startHttpServer, type RunningServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { createTestDataSource } from '../helpers/db.js';

/** The real app on a fresh database, with its log captured and a clock tests can move. */
export interface ChannelTestApp {
  url: string;
  app: AppContext;
  ds: DataSource;
  dbUrl: string;
  secretsDir: string;
  logs: Record<string, unknown>[];
  clock: { offsetMs: number };
  /** Stops the HTTP server (connections cut) and starts it again on the same port. */
  restart(): Promise<void>;
}

export async function startChannelApp(t: Test, env: Record<string, string> = {}): Promise<ChannelTestApp> {
  const { ds, url: dbUrl } = await createTestDataSource(t);
  const dataDir = tempDir(t, 'officine-agent-app-');
  const config = loadConfig({ envFile: '/dev/null', env: { NODE_ENV: 'test', PORT: '0', DATABASE_URL: dbUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env } });
  const logs: Record<string, unknown>[] = [];
  const clock = { offsetMs: 0 };
  const app: AppContext = {
    config,
    db: ds,
    logger: createLogger('info', { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) } as never),
    secrets: new SecretStore(config.secretsDir),
    clock: { now: () => new Date(Date.now() + clock.offsetMs) },
    version: APP_VERSION,
  };
  let srv: RunningServer = await startHttpServer(app);
  const port = Number(new URL(srv.url).port);
  t.teardown(() => srv.close());
  const result: ChannelTestApp = {
    url: srv.url,
    app,
    ds,
    dbUrl,
    secretsDir: config.secretsDir,
    logs,
    clock,
    async restart() {
      srv.server.closeAllConnections();
      await srv.close();
      app.config.PORT = port;
      srv = await startHttpServer(app);
    },
  };
  return result;
}

/** A fresh groupement and pharmacy (format-valid random FINESS); returns the pharmacy id. */
export async function createPharmacy(ds: DataSource): Promise<string> {
  const [g] = (await ds.query(`INSERT INTO groupements (name) VALUES ($1) RETURNING id`, [`G ${randomInt(1e9)}`])) as { id: string }[];
  const finess = `69${String(randomInt(1e7)).padStart(7, '0')}`;
  const [p] = (await ds.query(`INSERT INTO pharmacies (groupement_id, name, finess) VALUES ($1, $2, $3) RETURNING id`, [g!.id, 'Pharmacie test', finess])) as { id: string }[];
  return p!.id;
}

/** A one-time enrolment code for a pharmacy, through the service (as the console does). */
export async function enrolmentCode(app: AppContext, pharmacyId: string): Promise<string> {
  return (await agentChannelService(app).createEnrolmentCode(pharmacyId, null)).code;
}

/** Log lines of refused agent messages, as (reason) list. */
export function refusalReasons(logs: Record<string, unknown>[]): string[] {
  return logs.filter((l) => l.event === 'agent_message_refused').map((l) => l.reason as string);
}

/** A loopback HTTP proxy in front of the appliance that records every raw agent message body (what crossed HTTP). */
export interface CapturingProxy {
  url: string;
  bodies: Buffer[];
}

export async function startCapturingProxy(t: Test, target: () => string): Promise<CapturingProxy> {
  const state: CapturingProxy = { url: '', bodies: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === AGENT_API.messages) state.bodies.push(body);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      fetch(target() + req.url, { method: req.method, headers, body: req.method === 'GET' ? undefined : body })
        .then(async (r) => {
          const out = Buffer.from(await r.arrayBuffer());
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
          res.end(out);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return state;
}

/** Decrypts captured agent envelopes with the appliance's key — what the server received, in clear. */
export async function openCaptured(app: AppContext, bodies: Buffer[]): Promise<string[]> {
  const server = new ServerKeyProvider(app.secrets).get();
  const out: string[] = [];
  const keys = new Map<string, EpochKeys>();
  for (const b of bodies) {
    const env = parseEnvelope(b);
    let k = keys.get(env.header.agentId);
    if (!k) {
      const [row] = (await app.db.query(`SELECT public_key FROM agents WHERE id = $1`, [env.header.agentId])) as { public_key: Buffer }[];
      k = new EpochKeys(sharedSecret(server.privateKey, row!.public_key), env.header.agentId);
      keys.set(env.header.agentId, k);
    }
    out.push(openEnvelope(k.key(env.header.epoch), env).toString('utf8'));
  }
  return out;
}

/** The fact table each canonical entity lands in, and the ingest section it goes through. */
export const FACT_TABLES: Record<string, { table: string; section: string }> = {
  product: { table: 'pharmacy_products', section: 'products' },
  supplier: { table: 'suppliers', section: 'suppliers' },
  stock: { table: 'stock_snapshots', section: 'stock' },
  purchase_line: { table: 'purchase_lines', section: 'purchases' },
  supplier_invoice: { table: 'supplier_invoices', section: 'invoices' },
  supplier_invoice_line: { table: 'supplier_invoice_lines', section: 'invoiceLines' },
  sale_line: { table: 'sales_lines', section: 'sales' },
};

/** Per entity, what the real ingestion holds for a pharmacy: rows in the fact table and the ingest batches' counts. */
export interface FactCounts {
  rows: number;
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  /** Any stored row (fact or quarantine) whose text contains `marker`. */
  leak: boolean;
}

/** Reads FactCounts for every entity (fact tables, ingest_batches counts, quarantine). */
export async function factCounts(ds: DataSource, pharmacyId: string, marker = 'zzmarqueur'): Promise<Record<string, FactCounts>> {
  const out: Record<string, FactCounts> = {};
  for (const [entity, { table, section }] of Object.entries(FACT_TABLES)) {
    const [r] = (await ds.query(`SELECT count(*)::int AS n, coalesce(bool_or(t::text ILIKE $2), false) AS leak FROM ${table} t WHERE pharmacy_id = $1`, [pharmacyId, `%${marker}%`])) as { n: number; leak: boolean }[];
    const [b] = (await ds.query(
      `SELECT coalesce(sum((counts->$2->>'received')::int), 0)::int AS received, coalesce(sum((counts->$2->>'inserted')::int), 0)::int AS inserted,
              coalesce(sum((counts->$2->>'updated')::int), 0)::int AS updated, coalesce(sum((counts->$2->>'unchanged')::int), 0)::int AS unchanged,
              coalesce(sum((counts->$2->>'quarantined')::int), 0)::int AS quarantined
         FROM ingest_batches WHERE pharmacy_id = $1 AND source = 'agent'`,
      [pharmacyId, section],
    )) as Omit<FactCounts, 'rows' | 'leak'>[];
    const [q] = (await ds.query(`SELECT coalesce(bool_or(q::text ILIKE $3), false) AS leak FROM ingest_quarantine q WHERE pharmacy_id = $1 AND kind = $2`, [pharmacyId, section, `%${marker}%`])) as { leak: boolean }[];
    out[entity] = { rows: r!.n, ...b!, leak: r!.leak || q!.leak };
  }
  return out;
}

/** Total rows across the fact tables of a pharmacy. */
export async function factRows(ds: DataSource, pharmacyId: string): Promise<number> {
  let n = 0;
  for (const { table } of Object.values(FACT_TABLES)) n += ((await ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE pharmacy_id = $1`, [pharmacyId])) as { n: number }[])[0]!.n;
  return n;
}

/**
 * Per fact table, the same values projected from the reference LGO (SQLite, as the LGO
 * stores them: euros, Paris wall-clock times, French supplier kinds) and from PostgreSQL
 * (cents, timestamptz, canonical kinds), each row as one `|`-joined line. Written
 * independently of the agent's conversions, so a wrong unit, rounding, time zone or a lost
 * or duplicated row changes the checksum.
 */
const CHECKSUM_PROJECTIONS: Record<string, { source: string; stored: string }> = {
  product: {
    source: `SELECT cip13 || '|' || libelle || '|' || famille || '|' || printf('%.2f', taux_tva) || '|' || coalesce(laboratoire, '') AS l FROM produits`,
    stored: `SELECT code || '|' || label || '|' || family || '|' || vat_rate::text || '|' || coalesce(lab, '') AS l FROM pharmacy_products WHERE pharmacy_id = $1`,
  },
  supplier: {
    source: `SELECT id || '|' || raison_sociale || '|' || CASE type_fournisseur WHEN 'grossiste' THEN 'wholesaler' WHEN 'laboratoire' THEN 'lab' ELSE 'other' END AS l FROM fournisseurs`,
    stored: `SELECT source_id || '|' || name || '|' || kind AS l FROM suppliers WHERE pharmacy_id = $1`,
  },
  stock: {
    source: `SELECT jour_stock || '|' || cip13 || '|' || quantite || '|' || CAST(ROUND(pamp * 100) AS INTEGER) AS l FROM stock`,
    stored: `SELECT snapshot_on::text || '|' || product_code || '|' || quantity || '|' || wac_ht_cents AS l FROM stock_snapshots WHERE pharmacy_id = $1`,
  },
  purchase_line: {
    source: `SELECT id || '|' || fournisseur_id || '|' || cip13 || '|' || coalesce(commande, '') || '|' || statut || '|' || date_commande || '|' || substr(date_reception, 1, 10) || '|' ||
                    quantite || '|' || unites_gratuites || '|' || CAST(ROUND(prix_catalogue_ht * 100) AS INTEGER) || '|' || CAST(ROUND(prix_achat_ht * 100) AS INTEGER) AS l FROM achats_lignes`,
    stored: `SELECT source_id || '|' || supplier_source_id || '|' || product_code || '|' || coalesce(order_ref, '') || '|' || status || '|' || ordered_on::text || '|' || coalesce(received_on::text, '') || '|' ||
                    quantity || '|' || free_units || '|' || list_price_ht_cents || '|' || net_price_ht_cents AS l FROM purchase_lines WHERE pharmacy_id = $1`,
  },
  supplier_invoice: {
    source: `SELECT id || '|' || fournisseur_id || '|' || numero || '|' || date_facture || '|' || CAST(ROUND(total_ht * 100) AS INTEGER) || '|' || CAST(ROUND(total_ttc * 100) AS INTEGER) AS l FROM factures_fournisseurs`,
    stored: `SELECT source_id || '|' || supplier_source_id || '|' || invoice_number || '|' || issued_on::text || '|' || total_ht_cents || '|' || total_ttc_cents AS l FROM supplier_invoices WHERE pharmacy_id = $1`,
  },
  supplier_invoice_line: {
    source: `SELECT facture_id || '|' || num_ligne || '|' || cip13 || '|' || quantite || '|' || unites_gratuites || '|' || CAST(ROUND(prix_unitaire_ht * 100) AS INTEGER) || '|' ||
                    printf('%.2f', taux_tva) || '|' || CAST(ROUND(montant_ht * 100) AS INTEGER) AS l FROM factures_lignes`,
    stored: `SELECT invoice_source_id || '|' || line_no || '|' || product_code || '|' || quantity || '|' || free_units || '|' || unit_price_ht_cents || '|' ||
                    vat_rate::text || '|' || amount_ht_cents AS l FROM supplier_invoice_lines WHERE pharmacy_id = $1`,
  },
  sale_line: {
    source: `SELECT id || '|' || ticket || '|' || date_vente || '|' || cip13 || '|' || quantite || '|' || CAST(ROUND(prix_unitaire_ttc * 100) AS INTEGER) || '|' || printf('%.2f', taux_tva) || '|' ||
                    CAST(ROUND(honoraire * 100) AS INTEGER) || '|' || type_vente || '|' || CAST(ROUND(cout_unitaire_ht * 100) AS INTEGER) AS l FROM ventes_lignes`,
    stored: `SELECT source_id || '|' || ticket_id || '|' || to_char(sold_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI:SS') || '|' || product_code || '|' || quantity || '|' || unit_price_ttc_cents || '|' ||
                    vat_rate::text || '|' || fee_ttc_cents || '|' || sale_type || '|' || unit_cost_ht_cents AS l FROM sales_lines WHERE pharmacy_id = $1`,
  },
};

/** Row count and sha256 of a table's sorted projected lines. */
export interface TableChecksum {
  rows: number;
  sha256: string;
}

function checksumOf(where: string, rows: { l: string | null }[]): TableChecksum {
  // A NULL anywhere nulls the whole line (||): refuse it rather than checksum "null".
  const lines = rows.map((r) => {
    if (r.l === null) throw new Error(`${where}: a projected value is NULL`);
    return r.l;
  });
  return { rows: lines.length, sha256: createHash('sha256').update(lines.sort().join('\n')).digest('hex') };
}

/**
 * Content checksums of every fact table, at the source (a reference-LGO SQLite file, one
 * row per natural key) and in PostgreSQL for a pharmacy: equal when every line arrived
 * once with every value intact.
 */
export async function factChecksums(sqlitePath: string, ds: DataSource, pharmacyId: string): Promise<{ source: Record<string, TableChecksum>; stored: Record<string, TableChecksum> }> {
  const { default: Database } = await import('better-sqlite3');
  const src = new Database(sqlitePath, { readonly: true });
  const source: Record<string, TableChecksum> = {};
  const stored: Record<string, TableChecksum> = {};
  try {
    for (const [entity, p] of Object.entries(CHECKSUM_PROJECTIONS)) {
      source[entity] = checksumOf(`source ${entity}`, src.prepare(p.source).all() as { l: string | null }[]);
      stored[entity] = checksumOf(`stored ${entity}`, (await ds.query(p.stored, [pharmacyId])) as { l: string | null }[]);
    }
  } finally {
    src.close();
  }
  return { source, stored };
}
