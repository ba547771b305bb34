import pg from 'pg';
import type { Config } from '../config/config.js';
import type { SecretStore } from '../config/secrets.js';
import type { Logger } from '../logging/logger.js';
import { BackupAlert, LogAlerter, type Alerter } from './backup-alerts.js';
import { BackupError, describeError } from './backup.errors.js';
import { backupId, layout, parseBackupId, type BackupArtifact, type BackupManifest } from './backup-manifest.js';
import { BackupRecordRepository, type TargetOutcome } from './backup-record.repository.js';
import { backupRecipients, backupTools, libpqEnv, recipientFingerprint } from './backup-settings.js';
import { countRows, listForeignKeys } from './db-inventory.js';
import { fanOut } from './fan-out.js';
import { runPipeline, type Stage } from './process-pipeline.js';
import { planRetention, type RetentionPolicy } from './retention.js';
import { signDocument, verifyDocument } from './signed-document.js';
import { SigningKey } from './signing-key.js';
import { verifyStored, type BackupTarget, type TargetReport } from './targets/backup-target.js';
import type { DataSource } from 'typeorm';

/** What a backup run needs; `targets` are opened by the caller (and closed by it). */
export interface BackupDeps {
  config: Config;
  dbUrl: string;
  db: DataSource;
  logger: Logger;
  secrets: SecretStore;
  clock: { now(): Date };
  version: string;
  targets: BackupTarget[];
  alerter?: Alerter;
}

/** Per-target result of a run. */
export interface TargetRunResult extends TargetOutcome {
  report?: TargetReport;
  retention?: { kept: number; removed: string[]; walRemoved: number };
}

/** What `appliance backup run --json` prints. */
export interface BackupRunResult {
  id: string;
  status: 'verified' | 'partial' | 'failed';
  manifest: BackupManifest | null;
  targets: TargetRunResult[];
  durationMs: number;
  /**
   * Where the time went, in ms: checking the targets, the dump streamed to them,
   * waiting for the row counts after the stream ended, the base backup, reading back
   * and verifying what was stored, retention. For operators sizing the nightly window.
   */
  phasesMs: Record<string, number>;
}

/**
 * The age encryption stage for the configured recipients. The Debian `age` CLI is
 * used rather than the age-encryption npm package (which does stream, but with a
 * JavaScript cipher): same file format, native speed, and the very tool a person
 * restoring by hand will use.
 */
export function ageEncryptStage(ageBin: string, recipients: string[]): Stage {
  return { cmd: ageBin, args: recipients.flatMap((r) => ['-r', r]), label: 'age' };
}

/** zstd level 3, all cores, from stdin to stdout. */
export function zstdStage(zstdBin: string): Stage {
  return { cmd: zstdBin, args: ['-3', '-T0', '-q', '-c'], label: 'zstd' };
}

/**
 * Takes a backup: pg_dump (custom format, uncompressed) | zstd | age, streamed to
 * every target at once, never a plaintext byte on disk. Row counts and foreign keys
 * are read in the very snapshot pg_dump uses. Each target is then read back and
 * checked (size, sha256) before the signed manifest is written there; retention runs
 * on a target only once the new backup is verified on it.
 */
export class BackupService {
  private readonly alerter: Alerter;
  private readonly records: BackupRecordRepository;

  constructor(private readonly d: BackupDeps) {
    this.alerter = d.alerter ?? new LogAlerter(d.logger);
    this.records = new BackupRecordRepository(d.db);
  }

  private retentionPolicy(): RetentionPolicy {
    return { keepDaily: this.d.config.BACKUP_KEEP_DAILY, keepMonthlyDays: this.d.config.BACKUP_KEEP_MONTHLY_DAYS, timeZone: this.d.config.BACKUP_TIMEZONE };
  }

