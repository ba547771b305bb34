import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { BackupAlert, type Alert, type Alerter } from './backup-alerts.js';
import { BackupError } from './backup.errors.js';
import { layout } from './backup-manifest.js';
import { ageEncryptStage, zstdStage } from './backup.service.js';
import { backupRecipients, backupTools, type BackupTools } from './backup-settings.js';
import { fanOut } from './fan-out.js';
import { runPipeline } from './process-pipeline.js';
import { walSpoolDir } from './wal-settings.js';
import { WAL_FILE_NAME, walSpoolLate, walSpoolState, type WalSpoolState } from './wal-spool.js';
import { verifyStored, type BackupTarget } from './targets/backup-target.js';
import { configuredTargets, openTarget } from './targets/target-factory.js';

/**
 * Seals one WAL segment with zstd + age and ships it to every target, verifying what
 * was stored (run by shipWalSpool for each spooled segment). It succeeds when at least
 * one target holds a verified copy (so a NAS outage does not stall archiving) and
 * alerts for every target that failed; with no verified copy it throws and the caller
 * keeps the segment to retry.
 */
export async function archiveWalSegment(
  tools: BackupTools,
  recipients: string[],
  targets: BackupTarget[],
  path: string,
  fileName: string,
  logger: Logger,
  alerter: Alerter,
): Promise<{ stored: string[]; failed: string[] }> {
  if (!WAL_FILE_NAME.test(fileName)) {
    throw new BackupError('wal_bad_name', `Nom de segment WAL inattendu : ${fileName}`);
  }
  const key = layout.wal(fileName);
  const p = runPipeline([{ cmd: tools.zstd, args: ['-3', '-q', '-c', path], label: 'zstd' }, ageEncryptStage(tools.age, recipients)]);
  const sent = await fanOut(p.stdout!, targets.map((t) => ({ name: t.name, consume: (s) => t.put(key, s) })));
  // When every target refused early, fanOut stops reading and zstd/age may die of a
  // broken pipe; a pipeline error means no copy is complete, whatever the targets say.
  const pipeErr = await p.done.then(() => null, (e: Error) => e);
  const stored: string[] = [];
  const failed: string[] = [];
  for (const t of targets) {
    const err = sent.failures.get(t.name) ?? pipeErr;
    const v = err ? { ok: false, reason: err.message } : await verifyStored(t, key, sent).catch((e: Error) => ({ ok: false, reason: e.message }));
    if (v.ok) stored.push(t.name);
    else {
      failed.push(t.name);
      alerter.raise({ code: BackupAlert.uploadFailed, message: `Archivage WAL ${fileName} : échec vers ${t.name}.`, details: { wal: fileName, target: t.name, error: v.reason } });
    }
  }
  logger.info({ wal: fileName, stored, failed, size: sent.size }, 'wal segment archived');
  if (stored.length === 0) throw new BackupError('wal_archive_failed', `Segment WAL ${fileName} : aucune cible ne l'a reçu.`);
  return { stored, failed };
}

/** What one pass of the shipper did. */
export interface WalShipReport {
  shipped: string[];
  /** The segment no target took (the pass stopped there, to keep the order). */
  failed: string | null;
  /** Left in the spool after the pass. */
  remaining: number;
  oldestAgeS: number | null;
}

/** An alert when the oldest spooled segment is older than maxAgeS (null otherwise). */
export function walSpoolAlert(state: WalSpoolState, maxAgeS: number, dir: string): Alert | null {
  if (state.oldestAgeS === null || !walSpoolLate(state.oldestAgeS, maxAgeS)) return null;
  return {
    code: BackupAlert.walSpoolStale,
    message: `Archivage WAL en retard : ${state.segments.length} segment(s) en attente, le plus ancien depuis ${Math.round(state.oldestAgeS / 60)} min.`,
    details: { spool: dir, pending: state.segments.length, oldestAgeS: state.oldestAgeS, maxAgeS },
  };
}

