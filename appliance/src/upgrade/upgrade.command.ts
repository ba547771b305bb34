import { ApplyRequestError, takeApplyRequest } from './apply-request.js';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../db/data-source.js';
import { cliLogger, fail, loadConfigOrExit, type GlobalOptions } from '../cli/bootstrap.js';
import { DEFAULT_ENV_FILE, type Config } from '../config/config.js';
import { AppError } from '../http/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { consoleActor } from '../cli/users.command.js';
import type { Logger } from '../logging/logger.js';
import type { BundleLimits } from './bundle-verifier.js';
import type { ReleaseManifest } from './release-manifest.js';
import { acceptKeyList, parseKeyList } from './release-signing.js';
import {
  CliPreUpgradeBackup,
  CommandServices,
  HttpHealthGate,
  PgDumpSnapshots,
  ReleaseCodeMigrator,
  SystemdServices,
  UpgradeAuditTrail,
  upgradeJournalFile,
  type ServiceController,
} from './upgrade-ports.js';
import { ReleaseLayout, UpgradeService, verifyBundle, type UpgradeDeps } from './upgrade.service.js';

const MB = 1024 * 1024;

function bundleLimits(config: Config): BundleLimits {
  return {
    maxBundleBytes: config.UPGRADE_MAX_BUNDLE_MB * MB,
    maxUnpackedBytes: config.UPGRADE_MAX_UNPACKED_MB * MB,
    maxFiles: config.UPGRADE_MAX_FILES,
  };
}

function services(config: Config): ServiceController {
  if (config.SERVICE_MANAGER === 'systemd') return new SystemdServices();
  if (!config.SERVICE_STOP_COMMAND || !config.SERVICE_START_COMMAND) {
    throw new Error('SERVICE_MANAGER=command requires SERVICE_STOP_COMMAND and SERVICE_START_COMMAND');
  }
  return new CommandServices(config.SERVICE_STOP_COMMAND, config.SERVICE_START_COMMAND);
}

/** Wires the upgrade service to the real system: systemd or commands, pg_dump, the release CLI. */
export function upgradeDepsFromConfig(config: Config, logger: Logger, db?: DataSource): UpgradeDeps {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is required for upgrades (the embedded demo database is not upgraded)');
  const layout = new ReleaseLayout(config.INSTALL_DIR);
  // the release's own CLI (migrate, backup) reads the same configuration file
  const env = { ...process.env, OFFICINE_ENV_FILE: config.envFile ?? DEFAULT_ENV_FILE };
  return {
    installDir: config.INSTALL_DIR,
    snapshotDir: join(config.dataDir, 'upgrades'),
    pinned: parseKeyList(readFileSync(config.RELEASE_KEYS_FILE)),
    limits: bundleLimits(config),
    services: services(config),
    snapshots: new PgDumpSnapshots(config.DATABASE_URL),
    backup: new CliPreUpgradeBackup(layout.currentLink, env, config.BACKUP_TARGETS.length > 0),
    migrator: new ReleaseCodeMigrator(config.DATABASE_URL),
    health: new HttpHealthGate(`http://127.0.0.1:${config.PORT}/readyz`, config.DATABASE_URL, config.UPGRADE_HEALTH_TIMEOUT_S * 1000),
    audit: new UpgradeAuditTrail(logger, upgradeJournalFile(config.dataDir), db),
    clock: { now: () => new Date() },
  };
}

/** Checks a bundle against this appliance's pinned keys, version and limits; installs nothing. */
export function verifyBundleWithConfig(config: Config, bundle: string): Promise<ReleaseManifest> {
  return verifyBundle(bundle, {
    installDir: config.INSTALL_DIR,
    pinned: parseKeyList(readFileSync(config.RELEASE_KEYS_FILE)),
    limits: bundleLimits(config),
    clock: { now: () => new Date() },
  });
}

/**
 * Applies one bundle with the real system (CLI `apply`, the path unit's
 * `apply-requested`, the console menu); throws on refusal or failure. `db`: an open
 * connection for the audit log, else one is opened for the upgrade.
 */
export async function applyBundleWithConfig(config: Config, logger: Logger, bundle: string, db?: DataSource): Promise<ReleaseManifest> {
  let own: DataSource | undefined;
  if (!db && config.DATABASE_URL) {
    own = createDataSource(config.DATABASE_URL, { poolSize: 1, applicationName: 'officine-upgrade' });
    await own.initialize();
  }
  try {
    return await new UpgradeService(upgradeDepsFromConfig(config, logger, db ?? own)).apply(bundle);
  } finally {
    await own?.destroy().catch(() => undefined);
  }
}

