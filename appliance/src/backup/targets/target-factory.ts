import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../../config/config.js';
import { readSecretFile } from '../../config/secrets.js';
import { BackupError } from '../backup.errors.js';
import { secretPath } from '../backup-settings.js';
import type { BackupTarget } from './backup-target.js';
import { DirectoryStore } from './directory-store.js';

/**
 * Builds one configured target by name (`s3` or `nas`); refuses an incomplete
 * configuration. The S3 and SSH libraries load only when their target is used.
 */
export async function openTarget(config: Config, name: string): Promise<BackupTarget> {
  if (name === 's3') {
    const missing = [!config.S3_BUCKET && 'S3_BUCKET', !config.S3_ACCESS_KEY_ID && 'S3_ACCESS_KEY_ID'].filter(Boolean);
    if (missing.length) throw new BackupError('target_not_configured', `Cible S3 incomplète : ${missing.join(', ')} manquant(s).`);
    const { S3Target } = await import('./s3.target.js');
    return new S3Target({
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      bucket: config.S3_BUCKET!,
      prefix: config.S3_PREFIX,
      accessKeyId: config.S3_ACCESS_KEY_ID!,
      secretAccessKey: readSecretFile(secretPath(config, config.S3_SECRET_KEY_FILE)).toString('utf8').trim(),
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      checksums: config.S3_CHECKSUMS,
    });
  }
  if (name === 'nas') {
    if (config.NAS_MODE === 'mount') {
      if (!config.NAS_MOUNT_PATH) throw new BackupError('target_not_configured', 'Cible NAS incomplète : NAS_MOUNT_PATH manquant.');
      return new DirectoryStore('nas', resolve(config.NAS_MOUNT_PATH), { requireMount: true });
    }
    const missing = [!config.NAS_SFTP_HOST && 'NAS_SFTP_HOST', !config.NAS_SFTP_HOST_KEY && 'NAS_SFTP_HOST_KEY'].filter(Boolean);
    if (missing.length) throw new BackupError('target_not_configured', `Cible NAS incomplète : ${missing.join(', ')} manquant(s).`);
    const { SftpTarget } = await import('./sftp.target.js');
    return new SftpTarget({
      host: config.NAS_SFTP_HOST!,
      port: config.NAS_SFTP_PORT,
      username: config.NAS_SFTP_USER,
      privateKey: readSecretFile(secretPath(config, config.NAS_SFTP_KEY_FILE)),
      hostKeyFingerprint: config.NAS_SFTP_HOST_KEY!,
      root: config.NAS_SFTP_PATH,
    });
  }
  throw new BackupError('target_unknown', `Cible inconnue : ${name} (s3 ou nas).`);
}

/** Every target in BACKUP_TARGETS; a backup refuses to run with none (never to the local disk). */
export function configuredTargets(config: Config): string[] {
  if (config.BACKUP_TARGETS.length === 0) {
    throw new BackupError('backup_no_target', 'Aucune cible de sauvegarde : renseignez BACKUP_TARGETS (s3, nas). Aucune sauvegarde n’est écrite sur le disque local.');
  }
  return config.BACKUP_TARGETS;
}

/**
 * Where a restore or a drill reads from: `s3`, `nas`, or a local directory laid out
 * like a target (a copy of the NAS folder, a USB disk), read-only unless `writable`
 * (the drill publishes its report there).
 */
export async function openSource(config: Config, from: string, opts: { writable?: boolean } = {}): Promise<BackupTarget> {
  if (from === 's3' || from === 'nas') return openTarget(config, from);
  if (!existsSync(from) || !statSync(from).isDirectory()) {
    throw new BackupError('source_not_found', `Source introuvable : ${from} (s3, nas, ou un dossier contenant backups/).`);
  }
  return new DirectoryStore('file', resolve(from), { requireMount: false, readOnly: !opts.writable });
}
