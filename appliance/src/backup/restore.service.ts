import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import type { Logger } from '../logging/logger.js';
import { BackupError } from './backup.errors.js';
import { layout, parseBackupId, type BackupArtifact, type BackupManifest } from './backup-manifest.js';
import { libpqEnv, recipientFingerprint, withDatabase, type BackupTools } from './backup-settings.js';
import { countRows, foreignKeyViolations, listForeignKeys, validatedForeignKeys } from './db-inventory.js';
import { runPipeline, runTool, type Stage } from './process-pipeline.js';
import { verifyDocument } from './signed-document.js';
import type { BackupTarget } from './targets/backup-target.js';
import { DirectoryStore } from './targets/directory-store.js';

/** A backup chosen for restore, with its verified manifest. */
export interface VerifiedBackup {
  manifest: BackupManifest;
  /** Local path of the checked ciphertext (downloaded or in place). */
  file: string;
  artifact: BackupArtifact;
  cleanup(): Promise<void>;
}

/** Differences between a restored database and what the manifest promised. */
export interface RestoreCheck {
  ok: boolean;
  tableCount: { expected: number; actual: number };
  rowMismatches: { table: string; expected: number; actual: number | null }[];
  missingForeignKeys: string[];
  violatedForeignKeys: { name: string; rows: number }[];
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Everything a restore, a point-in-time restore and a drill share: choose a backup,
 * verify its signed manifest and the ciphertext's size and sha256, check the key
 * opens it — all before anything is written — then stream age -d | zstd -d |
 * pg_restore into a database and compare it with the manifest.
 */
export class RestoreService {
  constructor(
    private readonly tools: BackupTools,
    readonly logger: Logger,
    private readonly trustedSigners: string[],
  ) {}

  /** Ids of the backups on `source` that have a manifest, newest first. */
  async listBackups(source: BackupTarget): Promise<string[]> {
    const ids = (await source.list(layout.backupsDir)).filter((n) => parseBackupId(n)).sort().reverse();
    const withManifest: string[] = [];
    for (const id of ids) if (await source.stat(layout.manifest(id))) withManifest.push(id);
    return withManifest;
  }

  /** Fetches and verifies a manifest; refuses an unsigned, foreign-signed or altered one. */
  async readManifest(source: BackupTarget, id: string): Promise<BackupManifest> {
    const raw = await source.getBuffer(layout.manifest(id)).catch(() => {
      throw new BackupError('restore_manifest_missing', `Manifeste de la sauvegarde ${id} introuvable.`);
    });
    const m = verifyDocument<BackupManifest>(raw, this.trustedSigners, 'le manifeste');
    if (m.id !== id || m.format !== 'officine-backup/1') throw new BackupError('restore_manifest_mismatch', `Le manifeste ne correspond pas à la sauvegarde ${id}.`);
    return m;
  }

  /**
   * Picks the backup (given id, the newest at or before `until` that has a base
   * backup when `needBase`, or the newest), verifies manifest, checksum and key.
   */
  async prepare(source: BackupTarget, identityFile: string, opts: { backupId?: string; until?: Date; needBase?: boolean; workDir: string }): Promise<VerifiedBackup> {
    const ids = await this.listBackups(source);
    let id = opts.backupId;
    let manifest: BackupManifest | undefined;
    if (id) {
      if (!ids.includes(id)) throw new BackupError('restore_backup_not_found', `Sauvegarde ${id} introuvable (ou sans manifeste).`);
      manifest = await this.readManifest(source, id);
    } else {
      for (const candidate of ids) {
        if (opts.until && parseBackupId(candidate)! > opts.until) continue;
        const m = await this.readManifest(source, candidate);
        if (opts.needBase && !m.base) continue;
        if (opts.until && new Date(m.finishedAt) > opts.until) continue;
        id = candidate;
        manifest = m;
        break;
      }
      if (!id || !manifest) throw new BackupError('restore_backup_not_found', 'Aucune sauvegarde vérifiable ne convient.');
    }
    const artifact = manifest.artifacts.find((a) => a.kind === (opts.needBase ? 'base_backup' : 'pg_dump'));
    if (!artifact) throw new BackupError('restore_artifact_missing', `La sauvegarde ${id} n'a pas d'artefact ${opts.needBase ? 'base_backup' : 'pg_dump'}.`);

    await this.checkIdentityMatches(identityFile, manifest);
    const local = await this.fetchChecked(source, layout.artifact(id, artifact.name), artifact, opts.workDir);
    try {
      await this.checkKeyOpens(identityFile, local.file);
    } catch (err) {
      await local.cleanup();
      throw err;
    }
    this.logger.info({ backupId: id, artifact: artifact.name }, 'backup verified before restore');
    return { manifest, artifact, ...local };
  }

