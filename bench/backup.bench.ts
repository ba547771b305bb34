// bench:backup — wall time of the appliance's backup and restore (the real CLI:
// `appliance backup run`, `appliance restore`) against the bare shell pipelines
//   pg_dump -Fc -Z0 | zstd -3 -T0 | age -r … > file      and
//   age -d | zstd -d | pg_restore
// on the same synthetic database, in the same run. The appliance also reads every
// table count in the dump's snapshot, re-reads and hashes what it stored, verifies
// the signed manifest before restoring, and re-checks counts and foreign keys after.
// Both sides run the same pg_restore: session settings were tried for the
// appliance's (maintenance_work_mem 256 MB, synchronous_commit off) and measured
// within the run-to-run noise of pg_restore itself (about ±10 % here), so none is set.
// Database: one year of a 50-pharmacy groupement, generated with generate_series
// (the synthetic generator goes through ingestion, far too slow for this volume):
// a French officine rings up ~70 000 tickets a year at ~2.5 lines each, so
// 50 × ~180 000 = 9 M sales lines (~1.8 GB). BENCH_SALES_ROWS shrinks it for a quick
// look; at a few hundred MB the appliance's fixed costs (Node start-up, exact row
// counts, re-reading what it stored) weigh more than they do on a real database.
// Prints one JSON object on its last line; ratio = the worse of the two ratios.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { libpqEnv, withDatabase } from '../appliance/src/backup/backup-settings.js';
import { layout } from '../appliance/src/backup/backup-manifest.js';
import { startThrowawayPostgres } from '../appliance/src/backup/throwaway-postgres.js';
import { projectRoot } from '../appliance/src/config/version.js';
import { createDataSource } from '../appliance/src/db/data-source.js';
import { migrateUp } from '../appliance/src/db/migrator.js';
import { percentile, round } from './lib/bench-util.js';

const SALES_ROWS = Number(process.env.BENCH_SALES_ROWS ?? 9_000_000);
// Each rep runs both sides; which goes first alternates, so the checkpoint and cache
// state one run leaves behind does not always fall on the same side.
const REPS = Number(process.env.BENCH_REPS ?? 5);
const root = projectRoot();
const cli = join(root, 'dist/appliance/src/cli/main.js');

/** Runs a command under GNU time: wall seconds and peak RSS (KiB) of the whole process tree. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; rssKb: number; stdout: string; stderr: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '@@%e %M', cmd, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /@@([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}\n${r.stdout.slice(-1000)}`);
  return { seconds: Number(m[1]), rssKb: Number(m[2]), stdout: r.stdout, stderr: r.stderr };
}

async function sql(url: string, q: string, params: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(q, params)).rows;
  } finally {
    await c.end();
  }
}

/** Median (nearest rank) of the per-rep ratios a/b. */
const medianRatio = (a: { seconds: number }[], b: { seconds: number }[]) => round(percentile(a.map((x, i) => x.seconds / b[i]!.seconds), 50), 3);

