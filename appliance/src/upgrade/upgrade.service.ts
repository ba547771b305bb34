import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppError } from '../http/errors.js';
import { verifyAndUnpackBundle, type BundleLimits } from './bundle-verifier.js';
import type { ReleaseKeyList, ReleaseManifest } from './release-manifest.js';
import type { DatabaseSnapshots, HealthGate, PreUpgradeBackup, ReleaseMigrator, ServiceController, UpgradeAudit } from './upgrade-ports.js';

/** Everything an upgrade touches, injected so tests run it against real or fake parts. */
export interface UpgradeDeps {
  installDir: string;
  snapshotDir: string;
  pinned: ReleaseKeyList;
  limits: BundleLimits;
  services: ServiceController;
  snapshots: DatabaseSnapshots;
  backup: PreUpgradeBackup;
  migrator: ReleaseMigrator;
  health: HealthGate;
  audit: UpgradeAudit;
  clock: { now(): Date };
}

/** An upgrade that failed after the switch began, and was rolled back by itself. */
export class UpgradeRolledBackError extends AppError {
  constructor(readonly step: string, readonly failure: Error, readonly restoredVersion: string) {
    super(
      500,
      'upgrade_rolled_back',
      `Mise à jour annulée à l’étape « ${step} » : la version ${restoredVersion} et sa base de données ont été restaurées. Cause : ${failure.message}`,
      `upgrade failed at ${step} (${failure.message}); rolled back to ${restoredVersion}`,
    );
    this.name = 'UpgradeRolledBackError';
  }
}

/** Paths of the installed releases: releases/<version>/ and the `current` symlink. */
export class ReleaseLayout {
  constructor(readonly installDir: string) {}
  get releasesDir(): string {
    return join(this.installDir, 'releases');
  }
  get currentLink(): string {
    return join(this.installDir, 'current');
  }
  releaseDir(version: string): string {
    return join(this.releasesDir, version);
  }
  /** Version `current` points to (its directory name, cross-checked with its package.json). */
  currentVersion(): string {
    const version = basename(readlinkSync(this.currentLink));
    const pkg = JSON.parse(readFileSync(join(this.currentLink, 'package.json'), 'utf8')) as { version: string };
    if (pkg.version !== version) throw new Error(`current -> ${version} but its package.json says ${pkg.version}`);
    return version;
  }
  /** Atomically points `current` at a release (symlink + rename: never a moment without one). */
  switchTo(version: string): void {
    const tmp = `${this.currentLink}.${randomBytes(4).toString('hex')}`;
    symlinkSync(join('releases', version), tmp);
    renameSync(tmp, this.currentLink);
  }
}

/**
 * Verifies a bundle without installing it: unpacks into a scratch directory under
 * releases/ and removes it again. Returns the manifest.
 */