/** The CLI's apply: prints the outcome in French, exits 1 on failure. */
async function applyBundle(config: Config, logger: Logger, bundle: string): Promise<number> {
  try {
    const m = await applyBundleWithConfig(config, logger, bundle);
    process.stdout.write(`Mise à jour appliquée : version ${m.version} en service.\n`);
    return 0;
  } catch (err) {
    fail(logger, err, err instanceof AppError ? err.userMessage : 'la mise à jour a échoué');
  }
}

/** `appliance upgrade verify|apply|trust-keys`: signed release bundles and the pinned keys. */
export function registerUpgradeCommand(program: Command): void {
  const upgrade = program.command('upgrade').description('Signed release bundles: verify, apply (with automatic rollback), rotate pinned keys.');

  upgrade
    .command('verify <bundle>')
    .description('Check signature, expiry, version order, every file hash, paths and sizes; install nothing.')
    .action(async (bundle: string) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      try {
        const m = await verifyBundleWithConfig(config, bundle);
        process.stdout.write(`Paquet valide : version ${m.version} (${m.files.length} fichiers, expire le ${m.expires_at}).\n`);
      } catch (err) {
        fail(logger, err, err instanceof AppError ? err.userMessage : 'paquet refusé');
      }
    });

  upgrade
    .command('apply <bundle>')
    .description('Verify, back up, stop, snapshot, migrate, switch, start, health-check; roll back by itself on failure.')
    .action(async (bundle: string) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      process.exitCode = await applyBundle(config, cliLogger(config.LOG_LEVEL), bundle);
    });

  upgrade
    .command('apply-requested')
    .description('Apply the upgrade requested from the admin page, if any (run as root by systemd/officine-upgrade.path).')
    .action(async () => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      let request;
      try {
        request = takeApplyRequest(config.dataDir);
      } catch (err) {
        if (err instanceof ApplyRequestError) {
          logger.warn({ reason: err.message }, 'upgrade request refused');
          process.stderr.write(`${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
      if (!request) {
        process.stdout.write('Aucune mise à jour demandée.\n');
        return;
      }
      logger.info({ bundle: request.bundle, requestedAt: request.requestedAt }, 'applying the upgrade requested from the admin page');
      process.exitCode = await applyBundle(config, logger, request.bundle);
    });

  upgrade
    .command('trust-keys <keylist> <signature>')
    .description('Replace the pinned release keys with a new list signed by a currently pinned key (higher serial only).')
    .action(async (keylist: string, signature: string) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      // the pinned keys decide which code runs as root: every decision goes to the audit log
      const audit = async (action: string, level: 'warning' | 'alert', details: Record<string, unknown>) => {
        if (!config.DATABASE_URL) return;
        const db = createDataSource(config.DATABASE_URL, { poolSize: 1, applicationName: 'officine-upgrade' });
        await db.initialize();
        const actor = consoleActor({ command: 'upgrade trust-keys' });
        try {
          await recordAudit(db, { ...actor, action, level, details: { ...actor.details, ...details } });
        } finally {
          await db.destroy();
        }
      };
      let current;
      try {
        current = parseKeyList(readFileSync(config.RELEASE_KEYS_FILE));
      } catch (err) {
        fail(logger, err, 'clés épinglées illisibles (RELEASE_KEYS_FILE)');
      }
      let verdict;
      let text: Buffer;
      try {
        text = readFileSync(keylist);
        verdict = acceptKeyList(current, text, readFileSync(signature));
      } catch (err) {
        fail(logger, err, 'liste de clés illisible');
      }
      try {
        if (!verdict.ok) {
          await audit('upgrade.keys_refused', 'alert', { reason: verdict.reason, pinnedSerial: current.serial });
          throw new Error(`liste de clés refusée (${verdict.reason})`);
        }
        const tmp = `${config.RELEASE_KEYS_FILE}.new`;
        writeFileSync(tmp, text, { mode: 0o644 });
        const keys = verdict.list.keys.map((k) => k.id);
        // audited before it takes effect: a rotation that cannot be audited does not happen
        await audit('upgrade.keys_rotated', 'warning', { fromSerial: current.serial, serial: verdict.list.serial, keys });
        renameSync(tmp, config.RELEASE_KEYS_FILE);
        logger.info({ serial: verdict.list.serial, keys }, 'release keys rotated');
        process.stdout.write(`Clés de publication remplacées (série ${verdict.list.serial}, ${verdict.list.keys.length} clé(s)).\n`);
      } catch (err) {
        fail(logger, err, 'rotation des clés refusée');
      }
    });
}
