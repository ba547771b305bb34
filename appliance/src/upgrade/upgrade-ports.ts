import { spawn } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pgLib from 'pg';
import type { DataSource } from 'typeorm';
import { recordAudit } from '../audit/audit.service.js';
import type { Logger } from '../logging/logger.js';
import { RUNTIME_NODE_PATH } from './release-tree.js';

/** Stops and starts the appliance's processes around an upgrade. */
export interface ServiceController {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Takes and restores the database state an upgrade may roll back to. */
export interface DatabaseSnapshots {
  take(file: string): Promise<void>;
  restore(file: string): Promise<void>;
}

/** What the pre-upgrade backup produced: a backup id and status, or nothing when no target is configured. */
export type PreUpgradeBackupResult = { result: 'no_target' } | { result: 'done'; backupId: string; status: 'verified' | 'partial' };

/** The pre-upgrade (off-site) backup: `appliance backup run` of the current release. */
export interface PreUpgradeBackup {
  run(label: string): Promise<PreUpgradeBackupResult>;
}

/** Runs a release's schema migrations (with that release's code). */
export interface ReleaseMigrator {
  /** Loads the release's migration code while the old release still serves (keeps downtime short). */
  prepare(releaseDir: string): Promise<void>;
  /** Applies the release's pending migrations; returns the names applied. */
  migrate(releaseDir: string): Promise<string[]>;
}

/** Decides whether the freshly started release is healthy. */
export interface HealthGate {
  check(): Promise<void>;
}

/** Where each upgrade step is recorded. */
export interface UpgradeAudit {
  record(action: string, details: Record<string, unknown>): Promise<void>;
}

/**
 * Runs a program; rejects with its last output lines when it exits non-zero. Resolves
 * with the last lines of both streams, or with the whole stdout (up to 1 MB) when
 * `stdout` is set (a program's machine-readable answer).
 */
export function runProgram(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; stdout?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      out = (out + c.toString()).slice(-8000);
      if (opts.stdout && stdout.length < 1024 * 1024) stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-8000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(opts.stdout ? stdout : out) : reject(new Error(`${cmd} ${args[0] ?? ''} exited ${code}: ${out.trim().slice(-1500)}`)),
    );
    // A program that exits without reading its input (most do) closes the pipe: EPIPE
    // here is not an error of ours, and unhandled it would crash the upgrade mid-rollback.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** systemd hosts: the scheduler and the app units (PostgreSQL and Caddy keep running). */
export class SystemdServices implements ServiceController {
  constructor(private readonly units = ['officine-scheduler.service', 'officine-appliance.service']) {}
  async stop(): Promise<void> {
    await runProgram('systemctl', ['stop', ...this.units]);
  }
  async start(): Promise<void> {
    await runProgram('systemctl', ['start', ...[...this.units].reverse()]);
  }
}

/** Docker and hosts without systemd: shell commands (provisioning/officine-services.sh). */
export class CommandServices implements ServiceController {
  constructor(private readonly stopCommand: string, private readonly startCommand: string) {}
  async stop(): Promise<void> {
    await runProgram('sh', ['-c', this.stopCommand]);
  }
  async start(): Promise<void> {
    await runProgram('sh', ['-c', this.startCommand]);
  }
}

async function withClient<T>(url: string, fn: (c: pgLib.Client) => Promise<T>): Promise<T> {
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Snapshots with pg_dump (custom format, file 0600) and restores by dropping every
 * user schema first, so objects a failed migration created disappear too.
 */
export class PgDumpSnapshots implements DatabaseSnapshots {
  constructor(private readonly databaseUrl: string) {}

  async take(file: string): Promise<void> {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    await runProgram('sh', ['-c', 'umask 077 && exec pg_dump --format=custom --no-owner --no-privileges --file="$1" "$2"', 'sh', file, this.databaseUrl]);
  }

  async restore(file: string): Promise<void> {
    await withClient(this.databaseUrl, async (c) => {
      const r = await c.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'`,
      );
      await c.query('BEGIN');
      for (const { nspname } of r.rows) await c.query(`DROP SCHEMA "${nspname.replace(/"/g, '""')}" CASCADE`);
      await c.query('CREATE SCHEMA public');
      await c.query('COMMIT');
    });
    await runProgram('pg_restore', ['--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', '--dbname', this.databaseUrl, file]);
  }
}

/** What a release exposes to its upgrader: the stable contract of db/data-source.js and db/migrator.js. */
interface ReleaseDbModules {
  createDataSource(url: string, opts: { poolSize?: number; applicationName?: string }): DataSource;
  migrateUp(ds: DataSource): Promise<string[]>;
}

/**
 * Runs the new release's migrations with the new release's own code, imported into this
 * process before the stop (no second Node start inside the downtime window).
 */
export class ReleaseCodeMigrator implements ReleaseMigrator {
  private loaded = new Map<string, ReleaseDbModules>();
  constructor(private readonly databaseUrl: string) {}

  async prepare(releaseDir: string): Promise<void> {
    const url = (p: string) => pathToFileURL(join(releaseDir, 'dist/appliance/src/db', p)).href;
    const [dsMod, migMod] = await Promise.all([import(url('data-source.js')), import(url('migrator.js'))]);
    this.loaded.set(releaseDir, { createDataSource: dsMod.createDataSource, migrateUp: migMod.migrateUp });
  }