const best = (xs: { seconds: number; rssKb: number }[]) => ({ seconds: Math.min(...xs.map((x) => x.seconds)), rssKb: Math.max(...xs.map((x) => x.rssKb)) });

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'officine-bench-'));
  const asRoot = process.getuid?.() === 0;
  const pgc = await startThrowawayPostgres();
  let mounted = false;
  try {
    const dbUrl = withDatabase(pgc.adminUrl, 'bench');
    await sql(pgc.adminUrl, 'CREATE DATABASE bench');
    const ds = createDataSource(dbUrl, { poolSize: 2 });
    await ds.initialize();
    await migrateUp(ds);
    await ds.destroy();
    process.stderr.write(`generating ${SALES_ROWS} sales lines…\n`);
    await sql(dbUrl, `INSERT INTO groupements (name) VALUES ('Bench')`);
    await sql(dbUrl, `INSERT INTO pharmacies (groupement_id, name, finess) SELECT g.id, 'Pharmacie ' || i, lpad(i::text, 9, '0') FROM groupements g, generate_series(1, 50) i`);
    await sql(
      dbUrl,
      `CREATE TABLE bench_sales_lines (pharmacy_id uuid NOT NULL REFERENCES pharmacies(id), source_id bigint NOT NULL, sold_at timestamptz NOT NULL,
         cip13 char(13) NOT NULL, quantity integer NOT NULL, unit_price_cents integer NOT NULL, vat_rate numeric(4,2) NOT NULL, label text NOT NULL,
         PRIMARY KEY (pharmacy_id, source_id))`,
    );
    await sql(
      dbUrl,
      `INSERT INTO bench_sales_lines SELECT p.id, i, timestamptz '2025-01-01' + (i % 525600) * interval '1 minute', '34009' || lpad(((i::bigint * 7919) % 99999999)::text, 8, '0'),
         1 + i % 5, 100 + (i * 37) % 9000, (ARRAY[2.10, 5.50, 10.00, 20.00])[1 + i % 4], 'Produit ' || ((i * 31) % 20000) || ' boîte de ' || (i % 30)
         FROM (SELECT id, row_number() OVER (ORDER BY finess) - 1 AS n FROM pharmacies) p, generate_series(1, $1::int) i WHERE i % 50 = p.n`,
      [SALES_ROWS],
    );
    await sql(dbUrl, `CREATE INDEX bench_sales_lines_sold_idx ON bench_sales_lines (pharmacy_id, sold_at)`);
    await sql(dbUrl, 'VACUUM ANALYZE');
    const dbBytes = Number((await sql(dbUrl, `SELECT pg_database_size('bench') AS s`))[0].s);

    const keys = join(work, 'keys');
    mkdirSync(keys, { mode: 0o700 });
    execFileSync('age-keygen', ['-o', join(keys, 'vault.key')], { stdio: 'ignore' });
    execFileSync('age-keygen', ['-o', join(keys, 'drill.key')], { stdio: 'ignore' });
    const recipients = ['vault', 'drill'].map((k) => execFileSync('age-keygen', ['-y', join(keys, `${k}.key`)]).toString().trim());

    // The NAS mount target needs a real mount point: a tmpfs as root, else /dev/shm.
    let nas = '/dev/shm';
    if (asRoot) {
      nas = join(work, 'nas');
      mkdirSync(nas);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4g,mode=0700', 'tmpfs', nas]);
      mounted = true;
    }
    const shellOut = join(nas, 'shell');
    mkdirSync(shellOut, { recursive: true });
    const secrets = join(work, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    chmodSync(work, 0o711);
    const applianceEnv = {
      OFFICINE_ENV_FILE: '/dev/null',
      DATABASE_URL: dbUrl,
      SECRETS_DIR: secrets,
      DATA_DIR: join(work, 'var'),
      LOG_LEVEL: 'warn',
      BACKUP_RECIPIENTS: recipients.join(','),
      BACKUP_TARGETS: 'nas',
      NAS_MODE: 'mount',
      NAS_MOUNT_PATH: nas,
      BACKUP_KEEP_DAILY: '3650',
    };
    const pgEnv = libpqEnv(dbUrl);
    const shellBackup = `set -o pipefail; pg_dump -Fc -Z0 | zstd -3 -T0 -q | age ${recipients.map((r) => `-r ${r}`).join(' ')} > "$OUT"`;

    const sb: ReturnType<typeof timed>[] = [];
    const ab: ReturnType<typeof timed>[] = [];
    let backupId = '';
    const phases: Record<string, number>[] = [];
    for (let i = 0; i < REPS; i++) {
      process.stderr.write(`backup rep ${i + 1}…\n`);
      const shell = () => sb.push(timed('bash', ['-c', shellBackup], { ...pgEnv, OUT: join(shellOut, 'dump.age') }));
      const appliance = () => {
        const a = timed('node', [cli, 'backup', 'run', '--json'], applianceEnv);
        const r = JSON.parse(a.stdout) as { id: string; status: string; durationMs: number; phasesMs: Record<string, number> };
        if (r.status !== 'verified') throw new Error(`appliance backup ${r.status}`);
        backupId = r.id;
        ab.push(a);
        phases.push({ wall_s: a.seconds, service_ms: r.durationMs, ...r.phasesMs });
      };
      // Every timed run starts from a checkpoint: the WAL a previous run left behind is
      // flushed outside the measurement, whichever side it belonged to.
      for (const run of i % 2 === 0 ? [shell, appliance] : [appliance, shell]) {
        await sql(pgc.adminUrl, 'CHECKPOINT');
        run();
      }
      await new Promise((res) => setTimeout(res, 1100)); // one backup id per second
    }
    const sealedBytes = statSync(join(nas, layout.artifact(backupId, layout.dumpName))).size;
    const shellSealed = statSync(join(shellOut, 'dump.age')).size;

    const restorePhases: Record<string, number>[] = [];
    const sr: ReturnType<typeof timed>[] = [];
    const ar: ReturnType<typeof timed>[] = [];
    for (let i = 0; i < REPS; i++) {
      process.stderr.write(`restore rep ${i + 1}…\n`);
      const s = `shell_r${i}`;
      const a = `appliance_r${i}`;
      await sql(pgc.adminUrl, `CREATE DATABASE ${s} TEMPLATE template0`);
      await sql(pgc.adminUrl, `CREATE DATABASE ${a} TEMPLATE template0`);
      const shellRestore = () => sr.push(
        timed('bash', ['-c', `set -o pipefail; age -d -i "$KEY" "$IN" | zstd -d -q | pg_restore --no-owner --no-privileges --exit-on-error -d ${s}`], {
          ...pgEnv,
          KEY: join(keys, 'drill.key'),
          IN: join(shellOut, 'dump.age'),
        }),
      );
      const applianceRestore = () => {
        const t = timed(
          'node',
          [cli, 'restore', '--identity', join(keys, 'drill.key'), '--from', nas, '--backup', backupId, '--target-url', withDatabase(pgc.adminUrl, a), '--workdir', work],
          { ...applianceEnv, LOG_LEVEL: 'info' },
        );
        ar.push(t);
        const done = t.stderr.split('\n').find((l) => l.includes('"restore finished"'));
        restorePhases.push({ wall_s: t.seconds, ...(done ? (JSON.parse(done) as { phasesMs: Record<string, number> }).phasesMs : {}) });
      };
      for (const run of i % 2 === 0 ? [shellRestore, applianceRestore] : [applianceRestore, shellRestore]) {
        await sql(pgc.adminUrl, 'CHECKPOINT');
        run();
      }
      const [cs, ca] = await Promise.all([sql(withDatabase(pgc.adminUrl, s), 'SELECT count(*)::int AS n FROM bench_sales_lines'), sql(withDatabase(pgc.adminUrl, a), 'SELECT count(*)::int AS n FROM bench_sales_lines')]);
      if (cs[0].n !== SALES_ROWS || ca[0].n !== SALES_ROWS) throw new Error('restored row counts differ');
      await sql(pgc.adminUrl, `DROP DATABASE ${s}`);
      await sql(pgc.adminUrl, `DROP DATABASE ${a}`);
    }

    const B = { appliance: best(ab), shell: best(sb) };
    const R = { appliance: best(ar), shell: best(sr) };
    const MB = 1024 * 1024;
    const out = {
      bench: 'backup',
      database: { generator: 'generate_series (50 pharmacies)', salesLines: SALES_ROWS, bytes: dbBytes, sealedBytes, shellSealedBytes: shellSealed },
      backup: {
        appliance_s: B.appliance.seconds,
        shell_s: B.shell.seconds,
        ratio: +(B.appliance.seconds / B.shell.seconds).toFixed(3),
        appliance_db_MBps: +(dbBytes / MB / B.appliance.seconds).toFixed(1),
        shell_db_MBps: +(dbBytes / MB / B.shell.seconds).toFixed(1),
        appliance_peak_rss_kb: B.appliance.rssKb,
        shell_peak_rss_kb: B.shell.rssKb,
      },
      restore: {
        appliance_s: R.appliance.seconds,
        shell_s: R.shell.seconds,
        ratio: +(R.appliance.seconds / R.shell.seconds).toFixed(3),
        appliance_sealed_MBps: +(sealedBytes / MB / R.appliance.seconds).toFixed(1),
        shell_sealed_MBps: +(shellSealed / MB / R.shell.seconds).toFixed(1),
        appliance_peak_rss_kb: R.appliance.rssKb,
        shell_peak_rss_kb: R.shell.rssKb,
      },
      // Per appliance backup run: wall time of the process, time inside the service, and its phases.
      appliance_backup_phases_ms: phases,
      appliance_restore_phases_ms: restorePhases,
      // Each rep times both sides back to back: the median of those paired ratios is
      // less sensitive to one lucky or unlucky run than best-of-N on each side.
      median_pair_ratio: {
        backup: medianRatio(ab, sb),
        restore: medianRatio(ar, sr),
      },
      reps: REPS,
      runs_s: {
        backup: { appliance: ab.map((x) => x.seconds), shell: sb.map((x) => x.seconds) },
        restore: { appliance: ar.map((x) => x.seconds), shell: sr.map((x) => x.seconds) },
      },
      target: 1.1,
    };
    const ratio = Math.max(out.backup.ratio, out.restore.ratio);
    process.stdout.write(JSON.stringify({ ...out, ratio, pass: ratio <= 1.1 }) + '\n');
  } finally {
    await pgc.stop();
    if (mounted) execFileSync('umount', ['-l', join(work, 'nas')]);
    else rmSync(join('/dev/shm', 'backups'), { recursive: true, force: true }), rmSync(join('/dev/shm', 'shell'), { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