  /** The identity's public key must be one of the manifest's recipients. */
  private async checkIdentityMatches(identityFile: string, manifest: BackupManifest): Promise<void> {
    let out: Buffer;
    try {
      out = await runTool({ cmd: this.tools.age + '-keygen', args: ['-y', identityFile], label: 'age-keygen' });
    } catch {
      throw new BackupError('restore_bad_identity', `Clé age illisible : ${identityFile}.`);
    }
    const fingerprints = out.toString().split('\n').map((l) => l.trim()).filter(Boolean).map(recipientFingerprint);
    if (!fingerprints.some((f) => manifest.recipients.includes(f))) {
      throw new BackupError('restore_wrong_key', 'Cette clé ne fait pas partie des destinataires de la sauvegarde : refusé.');
    }
  }

  /** Decrypts the first block only: proves the key opens the file without writing anything. */
  private async checkKeyOpens(identityFile: string, file: string): Promise<void> {
    const p = runPipeline([{ cmd: this.tools.age, args: ['-d', '-i', identityFile, file], label: 'age' }]);
    const got = await new Promise<boolean>((resolve) => {
      p.stdout!.once('data', () => resolve(true));
      p.stdout!.once('end', () => resolve(false));
      p.done.catch(() => resolve(false));
    });
    p.kill();
    await p.done.catch(() => undefined);
    if (!got) throw new BackupError('restore_wrong_key', 'Impossible de déchiffrer la sauvegarde avec cette clé : refusé.');
  }

