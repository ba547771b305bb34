import type { Logger } from '../logging/logger.js';
import { BackupAlert, type Alerter } from './backup-alerts.js';
import { BackupError } from './backup.errors.js';
import { layout } from './backup-manifest.js';
import { ageEncryptStage, zstdStage } from './backup.service.js';
import type { BackupTools } from './backup-settings.js';
import { fanOut } from './fan-out.js';
import { runPipeline } from './process-pipeline.js';
import { verifyStored, type BackupTarget } from './targets/backup-target.js';

/**
 * PostgreSQL's archive_command (`appliance wal archive %p %f`): seals one WAL segment
 * with zstd + age and ships it to every target, verifying what was stored. It
 * succeeds when at least one target holds a verified copy (so a NAS outage does not
 * fill pg_wal until the database stops) and alerts for every target that failed;
 * with no verified copy it fails and PostgreSQL keeps the segment and retries.
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
  if (!/^[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?$|^[0-9A-F]{8}\.history$/.test(fileName)) {
    throw new BackupError('wal_bad_name', `Nom de segment WAL inattendu : ${fileName}`);
  }
  const key = layout.wal(fileName);
  const p = runPipeline([{ cmd: tools.zstd, args: ['-3', '-q', '-c', path], label: 'zstd' }, ageEncryptStage(tools.age, recipients)]);
  const sent = await fanOut(p.stdout!, targets.map((t) => ({ name: t.name, consume: (s) => t.put(key, s) })));
  await p.done;
  const stored: string[] = [];
  const failed: string[] = [];
  for (const t of targets) {
    const err = sent.failures.get(t.name);
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
