import { hostname } from 'node:os';
import type { Logger } from '../logging/logger.js';
import { describeError } from './backup.errors.js';
import { layout } from './backup-manifest.js';
import { RestoreService, type RestoreCheck } from './restore.service.js';
import { signDocument, verifyDocument } from './signed-document.js';
import type { SigningKey } from './signing-key.js';
import type { BackupTarget } from './targets/backup-target.js';
import { startThrowawayPostgres } from './throwaway-postgres.js';
import { DatabaseSwap } from './restore.service.js';

/** A restore drill's outcome, signed by the drill host and published next to the backups. */
export interface DrillReport {
  format: 'officine-drill/1';
  id: string;
  backupId: string | null;
  startedAt: string;
  finishedAt: string;
  host: string;
  ok: boolean;
  check: RestoreCheck | null;
  /** pg_restore's complaints (a constraint that could not be recreated shows up here). */
  restoreErrors: string[];
  error: string | null;
}

/**
 * The monthly restore drill, run on the isolated host that holds the drill key:
 * verifies the newest backup, restores it into a throwaway PostgreSQL, checks table
 * count, per-table row counts and every foreign key against the manifest, and
 * writes a signed report to the target it drilled from.
 */
export class DrillService {
  constructor(
    private readonly restore: RestoreService,
    private readonly key: SigningKey,
    private readonly logger: Logger,
    private readonly clock: { now(): Date } = { now: () => new Date() },
  ) {}

  async run(source: BackupTarget, identityFile: string, opts: { workDir: string; backupId?: string; publishTo?: BackupTarget[] }): Promise<DrillReport> {
    const started = this.clock.now();
    let backupId: string | null = null;
    let check: RestoreCheck | null = null;
    let restoreErrors: string[] = [];
    let error: string | null = null;
    try {
      const prepared = await this.restore.prepare(source, identityFile, { backupId: opts.backupId, workDir: opts.workDir });
      backupId = prepared.manifest.id;
      const pg = await startThrowawayPostgres({ parent: opts.workDir });
      try {
        const url = await new DatabaseSwap(pg.adminUrl).create('drill');
        const stderr = await this.restore.pgRestore(identityFile, prepared.file, url, { exitOnError: false });
        restoreErrors = stderr.split('\n').filter((l) => /error/i.test(l)).slice(0, 50);
        check = await this.restore.check(url, prepared.manifest);
      } finally {
        await pg.stop();
        await prepared.cleanup();
      }
    } catch (err) {
      error = describeError(err);
    }
    const report: DrillReport = {
      format: 'officine-drill/1',
      id: started.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''),
      backupId,
      startedAt: started.toISOString(),
      finishedAt: this.clock.now().toISOString(),
      host: hostname(),
      ok: error === null && check !== null && check.ok && restoreErrors.length === 0,
      check,
      restoreErrors,
      error,
    };
    const signed = Buffer.from(JSON.stringify(signDocument(report, this.key), null, 2) + '\n');
    for (const t of opts.publishTo ?? [source]) {
      try {
        await t.putBuffer(layout.drill(report.id), signed);
      } catch (err) {
        this.logger.error({ target: t.name, err }, 'drill report could not be published');
      }
    }
    (report.ok ? this.logger.info.bind(this.logger) : this.logger.error.bind(this.logger))({ drill: report.id, backupId, ok: report.ok }, 'restore drill finished');
    return report;
  }
}

/**
 * The newest drill report on a target, verified against the pinned drill-host key
 * (reports signed by anyone else are ignored, not trusted).
 */
export async function latestDrillReport(target: BackupTarget, trusted: string[]): Promise<{ report: DrillReport | null; lastSuccess: DrillReport | null; rejected: number }> {
  const names = (await target.list(layout.drillsDir)).filter((n) => n.endsWith('.json')).sort().reverse();
  let report: DrillReport | null = null;
  let lastSuccess: DrillReport | null = null;
  let rejected = 0;
  for (const n of names.slice(0, 60)) {
    try {
      const r = verifyDocument<DrillReport>(await target.getBuffer(`${layout.drillsDir}/${n}`), trusted, 'le rapport d’exercice');
      report ??= r;
      if (r.ok) {
        lastSuccess = r;
        break;
      }
    } catch {
      rejected++;
    }
  }
  return { report, lastSuccess, rejected };
}