  /** Hashes the artefact in place (local folder) or downloads it (still encrypted) while hashing. */
  private async fetchChecked(source: BackupTarget, key: string, a: BackupArtifact, workDir: string): Promise<{ file: string; cleanup(): Promise<void> }> {
    let file: string;
    let cleanup = async () => undefined as void;
    const hash = createHash('sha256');
    let size = 0;
    const tap = async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        hash.update(c);
        size += c.length;
        yield c;
      }
    };
    if (source instanceof DirectoryStore) {
      file = source.filePath(key);
      await pipeline(createReadStream(file), tap, async function* (s) {
        for await (const _ of s) void _;
      });
    } else {
      const dir = await mkdtemp(join(workDir, 'officine-restore-'));
      await chmod(dir, 0o700);
      file = join(dir, a.name);
      cleanup = () => rm(dir, { recursive: true, force: true });
      try {
        await pipeline(await source.get(key), tap, createWriteStream(file, { mode: 0o600 }));
      } catch (err) {
        await cleanup();
        throw new BackupError('restore_download_failed', `Téléchargement de ${key} interrompu.`, (err as Error).message);
      }
    }
    const sha = hash.digest('hex');
    if (size !== a.size || sha !== a.sha256) {
      await cleanup();
      throw new BackupError(
        'restore_checksum_mismatch',
        `La sauvegarde est altérée ou tronquée (taille ${size} au lieu de ${a.size}, ou empreinte différente) : refusé.`,
        `size ${size}/${a.size} sha256 ${sha}/${a.sha256}`,
      );
    }
    return { file, cleanup };
  }

  /** The decrypt stages: age -d -i KEY FILE | zstd -d. */
  decryptStages(identityFile: string, file: string): Stage[] {
    return [
      { cmd: this.tools.age, args: ['-d', '-i', identityFile, file], label: 'age' },
      { cmd: this.tools.zstd, args: ['-d', '-q', '-c'], label: 'zstd' },
    ];
  }

  /** Streams a verified logical dump into the (existing, empty) database at `url`. */
  async pgRestore(identityFile: string, file: string, url: string, opts: { exitOnError: boolean }): Promise<string> {
    const p = runPipeline(
      [
        ...this.decryptStages(identityFile, file),
        {
          cmd: this.tools.pgRestore,
          args: ['--no-owner', '--no-privileges', '--no-password', ...(opts.exitOnError ? ['--exit-on-error'] : []), '-d', libpqEnv(url).PGDATABASE!],
          env: libpqEnv(url),
          label: 'pg_restore',
        },
      ],
      'ignore',
      'ignore',
    );
    try {
      await p.done;
    } catch (err) {
      if (opts.exitOnError) throw err;
    }
    return p.stderr('pg_restore');
  }

  /**
   * Compares a restored database with the manifest: tables, row counts, foreign keys.
   * `trustValidated`: a foreign key that pg_restore created is validated by PostgreSQL
   * against every row as it is added (pg_constraint.convalidated); a restore relies on
   * that instead of scanning each referencing table again. The drill, on its isolated
   * host, re-checks every key with its own query all the same.
   */
  async check(url: string, manifest: Pick<BackupManifest, 'tables' | 'foreignKeys'>, opts: { trustValidated?: boolean } = {}): Promise<RestoreCheck> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const counts = new Map((await countRows(c)).map((t) => [t.name, t.rows]));
      const rowMismatches = manifest.tables
        .filter((t) => counts.get(t.name) !== t.rows)
        .map((t) => ({ table: t.name, expected: t.rows, actual: counts.get(t.name) ?? null }));
      const present = new Set((await listForeignKeys(c)).map((f) => `${f.table}.${f.name}`));
      const missingForeignKeys = manifest.foreignKeys.map((f) => `${f.table}.${f.name}`).filter((k) => !present.has(k));
      const violatedForeignKeys: RestoreCheck['violatedForeignKeys'] = [];
      const validated = opts.trustValidated ? await validatedForeignKeys(c) : new Set<string>();
      for (const f of manifest.foreignKeys) {
        if (!present.has(`${f.table}.${f.name}`) || validated.has(`${f.table}.${f.name}`)) continue;
        const n = await foreignKeyViolations(c, f.table, f.name);
        if (n !== 0) violatedForeignKeys.push({ name: `${f.table}.${f.name}`, rows: n });
      }
      const tableCount = { expected: manifest.tables.length, actual: counts.size };
      const ok = tableCount.expected === tableCount.actual && !rowMismatches.length && !missingForeignKeys.length && !violatedForeignKeys.length;
      return { ok, tableCount, rowMismatches, missingForeignKeys, violatedForeignKeys };
    } finally {
      await c.end();
    }
  }
}

/** What a restore did. */
export interface RestoreResult {
  backupId: string;
  database: string;
  /** Name the previous database was kept under (swap mode). */
  previous: string | null;
  check: RestoreCheck;
  /** Where the time went, in ms: verifying before restoring, pg_restore, checking the result (restoreBackup only). */
  phasesMs?: Record<string, number>;
}

/**
 * Restores a verified backup. Default: into a new database next to `database`, and
 * only once it matches the manifest, swapped in (the old one is kept, renamed).
 * With `targetUrl`: into that database, which must be empty.
 */