/**
 * The shipper (`appliance wal ship`, scheduler job `backup.wal-ship`): ships each
 * segment PostgreSQL's archive_command spooled, in name order, through
 * archiveWalSegment, and deletes it from the spool once at least one target holds a
 * verified copy. The first segment no target took stops the pass (it stays, and is
 * retried next time). Raises BackupAlert.walSpoolStale when what is left is older than
 * maxAgeS.
 */
export async function shipWalSpool(opts: {
  dir: string;
  tools: BackupTools;
  recipients: string[];
  targets: BackupTarget[];
  logger: Logger;
  alerter: Alerter;
  now: () => Date;
  maxAgeS: number;
  /** The spool as the caller just listed it (saves a second listing); listed here otherwise. */
  pending?: WalSpoolState;
}): Promise<WalShipReport> {
  const { segments } = opts.pending ?? (await walSpoolState(opts.dir, opts.now()));
  const shipped: string[] = [];
  let failed: string | null = null;
  if (opts.targets.length === 0) {
    // Nothing to seal for: no zstd/age spawned per segment just to fail.
    if (segments.length > 0) opts.logger.error({ pending: segments.length }, 'no wal target available; segments kept in the spool');
    failed = segments[0] ?? null;
  } else for (const name of segments) {
    const path = join(opts.dir, name);
    try {
      await archiveWalSegment(opts.tools, opts.recipients, opts.targets, path, name, opts.logger, opts.alerter);
    } catch (err) {
      opts.logger.error({ err, wal: name }, 'wal segment not shipped; kept in the spool');
      failed = name;
      break;
    }
    await unlink(path);
    shipped.push(name);
  }
  const left = await walSpoolState(opts.dir, opts.now());
  const alert = walSpoolAlert(left, opts.maxAgeS, opts.dir);
  if (alert) opts.alerter.raise(alert);
  return { shipped, failed, remaining: left.segments.length, oldestAgeS: left.oldestAgeS };
}

/** Opens every configured target for WAL shipping; one that cannot be opened is logged and left out (the others still get the segment). */
export async function openWalTargets(config: Config, logger: Logger): Promise<BackupTarget[]> {
  const opened = await Promise.all(
    configuredTargets(config).map((n) =>
      openTarget(config, n).catch((err: unknown) => {
        logger.error({ err, target: n }, 'wal target unavailable');
        return null;
      }),
    ),
  );
  return opened.filter((x) => x !== null);
}

/**
 * One pass of the shipper with the configured targets (`appliance wal ship`, the
 * `backup.wal-ship` job). With BACKUP_WAL_ARCHIVING=off the spooled segments are
 * dropped unshipped (archive_mode stays on from installation; until the operator turns
 * archiving on with its targets, the spool must not fill the disk). A target that
 * cannot be opened is left out (logged); the others still get the segments.
 */
export async function shipConfiguredWalSpool(
  config: Config,
  logger: Logger,
  alerter: Alerter,
  now: () => Date,
): Promise<WalShipReport & { discarded: number }> {
  const dir = walSpoolDir(config);
  if (config.BACKUP_WAL_ARCHIVING === 'off') {
    const { segments } = await walSpoolState(dir, now()).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return { segments: [] as string[] }; // no spool (development, tests): nothing to drop
      throw err;
    });
    for (const n of segments) await unlink(join(dir, n));
    if (segments.length > 0) logger.info({ discarded: segments.length }, 'wal archiving off: spooled segments dropped unshipped');
    return { shipped: [], failed: null, remaining: 0, oldestAgeS: null, discarded: segments.length };
  }
  const pending = await walSpoolState(dir, now());
  if (pending.segments.length === 0) return { shipped: [], failed: null, remaining: 0, oldestAgeS: null, discarded: 0 };
  const targets = await openWalTargets(config, logger);
  try {
    const r = await shipWalSpool({ dir, tools: backupTools(config), recipients: backupRecipients(config), targets, logger, alerter, now, maxAgeS: config.BACKUP_WAL_SPOOL_MAX_AGE_S, pending });
    return { ...r, discarded: 0 };
  } finally {
    await Promise.all(targets.map((t) => t.close()));
  }
}