  async run(opts: { onProgress?: (bytes: number) => void } = {}): Promise<BackupRunResult> {
    const startedAt = this.d.clock.now();
    const id = backupId(startedAt);
    const recipients = backupRecipients(this.d.config);
    const key = SigningKey.loadOrCreate(this.d.secrets);
    const tools = backupTools(this.d.config);
    const results = new Map<string, TargetRunResult>();
    const phasesMs: Record<string, number> = {};
    let mark = Date.now();
    const phase = (name: string) => {
      const now = Date.now();
      phasesMs[name] = (phasesMs[name] ?? 0) + now - mark;
      mark = now;
    };

    // 1. Targets must answer before anything is dumped; a dead one is alerted and skipped.
    const usable: BackupTarget[] = [];
    for (const t of this.d.targets) {
      const report = await t.check();
      results.set(t.name, { target: t.name, verified: false, report, warnings: report.warnings });
      if (report.ok) usable.push(t);
      else this.uploadFailed(id, t.name, String(report.details.error ?? 'unreachable'));
      for (const w of report.warnings) this.d.logger.warn({ target: t.name, warning: w, details: report.details }, 'backup target setting');
    }
    phase('targets_check');

    let manifest: BackupManifest | null = null;
    let error: string | null = null;
    try {
      if (usable.length === 0) throw new BackupError('backup_no_usable_target', 'Aucune cible de sauvegarde joignable : sauvegarde impossible.');
      const artifacts: BackupArtifact[] = [];
      const client = new pg.Client({ connectionString: this.d.dbUrl, application_name: 'officine-backup' });
      await client.connect();
      let inventory: Pick<BackupManifest, 'tables' | 'foreignKeys' | 'pgVersion' | 'schemaVersion' | 'database'>;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const snap = (await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
        const meta = (
          await client.query<{ v: string; db: string; size: string }>(
            `SELECT current_setting('server_version') AS v, current_database() AS db, pg_database_size(current_database())::text AS size`,
          )
        ).rows[0]!;
        const schema = await client
          .query<{ name: string }>(`SELECT name FROM schema_migrations ORDER BY timestamp DESC LIMIT 1`)
          .then((r) => r.rows[0]?.name ?? 'none', () => 'none');
        const dump = runPipeline([
          { cmd: tools.pgDump, args: ['-Fc', '-Z0', `--snapshot=${snap}`, '--no-password'], env: libpqEnv(this.d.dbUrl), label: 'pg_dump' },
          zstdStage(tools.zstd),
          ageEncryptStage(tools.age, recipients),
        ]);
        // Counted in the dump's snapshot while pg_dump, zstd and age run: without parallel
        // workers, so the count takes one core at most instead of every core the pipeline needs.
        await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
        const counting = Promise.all([countRows(client), listForeignKeys(client)]);
        counting.catch(() => undefined);
        const sent = await this.send(dump.stdout!, usable, layout.artifact(id, layout.dumpName), Number(meta.size), results, id, opts.onProgress);
        await dump.done;
        phase('dump_and_send');
        const [tables, foreignKeys] = await counting;
        phase('row_counts_wait');
        artifacts.push({ name: layout.dumpName, kind: 'pg_dump', size: sent.size, sha256: sent.sha256 });
        inventory = { tables, foreignKeys, pgVersion: meta.v, schemaVersion: schema, database: meta.db };
        await client.query('COMMIT');
      } finally {
        await client.end().catch(() => undefined);
      }

      let base: BackupManifest['base'];
      if (this.d.config.BACKUP_WAL_ARCHIVING === 'on') {
        const b = await this.baseBackup(id, usable, recipients, results);
        artifacts.push(b.artifact);
        base = b.base;
        phase('base_backup');
      }

      manifest = {
        format: 'officine-backup/1',
        id,
        createdAt: startedAt.toISOString(),
        finishedAt: this.d.clock.now().toISOString(),
        appVersion: this.d.version,
        ...inventory,
        recipients: recipients.map(recipientFingerprint),
        compression: 'zstd',
        encryption: 'age-x25519',
        artifacts,
        ...(base ? { base } : {}),
      };
      const signed = Buffer.from(JSON.stringify(signDocument(manifest, key), null, 2) + '\n');

      // 2. Verify every artefact on every target that still stands, then publish the manifest there.
      for (const t of usable) {
        const r = results.get(t.name)!;
        if (r.error) continue;
        try {
          for (const a of artifacts) {
            const v = await verifyStored(t, layout.artifact(id, a.name), a);
            if (!v.ok) throw new BackupError('backup_verify_failed', `Vérification de ${a.name} sur ${t.name} échouée.`, v.reason);
          }
          await t.putBuffer(layout.manifest(id), signed);
          const back = await t.getBuffer(layout.manifest(id));
          if (!back.equals(signed)) throw new BackupError('backup_verify_failed', `Manifeste relu différent sur ${t.name}.`);
          r.verified = true;
        } catch (err) {
          r.error = describeError(err);
          this.uploadFailed(id, t.name, r.error);
        }
      }

      phase('verify_and_manifest');

      // 3. Retention, per target, only where this backup is verified.
      for (const t of usable) {
        const r = results.get(t.name)!;
        if (!r.verified) continue;
        try {
          r.retention = await this.applyRetention(t);
        } catch (err) {
          this.d.logger.error({ target: t.name, err }, 'retention failed');
        }
      }
      phase('retention');
    } catch (err) {
      error = describeError(err);
      this.d.logger.error({ err, backupId: id }, 'backup failed');
    }

    const targets = [...results.values()];
    const nVerified = targets.filter((t) => t.verified).length;
    const status = nVerified === 0 ? 'failed' : nVerified === targets.length ? 'verified' : 'partial';
    const sha = manifest?.artifacts[0]?.sha256 ?? null;
    await this.records.insert({
      id,
      startedAt,
      finishedAt: this.d.clock.now(),
      status,
      sizeBytes: manifest ? manifest.artifacts.reduce((s, a) => s + a.size, 0) : null,
      sha256: sha,
      targets: targets.map(({ target, verified, error: e, warnings }) => ({ target, verified, ...(e ? { error: e } : {}), warnings: warnings ?? [] })),
      error,
    });
    if (status === 'failed') {
      this.alerter.raise({ code: BackupAlert.uploadFailed, message: `Sauvegarde ${id} : aucune cible n’a reçu de copie vérifiée.`, details: { backupId: id, error } });
    }
    this.d.logger.info({ backupId: id, status, phasesMs, targets: targets.map((t) => ({ target: t.target, verified: t.verified })) }, 'backup finished');
    phase('record');
    return { id, status, manifest, targets, durationMs: this.d.clock.now().getTime() - startedAt.getTime(), phasesMs };
  }

