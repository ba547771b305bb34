import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../config/config.js';
import { BackupError } from './backup.errors.js';

/** Absolute paths of the external programs the backup pipeline runs. */
export interface BackupTools {
  pgDump: string;
  pgRestore: string;
  pgBasebackup: string;
  psql: string;
  zstd: string;
  age: string;
}

/** Resolves the programs from PG_BIN_DIR and BACKUP_TOOLS_DIR (Debian: /usr/bin). */
export function backupTools(config: Pick<Config, 'PG_BIN_DIR' | 'BACKUP_TOOLS_DIR'>): BackupTools {
  return {
    pgDump: join(config.PG_BIN_DIR, 'pg_dump'),
    pgRestore: join(config.PG_BIN_DIR, 'pg_restore'),
    pgBasebackup: join(config.PG_BIN_DIR, 'pg_basebackup'),
    psql: join(config.PG_BIN_DIR, 'psql'),
    zstd: join(config.BACKUP_TOOLS_DIR, 'zstd'),
    age: join(config.BACKUP_TOOLS_DIR, 'age'),
  };
}

const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;

/**
 * The public age recipients every backup is encrypted to (vault + drill): from
 * BACKUP_RECIPIENTS and/or BACKUP_RECIPIENTS_FILE. Refuses anything that is not an
 * X25519 public key — in particular a private key (AGE-SECRET-KEY-…) pasted by mistake.
 */
export function backupRecipients(config: Pick<Config, 'BACKUP_RECIPIENTS' | 'BACKUP_RECIPIENTS_FILE'>): string[] {
  const list = [...config.BACKUP_RECIPIENTS];
  if (config.BACKUP_RECIPIENTS_FILE) {
    const text = readFileSync(config.BACKUP_RECIPIENTS_FILE, 'utf8');
    if (/AGE-SECRET-KEY-/i.test(text)) {
      throw new BackupError('backup_private_key_on_appliance', `${config.BACKUP_RECIPIENTS_FILE} contient une clé PRIVÉE age : seules les clés publiques (age1…) doivent se trouver sur l'appliance.`);
    }
    for (const line of text.split('\n').map((l) => l.trim())) {
      if (!line || line.startsWith('#')) continue;
      if (!RECIPIENT_RE.test(line)) throw new BackupError('backup_bad_recipient', `Destinataire age invalide dans ${config.BACKUP_RECIPIENTS_FILE} : ${line.slice(0, 12)}…`);
      list.push(line);
    }
  }
  const unique = [...new Set(list)];
  if (unique.length === 0) {
    throw new BackupError('backup_no_recipient', 'Aucun destinataire de sauvegarde : renseignez BACKUP_RECIPIENTS (clés publiques age du coffre et de l’hôte d’exercice).');
  }
  return unique;
}

/** Short stable fingerprint of a recipient, recorded in manifests (which key can open this backup). */
export function recipientFingerprint(recipient: string): string {
  return 'sha256:' + createHash('sha256').update(recipient).digest('hex').slice(0, 16);
}

/** A secret path from config: relative names live in the secrets dir. */
export function secretPath(config: Pick<Config, 'secretsDir'>, file: string): string {
  return isAbsolute(file) ? file : join(config.secretsDir, file);
}

/**
 * libpq environment for a postgres:// URL, so programs get the password through
 * their environment (readable only by the same user) instead of their command line.
 */
export function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {
    PGHOST: decodeURIComponent(u.hostname) || 'localhost',
    PGPORT: u.port || '5432',
    PGDATABASE: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
    PGUSER: decodeURIComponent(u.username) || 'postgres',
  };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const host = u.searchParams.get('host');
  if (host) env.PGHOST = host;
  return env;
}

/** The same URL pointing at another database of the same server. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}