export async function restoreBackup(
  svc: RestoreService,
  source: BackupTarget,
  identityFile: string,
  opts: { backupId?: string; workDir: string; adminUrl: string; database: string; targetUrl?: string },
): Promise<RestoreResult> {
  const t0 = Date.now();
  const prepared = await svc.prepare(source, identityFile, { backupId: opts.backupId, workDir: opts.workDir });
  const { manifest } = prepared;
  const phasesMs: Record<string, number> = { verify_before: Date.now() - t0 };
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      phasesMs[name] = Date.now() - t;
    }
  };
  try {
    if (opts.targetUrl) {
      const c = new pg.Client({ connectionString: opts.targetUrl });
      await c.connect();
      const n = await c
        .query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','S') AND s.nspname NOT IN ('pg_catalog','information_schema') AND s.nspname NOT LIKE 'pg_toast%'`)
        .finally(() => c.end());
      if (n.rows[0]!.n !== '0') throw new BackupError('restore_target_not_empty', 'La base cible n’est pas vide : restauration refusée.');
      const url = opts.targetUrl;
      await timed('pg_restore', () => svc.pgRestore(identityFile, prepared.file, url, { exitOnError: true }));
      const check = await timed('check', () => svc.check(url, manifest, { trustValidated: true }));
      if (!check.ok) throw new BackupError('restore_verification_failed', 'La base restaurée ne correspond pas au manifeste.', JSON.stringify(check));
      return { backupId: manifest.id, database: libpqEnv(url).PGDATABASE!, previous: null, check, phasesMs };
    }
    const r = await installVerified(opts, manifest.id, async (url) => {
      await timed('pg_restore', () => svc.pgRestore(identityFile, prepared.file, url, { exitOnError: true }));
      return timed('check', () => svc.check(url, manifest, { trustValidated: true }));
    });
    return { ...r, phasesMs };
  } finally {
    await prepared.cleanup();
  }
}

/**
 * Loads a database through `load` into a new database beside `database`, and swaps
 * it in only when `load`'s check passes; on any failure the new database is
 * dropped and the current one was never touched.
 */
export async function installVerified(
  opts: { adminUrl: string; database: string },
  id: string,
  load: (url: string) => Promise<RestoreCheck>,
): Promise<RestoreResult> {
  const swap = new DatabaseSwap(opts.adminUrl);
  const suffix = id.toLowerCase();
  const fresh = `${opts.database}_restore_${suffix}`;
  await swap.drop(fresh);
  const freshUrl = await swap.create(fresh);
  let check: RestoreCheck;
  try {
    check = await load(freshUrl);
    if (!check.ok) throw new BackupError('restore_verification_failed', 'La base restaurée ne correspond pas au manifeste : base actuelle conservée.', JSON.stringify(check));
  } catch (err) {
    await swap.drop(fresh);
    throw err;
  }
  let previous: string | null = null;
  if (await swap.exists(opts.database)) {
    previous = `${opts.database}_before_${suffix}_${Date.now().toString(36)}`;
    await swap.swap(opts.database, fresh, previous);
  } else {
    await swap.rename(fresh, opts.database);
  }
  return { backupId: id, database: opts.database, previous, check };
}

/** Admin helpers on the server that holds the target database. */
export class DatabaseSwap {
  constructor(private readonly adminUrl: string) {}

  private async admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: this.adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  async create(name: string): Promise<string> {
    await this.admin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`));
    return withDatabase(this.adminUrl, name);
  }

  async drop(name: string): Promise<void> {
    await this.admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
  }

  async exists(name: string): Promise<boolean> {
    return this.admin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.admin((c) => c.query(`ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`));
  }

  /** Puts `fresh` in place of `current`, keeping the old one as `keepAs` (never dropped here). */
  async swap(current: string, fresh: string, keepAs: string): Promise<void> {
    await this.admin(async (c) => {
      await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [current]);
      await c.query(`ALTER DATABASE ${quoteIdent(current)} RENAME TO ${quoteIdent(keepAs)}`);
      await c.query(`ALTER DATABASE ${quoteIdent(fresh)} RENAME TO ${quoteIdent(current)}`);
    });
  }
}
