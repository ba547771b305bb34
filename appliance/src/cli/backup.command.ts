import type { Command } from 'commander';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { LogAlerter } from '../backup/backup-alerts.js';
import { backupRecipients, backupTools, libpqEnv, withDatabase } from '../backup/backup-settings.js';
import { BackupStatusService } from '../backup/backup-status.service.js';
import { BackupService } from '../backup/backup.service.js';
import { DrillService } from '../backup/drill.service.js';
import { restoreBackup, RestoreService } from '../backup/restore.service.js';
import { DRILL_SIGNING_KEY, SigningKey, trustedManifestSigners } from '../backup/signing-key.js';
import { configuredTargets, openSource, openTarget } from '../backup/targets/target-factory.js';
import { archiveWalSegment, openWalTargets, shipConfiguredWalSpool } from '../backup/wal-archive.service.js';
import { CLUSTER_SETTINGS, renderPostgresConf, walArchivingSettings, walSpoolDir, walSpoolScript } from '../backup/wal-settings.js';
import { pointInTimeRestore } from '../backup/pitr.service.js';
import { WAL_SHIP_INTERVAL_S, WAL_SHIP_RETRY_MS } from '../backup/wal-spool.js';
import { SecretStore } from '../config/secrets.js';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions } from './bootstrap.js';

const mb = (n: number) => (n / 1048576).toFixed(1);