  private uploadFailed(id: string, target: string, error: string): void {
    this.alerter.raise({ code: BackupAlert.uploadFailed, message: `Sauvegarde ${id} : échec d’envoi vers ${target}.`, details: { backupId: id, target, error } });
  }

  /** Streams one sealed artefact to every usable target; failures are recorded per target. */
  private async send(
    body: NodeJS.ReadableStream,
    targets: BackupTarget[],
    key: string,
    sizeHint: number,
    results: Map<string, TargetRunResult>,
    id: string,
    onProgress?: (bytes: number) => void,
  ): Promise<{ size: number; sha256: string }> {
    const live = targets.filter((t) => !results.get(t.name)!.error);
    const sent = await fanOut(
      body as import('node:stream').Readable,
      live.map((t) => ({ name: t.name, consume: (s) => t.put(key, s, { sizeHint }) })),
      onProgress,
    );
    for (const [name, err] of sent.failures) {
      results.get(name)!.error = describeError(err);
      this.uploadFailed(id, name, describeError(err));
    }
    if (sent.failures.size === live.length) throw new BackupError('backup_upload_failed', 'Aucune cible n’a accepté la sauvegarde.');
    return sent;
  }

  /**
   * Physical base backup (for point-in-time restore with the archived WAL). WAL
   * replay starts at or after the segment current when the backup begins, so that
   * segment is recorded as the start point (pg_basebackup -X none does not print it).
   */
  private async baseBackup(id: string, targets: BackupTarget[], recipients: string[], results: Map<string, TargetRunResult>) {
    const tools = backupTools(this.d.config);
    const walPosition = async () => {
      const c = new pg.Client({ connectionString: this.d.dbUrl, application_name: 'officine-backup' });
      await c.connect();
      try {
        return (
          await c.query<{ wal: string; lsn: string; tli: number }>(
            `SELECT pg_walfile_name(pg_current_wal_lsn()) AS wal, pg_current_wal_lsn()::text AS lsn, (SELECT timeline_id FROM pg_control_checkpoint()) AS tli`,
          )
        ).rows[0]!;
      } finally {
        await c.end();
      }
    };
    const start = await walPosition();
    const p = runPipeline([
      { cmd: tools.pgBasebackup, args: ['-D', '-', '-Ft', '-X', 'none', '--checkpoint=fast', '--no-password'], env: libpqEnv(this.d.dbUrl), label: 'pg_basebackup' },
      zstdStage(tools.zstd),
      ageEncryptStage(tools.age, recipients),
    ]);
    const sent = await this.send(p.stdout!, targets, layout.artifact(id, layout.baseName), 0, results, id);
    await p.done;
    const end = await walPosition();
    return {
      artifact: { name: layout.baseName, kind: 'base_backup' as const, size: sent.size, sha256: sent.sha256 },
      base: { startLsn: start.lsn, endLsn: end.lsn, timeline: Number(start.tli), startWal: start.wal },
    };
  }