  async migrate(releaseDir: string): Promise<string[]> {
    if (!this.loaded.has(releaseDir)) await this.prepare(releaseDir);
    const mods = this.loaded.get(releaseDir)!;
    // two connections: one holds the migration advisory lock, the other runs the migrations
    const ds = mods.createDataSource(this.databaseUrl, { poolSize: 2, applicationName: 'officine-upgrade-migrate' });
    await ds.initialize();
    try {
      return await mods.migrateUp(ds);
    } finally {
      await ds.destroy();
    }
  }
}

/**
 * The Node a release's own code runs on: the runtime it ships (runtime/bin/node, the one
 * it was built and tested with), or, for a release without one (a development checkout,
 * a release bundled before runtimes were shipped), the Node running this process — which
 * its launcher (provisioning/officine-node) or the operator already chose and checked.
 */
export function releaseNode(releaseDir: string): string {
  const runtime = join(releaseDir, RUNTIME_NODE_PATH);
  try {
    accessSync(runtime, constants.X_OK);
    return runtime;
  } catch {
    return process.execPath;
  }
}

/**
 * Runs `appliance backup run --json` (the encrypted off-site backup, verified on each
 * target) from the current release. With no backup target configured yet (a fresh
 * install) there is nothing to back up to: that is reported as 'no_target' and the
 * upgrade relies on its local rollback snapshot. A configured backup that fails (exit
 * non-zero: no target verified) stops the upgrade before anything is touched.
 */
export class CliPreUpgradeBackup implements PreUpgradeBackup {
  constructor(private readonly releaseDir: string, private readonly env: NodeJS.ProcessEnv, private readonly targetsConfigured: boolean) {}
  async run(_label: string): Promise<PreUpgradeBackupResult> {
    if (!this.targetsConfigured) return { result: 'no_target' };
    // The current release's runtime, not the new one's: the backup is taken by the code
    // that matches the database as it is now (the new release is not migrated yet), and
    // that code runs on the runtime it shipped with. Not process.execPath either: the
    // upgrade command may have been started by another Node (e.g. an older release's
    // units or an operator's shell); releaseNode() falls back to it only without a runtime.
    const out = await runProgram(releaseNode(this.releaseDir), [join(this.releaseDir, 'dist/appliance/src/cli/main.js'), 'backup', 'run', '--json'], { env: this.env, stdout: true });
    let summary: { id?: unknown; status?: unknown };
    try {
      summary = JSON.parse(out) as typeof summary;
    } catch {
      throw new Error(`backup run --json: unreadable answer: ${out.slice(0, 300)}`);
    }
    if (typeof summary.id !== 'string' || (summary.status !== 'verified' && summary.status !== 'partial')) {
      throw new Error(`backup run --json: no verified backup (${String(summary.status)})`);
    }
    return { result: 'done', backupId: summary.id, status: summary.status };
  }
}

/**
 * The health gate: /readyz must answer 200 three times in a row within the timeout
 * (a crash-looping release fails it), then a smoke query must read real tables.
 */
export class HttpHealthGate implements HealthGate {
  constructor(private readonly readyUrl: string, private readonly databaseUrl: string, private readonly timeoutMs: number) {}
  async check(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let streak = 0;
    let last = 'no answer';
    while (streak < 3) {
      if (Date.now() > deadline) throw new Error(`health gate: ${this.readyUrl} not ready (${last})`);
      try {
        const res = await fetch(this.readyUrl, { signal: AbortSignal.timeout(2000) });
        last = `HTTP ${res.status}`;
        streak = res.status === 200 ? streak + 1 : 0;
      } catch (err) {
        last = (err as Error).message;
        streak = 0;
      }
      await new Promise((r) => setTimeout(r, streak > 0 ? 100 : 200));
    }
    await withClient(this.databaseUrl, async (c) => {
      await c.query('SELECT count(*) FROM schema_migrations');
      await c.query('SELECT count(*) FROM pharmacies');
    });
  }
}

/** The upgrade journal under DATA_DIR: one JSON line per step, kept across database restores. */
export function upgradeJournalFile(dataDir: string): string {
  return join(dataDir, 'upgrades', 'journal.jsonl');
}

/** One line of the upgrade journal. */
export interface UpgradeJournalEntry {
  at: string;
  action: string;
  from?: string;
  to?: string;
  [detail: string]: unknown;
}

/** The last `n` entries of the upgrade journal, oldest first (unreadable lines skipped). */
export function readUpgradeJournal(dataDir: string, n: number): UpgradeJournalEntry[] {
  const file = upgradeJournalFile(dataDir);
  if (!existsSync(file)) return [];
  const out: UpgradeJournalEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as UpgradeJournalEntry);
    } catch {
      /* a torn last line (power loss mid-append): skipped */
    }
  }
  return out.slice(-n);
}

/**
 * Records each step in the log, in an append-only journal under DATA_DIR (it survives a
 * database restore) and in the hash-chained audit log. A rollback restores the database,
 * so entries written after the snapshot vanish from the audit log: the rollback then
 * records the failure again, on top of the restored chain.
 */
export class UpgradeAuditTrail implements UpgradeAudit {
  constructor(private readonly logger: Logger, private readonly journalFile: string, private readonly db: DataSource | undefined) {}
  async record(action: string, details: Record<string, unknown>): Promise<void> {
    const entry = { at: new Date().toISOString(), action, ...details };
    this.logger.info(entry, `upgrade: ${action}`);
    mkdirSync(dirname(this.journalFile), { recursive: true, mode: 0o700 });
    appendFileSync(this.journalFile, JSON.stringify(entry) + '\n', { mode: 0o600 });
    if (!this.db) return;
    const level = /failed|refused/.test(action) ? 'alert' : action.includes('rolled_back') ? 'warning' : 'info';
    try {
      await recordAudit(this.db, { action, level, actorRole: 'console', details });
    } catch (err) {
      this.logger.warn({ err, action }, 'upgrade: audit log unavailable, journal only');
    }
  }
}