/** `appliance backup run|list|status|key`, `appliance restore`, `appliance drill`, `appliance wal ship|postgres-conf`. */
export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('Encrypted backups: run one, list them, show their status.');

  backup
    .command('run')
    .description('Dump, compress, encrypt and upload a backup to every target, verify it, apply retention.')
    .option('--json', 'print a JSON summary instead of text')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      // Logs on stderr: stdout is the answer alone (the upgrade's pre-backup parses --json).
      const logger = cliLogger(config.LOG_LEVEL);
      try {
        const rt = await openRuntime(config, logger);
        const targets = await Promise.all(configuredTargets(config).map((n) => openTarget(config, n)));
        const t0 = Date.now();
        let code = 1;
        const tty = process.stderr.isTTY && !opts.json;
        try {
          const r = await new BackupService({ ...rt.app, dbUrl: rt.database.url, targets }).run({
            onProgress: tty ? (b) => process.stderr.write(`\r  ${mb(b)} Mo chiffrés envoyés (${mb(b / Math.max(0.001, (Date.now() - t0) / 1000))} Mo/s)   `) : undefined,
          });
          if (tty) process.stderr.write('\n');
          if (opts.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          else {
            process.stdout.write(`Sauvegarde ${r.id} : ${r.status === 'verified' ? 'vérifiée sur toutes les cibles' : r.status === 'partial' ? 'PARTIELLE' : 'ÉCHEC'}\n`);
            for (const t of r.targets) {
              process.stdout.write(`  ${t.target} : ${t.verified ? 'vérifiée' : `échec (${t.error ?? 'inconnu'})`}${t.retention ? `, rétention : ${t.retention.removed.length} supprimée(s)` : ''}\n`);
              for (const w of t.warnings ?? []) process.stdout.write(`    attention : ${w}\n`);
            }
          }
          code = r.status === 'failed' ? 1 : 0;
        } finally {
          await Promise.all(targets.map((t) => t.close()));
          await rt.close();
        }
        process.exitCode = code;
      } catch (err) {
        fail(logger, err, 'la sauvegarde a échoué');
      }
    });

  backup
    .command('list')
    .description('List the backups present on a target (with a manifest).')
    .option('--from <source>', 's3, nas or a folder', undefined)
    .action(async (opts: { from?: string }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      try {
        for (const name of opts.from ? [opts.from] : configuredTargets(config)) {
          const t = await openSource(config, name);
          try {
            const ids = await new RestoreService(backupTools(config), logger, []).listBackups(t);
            process.stdout.write(`${name} : ${ids.length} sauvegarde(s)\n${ids.map((i) => `  ${i}`).join('\n')}\n`);
          } finally {
            await t.close();
          }
        }
      } catch (err) {
        fail(logger, err, 'liste impossible');
      }
    });

  backup
    .command('status')
    .description('Last verified backup, last drill report (signature checked) and due alerts.')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      try {
        const rt = await openRuntime(config, logger);
        let code = 1;
        try {
          const s = await new BackupStatusService(rt.app).status();
          if (opts.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
          else {
            const b = s.lastVerifiedBackup;
            process.stdout.write(`Dernière sauvegarde vérifiée : ${b ? `${b.id} (${b.finishedAt.toISOString()}, ${b.status})` : 'aucune'}\n`);
            const d = s.drill.report;
            process.stdout.write(
              `Dernier exercice de restauration : ${!s.drill.trusted ? 'BACKUP_DRILL_PUBLIC_KEY non configurée' : d ? `${d.id} ${d.ok ? 'réussi' : 'ÉCHEC'} (sauvegarde ${d.backupId ?? '?'})` : 'aucun'}\n`,
            );
            for (const a of s.alerts) process.stdout.write(`  ALERTE ${a.code} : ${a.message}\n`);
          }
          code = s.alerts.length ? 3 : 0;
        } finally {
          await rt.close();
        }
        process.exitCode = code;
      } catch (err) {
        fail(logger, err, 'statut indisponible');
      }
    });

  backup
    .command('key')
    .description('Print this appliance’s manifest-signing public key (to pin as BACKUP_SIGNER_PUBLIC_KEY on the drill host).')
    .option('--drill', 'on the drill host: print its report-signing public key instead (to pin as BACKUP_DRILL_PUBLIC_KEY on the appliance)')
    .action((opts: { drill?: boolean }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const secrets = new SecretStore(config.secretsDir);
      process.stdout.write((opts.drill ? SigningKey.loadOrCreate(secrets, DRILL_SIGNING_KEY) : SigningKey.loadOrCreate(secrets)).publicId + '\n');
    });

  program
    .command('restore')
    .description('Verify then restore a backup into a new database, swapped in only after verification (or into --target-url).')
    .requiredOption('--identity <keyfile>', 'age identity file (vault or drill private key)')
    .requiredOption('--from <source>', 's3, nas, or a folder laid out like a target')
    .option('--backup <id>', 'backup id (default: the newest)')
    .option('--until <time>', 'point-in-time restore (ISO 8601), from a base backup + archived WAL')
    .option('--target-url <url>', 'restore into this (empty) database instead of swapping the appliance database (with --until: that database is replaced after verification, the old one kept renamed)')
    .option('--workdir <dir>', 'where encrypted downloads are kept during the restore', tmpdir())
    .action(async (opts: { identity: string; from: string; backup?: string; until?: string; targetUrl?: string; workdir: string }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      try {
        const until = opts.until ? new Date(opts.until) : undefined;
        if (until && Number.isNaN(until.getTime())) throw new Error('--until: invalid date');
        const source = await openSource(config, opts.from);
        const secrets = new SecretStore(config.secretsDir);
        const svc = new RestoreService(backupTools(config), logger, trustedManifestSigners(config.BACKUP_SIGNER_PUBLIC_KEY, secrets));
        let dbUrl = opts.targetUrl;
        let rt: Awaited<ReturnType<typeof openRuntime>> | undefined;
        if (!dbUrl) {
          rt = await openRuntime(config, logger, { migrate: false });
          dbUrl = rt.database.url;
          await rt.app.db.destroy();
        }
        try {
          const common = { backupId: opts.backup, workDir: resolve(opts.workdir), adminUrl: withDatabase(dbUrl, 'postgres'), database: libpqEnv(dbUrl).PGDATABASE!, targetUrl: opts.targetUrl };
          const r = until
            ? await pointInTimeRestore(svc, backupTools(config), source, resolve(opts.identity), { ...common, until })
            : await restoreBackup(svc, source, resolve(opts.identity), common);
          logger.info({ backupId: r.backupId, database: r.database, phasesMs: r.phasesMs }, 'restore finished');
          process.stdout.write(
            `Restauration de ${r.backupId} vérifiée (${r.check.tableCount.actual} tables) dans ${r.database}.${r.previous ? ` Ancienne base conservée sous ${r.previous}.` : ''}\n`,
          );
        } finally {
          await source.close();
          await rt?.close();
        }
      } catch (err) {
        fail(logger, err, 'restauration refusée ou échouée');
      }
    });

  program
    .command('drill')
    .description('Restore drill (isolated host with the drill key): restore the newest backup into a throwaway PostgreSQL, check it, publish a signed report.')
    .requiredOption('--identity <keyfile>', 'age identity file of the drill recipient')
    .requiredOption('--from <source>', 's3, nas, or a folder')
    .option('--backup <id>', 'backup id (default: the newest)')
    .option('--json', 'print the report as JSON')
    .option('--workdir <dir>', 'scratch directory', tmpdir())
    .action(async (opts: { identity: string; from: string; backup?: string; json?: boolean; workdir: string }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      try {
        const secrets = new SecretStore(config.secretsDir);
        const source = await openSource(config, opts.from, { writable: true });
        let code = 1;
        try {
          const svc = new RestoreService(backupTools(config), logger, trustedManifestSigners(config.BACKUP_SIGNER_PUBLIC_KEY, secrets));
          const report = await new DrillService(svc, SigningKey.loadOrCreate(secrets, DRILL_SIGNING_KEY), logger).run(source, resolve(opts.identity), {
            workDir: resolve(opts.workdir),
            backupId: opts.backup,
          });
          if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
          else process.stdout.write(`Exercice ${report.id} sur ${report.backupId ?? '?'} : ${report.ok ? 'RÉUSSI' : `ÉCHEC${report.error ? ` (${report.error})` : ''}`}\n`);
          code = report.ok ? 0 : 1;
        } finally {
          await source.close();
        }
        process.exitCode = code;
      } catch (err) {
        fail(logger, err, 'exercice de restauration impossible');
      }
    });

  const wal = program.command('wal').description('WAL archiving for point-in-time restore.');
  wal
    .command('ship')
    .description('Ship the WAL segments PostgreSQL spooled (provisioning/officine-wal-spool): seal (zstd + age), send to the targets, verify, then delete each from the spool. The scheduler does this every 5 s.')
    .option('--once', 'one pass, then exit (1 when a segment could not be shipped)')
    .action(async (opts: { once?: boolean }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      const alerter = new LogAlerter(logger);
      const pass = async () => {
        const r = await shipConfiguredWalSpool(config, logger, alerter, () => new Date());
        if (r.shipped.length > 0 || r.failed || r.discarded > 0) {
          process.stdout.write(`${r.shipped.length} segment(s) WAL envoyé(s)${r.failed ? `, ${r.failed} non envoyé (gardé)` : ''}${r.discarded ? `, ${r.discarded} abandonné(s) (archivage désactivé)` : ''} ; ${r.remaining} en attente.\n`);
        }
        return r;
      };
      try {
        if (opts.once) {
          const r = await pass();
          if (r.shipped.length === 0 && !r.failed && r.discarded === 0) process.stdout.write(`Aucun segment WAL en attente dans ${walSpoolDir(config)}.\n`);
          process.exitCode = r.failed ? 1 : 0;
          return;
        }
        // Until SIGINT/SIGTERM: a pass every 5 s, a minute's pause after a pass no target took.
        let stop = false;
        let wake: () => void = () => undefined;
        const onSignal = () => ((stop = true), wake());
        process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
        while (!stop) {
          const r = await pass().catch((err: unknown) => (logger.error({ err }, 'wal ship pass failed'), { failed: 'error' }));
          await new Promise<void>((res) => {
            wake = res;
            setTimeout(res, r.failed ? WAL_SHIP_RETRY_MS : WAL_SHIP_INTERVAL_S * 1000).unref();
          });
        }
      } catch (err) {
        fail(logger, err, 'envoi des segments WAL échoué');
      }
    });

  // Clusters configured before the spool (archive_command = `appliance wal archive`) keep
  // working after an upgrade until install.sh is run again and renders the spool script.
  wal
    .command('archive <path> <file>')
    .description('Legacy archive_command (before provisioning/officine-wal-spool): seal one WAL segment and ship it to the targets. Re-run install.sh to switch to the spool.')
    .action(async (path: string, file: string) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      if (config.BACKUP_WAL_ARCHIVING === 'off') {
        logger.info({ wal: file }, 'wal archiving off: segment not shipped');
        return;
      }
      const targets = await openWalTargets(config, logger);
      try {
        await archiveWalSegment(backupTools(config), backupRecipients(config), targets, resolve(path), file, logger, new LogAlerter(logger));
      } catch (err) {
        fail(logger, err, `archivage du segment WAL ${file} échoué`);
      } finally {
        await Promise.all(targets.map((t) => t.close()));
      }
    });

  wal
    .command('postgres-conf')
    .description('Print the postgresql.conf fragment that turns WAL archiving on (archive_command = the spool script, archive_timeout = BACKUP_WAL_ARCHIVE_TIMEOUT, jit off); used by install.sh.')
    .option('--script <path>', 'the spool script PostgreSQL runs (default: provisioning/officine-wal-spool of the release --cli belongs to)')
    .option('--cli <path>', 'the appliance console of the release', process.argv[1])
    .option('--spool-dir <dir>', 'the spool directory (default: BACKUP_WAL_SPOOL_DIR)')
    .action((opts: { script?: string; cli: string; spoolDir?: string }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const settings = walArchivingSettings(config, { script: opts.script ? resolve(opts.script) : walSpoolScript(resolve(opts.cli)), spoolDir: resolve(opts.spoolDir ?? walSpoolDir(config)) });
      process.stdout.write(renderPostgresConf({ ...settings, ...CLUSTER_SETTINGS }, 'Written by provisioning/install.sh (appliance wal postgres-conf): WAL archiving into the spool, RPO = archive_timeout + shipping.'));
    });
}