export async function verifyBundle(bundle: string, deps: Pick<UpgradeDeps, 'installDir' | 'pinned' | 'limits' | 'clock'>): Promise<ReleaseManifest> {
  const layout = new ReleaseLayout(deps.installDir);
  const scratch = join(layout.releasesDir, `.verify-${randomBytes(6).toString('hex')}`);
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  try {
    return await verifyAndUnpackBundle(bundle, {
      pinned: deps.pinned,
      currentVersion: layout.currentVersion(),
      now: deps.clock.now(),
      limits: deps.limits,
      extractTo: scratch,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Applies a signed release bundle: verify and stage beside the current release →
 * pre-upgrade backup → stop → database snapshot → migrate with the new code → switch
 * `current` → start → health gate. Any failure after the stop restores the snapshot,
 * points `current` back, restarts the previous release and throws
 * UpgradeRolledBackError. Every step is audited.
 */
export class UpgradeService {
  private readonly layout: ReleaseLayout;
  constructor(private readonly deps: UpgradeDeps) {
    this.layout = new ReleaseLayout(deps.installDir);
  }

  async apply(bundle: string): Promise<ReleaseManifest> {
    const { deps, layout } = this;
    const from = layout.currentVersion();
    const audit = (action: string, details: Record<string, unknown> = {}) => deps.audit.record(action, { from, ...details });
    await audit('upgrade.started', { bundle: basename(bundle) });

    const staging = join(layout.releasesDir, `.staging-${randomBytes(6).toString('hex')}`);
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    let manifest: ReleaseManifest;
    try {
      manifest = await verifyAndUnpackBundle(bundle, { pinned: deps.pinned, currentVersion: from, now: deps.clock.now(), limits: deps.limits, extractTo: staging });
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      await audit('upgrade.refused', { reason: (err as { code?: string }).code ?? 'error', error: (err as Error).message });
      throw err;
    }
    const to = manifest.version;
    for (const f of manifest.files) chmodSync(join(staging, f.path), f.mode);
    chmodSync(staging, 0o755);
    const target = layout.releaseDir(to);
    rmSync(target, { recursive: true, force: true }); // leftover of an earlier failed attempt (never current: versions only grow)
    renameSync(staging, target);
    await audit('upgrade.verified', { to, files: manifest.files.length });

    let backup;
    try {
      backup = await deps.backup.run(`pre-upgrade-${to}`);
    } catch (err) {
      // nothing stopped or switched yet: drop the unpacked release, the current one keeps serving
      rmSync(target, { recursive: true, force: true });
      await audit('upgrade.failed', { to, step: 'backup', error: (err as Error).message.slice(0, 2000) });
      throw new AppError(
        500,
        'upgrade_backup_failed',
        `Mise à jour annulée : la sauvegarde préalable a échoué (version ${from} toujours en service, rien n’a été modifié). Vérifiez les cibles de sauvegarde (appliance backup status).`,
        `pre-upgrade backup failed: ${(err as Error).message}`,
      );
    }
    await audit('upgrade.backup', backup.result === 'done' ? { to, result: 'done', backupId: backup.backupId, backupStatus: backup.status } : { to, result: backup.result });

    const snapshot = join(deps.snapshotDir, `pre-upgrade-${from}-to-${to}.dump`);
    let step = 'prepare';
    try {
      await deps.migrator.prepare(target);
      step = 'stop';
      await deps.services.stop();
      await audit('upgrade.stopped', { to });
      step = 'snapshot';
      await deps.snapshots.take(snapshot);
      await audit('upgrade.snapshot', { to });
    } catch (err) {
      // nothing changed yet: bring the current release back as it was
      await audit('upgrade.failed', { to, step, error: (err as Error).message });
      await deps.services.start();
      rmSync(target, { recursive: true, force: true });
      throw new UpgradeRolledBackError(step, err as Error, from);
    }

    try {
      step = 'migrate';
      const migrations = await deps.migrator.migrate(target);
      await audit('upgrade.migrated', { to, migrations });
      step = 'switch';
      layout.switchTo(to);
      await audit('upgrade.switched', { to });
      step = 'start';
      await deps.services.start();
      step = 'health';
      await deps.health.check();
      await audit('upgrade.completed', { to });
      rmSync(snapshot, { force: true });
      return manifest;
    } catch (err) {
      const error = (err as Error).message.slice(0, 2000);
      await audit('upgrade.failed', { to, step, error });
      await this.rollback(from, to, snapshot, { step, error }, audit);
      throw new UpgradeRolledBackError(step, err as Error, from);
    }
  }

  /** Puts the previous release and its database back, then checks it serves again. */
  private async rollback(
    from: string,
    to: string,
    snapshot: string,
    failure: { step: string; error: string },
    audit: (a: string, d?: Record<string, unknown>) => Promise<void>,
  ): Promise<void> {
    const { deps, layout } = this;
    try {
      await deps.services.stop();
      await deps.snapshots.restore(snapshot);
      await audit('upgrade.rollback.database_restored', { to, failedStep: failure.step, error: failure.error });
      layout.switchTo(from);
      await deps.services.start();
      await deps.health.check();
      rmSync(layout.releaseDir(to), { recursive: true, force: true });
      rmSync(snapshot, { force: true });
      await audit('upgrade.rolled_back', { to, failedStep: failure.step });
    } catch (err) {
      await audit('upgrade.rollback_failed', { to, error: (err as Error).message, snapshot });
      throw new AppError(
        500,
        'upgrade_rollback_failed',
        `Échec de la mise à jour ET du retour arrière : intervention manuelle requise (instantané : ${snapshot}).`,
        `rollback failed: ${(err as Error).message}`,
      );
    }
  }
}
