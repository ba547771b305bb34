/**
 * bench:agent — end-to-end lines/s from a reference LGO (SQLite, 1 M lines by
 * default) to rows in PostgreSQL: the real `officine-agent run --once` process
 * (extract, type-check, scan, compress, spool with fsync, seal) → HTTP → the real
 * `appliance serve` process (open, verify, ingest) → PostgreSQL; versus the
 * ingestion step alone (the BatchSink inside its transaction, same rows, same
 * batch size, on up to 250 000 rows), measured in the same run. Also the agent's peak
 * RSS (target ≤ 100 MB), run with the Node flags of systemd/officine-agent.service.
 * The channel ingests through IngestBatchSink → IngestService (fact tables, rollups, quarantine).
 * BENCH_AGENT_LINES overrides the number of sale lines; BENCH_AGENT_PROFILE_DIR=DIR writes
 * V8 CPU profiles of the agent and the appliance there (--cpu-prof), to find where time goes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadProfile } from '../agent/src/model/profile.js';
import { buildRecord, type WireRecord } from '../agent/src/model/record-builder.js';
import { referenceRows, writeReferenceSqlite, REFERENCE_COLUMNS } from '../agent/src/reference/reference-lgo.js';
import { agentChannelService } from '../appliance/src/agent-channel/agent-channel.factory.js';
import { IngestBatchSink } from '../appliance/src/agent-channel/batch-sink.js';
import { IngestService } from '../appliance/src/ingest/ingest.service.js';
import { openRuntime } from '../appliance/src/cli/bootstrap.js';
import { loadConfig } from '../appliance/src/config/config.js';
import { projectRoot } from '../appliance/src/config/version.js';
import { createLogger } from '../appliance/src/logging/logger.js';
import { printResult, round } from './lib/bench-util.js';
import { freePort } from './lib/bench-pg.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const wall0 = performance.now();
  const saleLines = Number(process.env.BENCH_AGENT_LINES ?? 1_000_000);
  const batchSize = 2000;
  const root = projectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'officine-bench-agent-'));
  chmodSync(dir, 0o711); // PostgreSQL runs as its own user when we are root: it must traverse
  const children: ReturnType<typeof spawn>[] = [];
  const profileDir = process.env.BENCH_AGENT_PROFILE_DIR;
  const prof = (name: string) => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);
  try {
    const lgo = join(dir, 'lgo', 'reference.db');
    const t0 = performance.now();
    const counts = await writeReferenceSqlite(lgo, { saleLines, products: 1000, purchaseLines: 1000 });
    const totalLines = Object.values(counts).reduce((a, b) => a + b, 0);
    process.stderr.write(`reference LGO: ${totalLines} lines in ${round((performance.now() - t0) / 1000)} s\n`);

    process.env.OFFICINE_EMBEDDED_PG_PORT = String(await freePort());
    const config = loadConfig({ envFile: '/dev/null', env: { DATA_DIR: join(dir, 'appliance'), PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'production' } });
    const rt = await openRuntime(config, createLogger('silent'));
    const ds = rt.app.db;
    const pharmacy = async (name: string) => {
      const [g] = (await ds.query(`INSERT INTO groupements (name) VALUES ($1) RETURNING id`, [name])) as { id: string }[];
      const [p] = (await ds.query(`INSERT INTO pharmacies (groupement_id, name, finess) VALUES ($1, $2, $3) RETURNING id`, [g!.id, name, name === 'e2e' ? '690000011' : '690000029'])) as { id: string }[];
      return p!.id;
    };

    // Baseline: the ingestion step alone (sink + batch record, in its transaction), same canonical rows.
    const baseId = await pharmacy('baseline');
    const profile = loadProfile('reference');
    const mappings = new Map(profile.entities.map((e) => [e.table, e]));
    const sink = new IngestBatchSink(new IngestService(ds));
    let ingestMs = 0;
    let ingested = 0;
    let pending: { entity: string; rows: WireRecord[] } | undefined;
    let n = 0;
    const flush = async () => {
      if (!pending || pending.rows.length === 0) return;
      const batch = pending;
      const s = performance.now();
      await ds.transaction(async (tx) => {
        await tx.query(`SELECT 1`);
        await sink.ingest(tx, { pharmacyId: baseId, agentId: '00000000-0000-4000-8000-000000000000', batchId: String(++n).padStart(32, '0'), entity: batch.entity, rows: batch.rows });
      });
      ingestMs += performance.now() - s;
      ingested += batch.rows.length;
      pending = undefined;
    };
    // The rate is measured on up to 250 000 rows (the sink's cost per row is flat), to keep the bench short.
    const baselineLines = Math.min(saleLines, 250_000);
    for (const [table, row] of referenceRows({ saleLines: baselineLines, products: 1000, purchaseLines: 1000 })) {
      const m = mappings.get(table)!;
      const src = Object.fromEntries(REFERENCE_COLUMNS[table]!.map((c, i) => [c, row[i]]));
      const r = buildRecord(m.entity, m.fields, src);
      if (!r.ok) continue;
      if (pending && pending.entity !== m.entity) await flush();
      pending ??= { entity: m.entity, rows: [] };
      pending.rows.push(r.record);
      if (pending.rows.length >= batchSize) await flush();
    }
    await flush();
    const ingestRate = ingested / (ingestMs / 1000);
    process.stderr.write(`ingestion alone: ${ingested} rows in ${round(ingestMs / 1000)} s\n`);

    // End to end: appliance serve (child) + officine-agent run --once (child).
    const pharmacyId = await pharmacy('e2e');
    const code = (await agentChannelService(rt.app).createEnrolmentCode(pharmacyId, null)).code;
    const port = await freePort();
    const server = spawn(process.execPath, [...prof('appliance'), join(root, 'dist/appliance/src/cli/main.js'), 'serve'], {
      env: { ...process.env, OFFICINE_ENV_FILE: '/dev/null', DATABASE_URL: rt.database.url, PORT: String(port), DATA_DIR: join(dir, 'appliance'), LOG_LEVEL: 'warn', NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(server);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600 && (await fetch(`${url}/healthz`).catch(() => undefined))?.status !== 200; i++) await sleep(100);
    // Same Node flags as systemd/officine-agent.service, so the RSS figure is the deployed one.
    const agentEnv = { ...process.env, NODE_OPTIONS: process.env.BENCH_AGENT_NODE_OPTIONS ?? '--max-semi-space-size=1 --max-old-space-size=64', OFFICINE_AGENT_DIR: join(dir, 'agent'), OFFICINE_AGENT_BACKOFF_MS: '100', OFFICINE_AGENT_BACKOFF_MAX_MS: '1000' };
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [join(root, 'dist/agent/src/cli/main.js'), ...args], { env: agentEnv, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`officine-agent ${args[0]} failed: ${r.stderr}`);
    };
    cli('configure', '--profile', 'reference', '--sqlite', lgo, '--batch-size', String(batchSize));
    cli('enroll', '--server', url, '--code', code);

    const s = performance.now();
    const agent = spawn(process.execPath, [...prof('agent'), join(root, 'dist/agent/src/cli/main.js'), 'run', '--once'], { env: agentEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(agent);
    let peakKb = 0;
    const sampler = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 100);
    createInterface({ input: agent.stderr! }).on('line', (line) => {
      const m = /"maxRssKb":(\d+)/.exec(line);
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    });
    const code2 = await new Promise<number | null>((r) => agent.once('exit', r));
    clearInterval(sampler);
    const e2eMs = performance.now() - s;
    if (code2 !== 0) throw new Error(`agent exited with ${code2}`);
    // Lines the ingestion received (stored or quarantined: same-code products/stock collapse by natural key).
    const [{ n: rows, stored }] = (await ds.query(
      `SELECT coalesce(sum(v.received), 0)::int AS n, coalesce(sum(v.inserted), 0)::int AS stored
         FROM ingest_batches b, jsonb_each(b.counts) AS e(k, c), LATERAL (SELECT (c->>'received')::int AS received, (c->>'inserted')::int AS inserted) v
        WHERE b.pharmacy_id = $1 AND b.source = 'agent'`,
      [pharmacyId],
    )) as [{ n: number; stored: number }];
    if (rows !== totalLines) throw new Error(`expected ${totalLines} lines ingested, found ${rows}`);
    const [{ sales }] = (await ds.query(`SELECT count(*)::int AS sales FROM sales_lines WHERE pharmacy_id = $1`, [pharmacyId])) as [{ sales: number }];
    if (sales !== counts.ventes_lignes) throw new Error(`expected ${counts.ventes_lignes} rows in sales_lines, found ${sales}`);
    const [{ invoiceLines }] = (await ds.query(`SELECT count(*)::int AS "invoiceLines" FROM supplier_invoice_lines WHERE pharmacy_id = $1`, [pharmacyId])) as [{ invoiceLines: number }];
    if (invoiceLines !== counts.factures_lignes) throw new Error(`expected ${counts.factures_lignes} rows in supplier_invoice_lines, found ${invoiceLines}`);
    const e2eRate = rows / (e2eMs / 1000);
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await rt.close();
    printResult({
      bench: 'agent',
      lines: totalLines,
      sink: 'IngestBatchSink → IngestService (fact tables + rollups)',
      rows_stored: stored,
      e2e_seconds: round(e2eMs / 1000),
      e2e_lines_per_s: Math.round(e2eRate),
      ingest_only_lines_per_s: Math.round(ingestRate),
      ratio: round(e2eRate / ingestRate, 3),
      agent_peak_rss_mb: round(peakKb / 1024, 1),
      rss_target_mb: 100,
      rss_ok: peakKb / 1024 <= 100,
      wall_seconds: round((performance.now() - wall0) / 1000, 1),
    });
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