  /**
   * Lists this target's backups and deletes what the policy no longer keeps; then
   * drops archived WAL older than the oldest base backup still kept (WAL before it
   * can no longer be replayed onto anything).
   */
  async applyRetention(t: BackupTarget): Promise<{ kept: number; removed: string[]; walRemoved: number }> {
    const ids = (await t.list(layout.backupsDir)).filter((n) => parseBackupId(n));
    const items = await Promise.all(
      ids.map(async (id) => ({ id, createdAt: parseBackupId(id)!, verified: (await t.stat(layout.manifest(id))) !== null })),
    );
    const plan = planRetention(items, this.d.clock.now(), this.retentionPolicy());
    for (const id of plan.remove) await t.delete(layout.backupDir(id), { recursive: true });
    if (plan.remove.length) this.d.logger.info({ target: t.name, removed: plan.remove }, 'retention applied');
    return { kept: plan.keep.length, removed: plan.remove, walRemoved: await this.pruneWal(t, plan.keep) };
  }

  private async pruneWal(t: BackupTarget, kept: string[]): Promise<number> {
    const own = [SigningKey.loadOrCreate(this.d.secrets).publicId];
    const starts: string[] = [];
    for (const id of kept) {
      try {
        const raw = await t.getBuffer(layout.manifest(id));
        const m = verifyDocument<BackupManifest>(raw, own, 'le manifeste');
        if (m.base) starts.push(m.base.startWal.slice(8));
      } catch {
        // unverified or unreadable: not a reason to delete anything
      }
    }
    if (starts.length === 0) return 0;
    const oldest = starts.sort()[0]!;
    const old = (await t.list(layout.walDir)).filter((n) => /^[0-9A-F]{24}\.zst\.age$/.test(n) && n.slice(8, 24) < oldest);
    for (const n of old) await t.delete(`${layout.walDir}/${n}`);
    if (old.length) this.d.logger.info({ target: t.name, walRemoved: old.length, keepFrom: oldest }, 'archived WAL pruned');
    return old.length;
  }

}
