import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { recordAudit, type AuditEntry } from '../audit/audit.service.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { BundleRefusedError, verifyAndUnpackBundle } from './bundle-verifier.js';
import { parseKeyList } from './release-signing.js';
import { incomingDir, writeApplyRequest } from './apply-request.js';

const MB = 1024 * 1024;
const ID_RE = /^[0-9a-f]{24}$/;

/** A verified bundle kept for the operator to apply. */
export interface StagedUpgrade {
  id: string;
  version: string;
  currentVersion: string;
  expiresAt: string;
  files: number;
}

/** Who asked, for the audit entries. */
export type UpgradeActor = Pick<AuditEntry, 'actorUserId' | 'actorRole' | 'ip' | 'requestId'>;

/**
 * Upgrades from the admin page. The web process receives and verifies a bundle
 * (streamed to disk under a size limit, then the same verifier as `appliance upgrade
 * verify`: pinned keys, expiry, version order, every file's hash) and records an
 * apply request. It never applies it itself: an upgrade stops and restarts the web
 * process, so applying belongs to a privileged process outside it (the console's
 * `appliance upgrade apply`, or the root path unit running `upgrade apply-requested`).
 */
export class UpgradeStagingService {
  private readonly dir: string;

  constructor(private readonly app: AppContext) {
    this.dir = incomingDir(app.config.dataDir);
  }

  /** Path of a staged bundle (ids are server-made hex: no path from the client). */
  bundlePath(id: string): string {
    if (!ID_RE.test(id)) throw new AppError(404, 'upgrade_not_found', 'Archive de mise à jour introuvable.');
    return join(this.dir, `${id}.bundle`);
  }

  /** Receives, verifies and keeps a bundle; a refused one is deleted and the refusal audited. */
  async stage(body: Readable, actor: UpgradeActor): Promise<StagedUpgrade> {
    const cfg = this.app.config;
    const limits = { maxBundleBytes: cfg.UPGRADE_MAX_BUNDLE_MB * MB, maxUnpackedBytes: cfg.UPGRADE_MAX_UNPACKED_MB * MB, maxFiles: cfg.UPGRADE_MAX_FILES };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const id = randomBytes(12).toString('hex');
    const path = this.bundlePath(id);
    let received = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        if (received > limits.maxBundleBytes) cb(new AppError(413, 'upgrade_too_large', `Archive trop volumineuse (plus de ${cfg.UPGRADE_MAX_BUNDLE_MB} Mo).`));
        else cb(null, chunk);
      },
    });
    const scratch = join(this.dir, `${id}.verify`);
    try {
      await pipeline(body, limit, createWriteStream(path, { mode: 0o600 }));
      if (received === 0) throw new AppError(422, 'upgrade_empty', 'Aucune archive reçue.');
      let pinned;
      try {
        pinned = parseKeyList(readFileSync(cfg.RELEASE_KEYS_FILE));
      } catch (err) {
        throw new AppError(503, 'upgrade_keys_unavailable', 'Les clés de publication épinglées sont illisibles : vérifiez RELEASE_KEYS_FILE.', (err as Error).message);
      }
      mkdirSync(scratch, { recursive: true, mode: 0o700 });
      const manifest = await verifyAndUnpackBundle(path, { pinned, currentVersion: this.app.version, now: this.app.clock.now(), limits, extractTo: scratch });
      await recordAudit(this.app.db, { ...actor, action: 'upgrade.verified', details: { id, from: this.app.version, to: manifest.version, bytes: received } }, this.app.clock.now());
      return { id, version: manifest.version, currentVersion: this.app.version, expiresAt: manifest.expires_at, files: manifest.files.length };
    } catch (err) {
      rmSync(path, { force: true });
      if (err instanceof BundleRefusedError) {
        await recordAudit(this.app.db, { ...actor, action: 'upgrade.refused', level: 'warning', details: { reason: err.reason, bytes: received } }, this.app.clock.now());
      }
      throw err;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Records the operator's request to apply a staged bundle: a 0600 request file
   * beside it and an audit entry. Returns the console command that applies it.
   */
  async requestApply(id: string, actor: UpgradeActor): Promise<{ command: string; requestFile: string }> {
    const path = this.bundlePath(id);
    if (!existsSync(path) || !statSync(path).isFile()) throw new AppError(404, 'upgrade_not_found', 'Archive de mise à jour introuvable : téléversez-la de nouveau.');
    const at = this.app.clock.now();
    const requestFile = writeApplyRequest(this.app.config.dataDir, { bundle: path, requestedBy: actor.actorUserId ?? null, requestedAt: at.toISOString() });
    await recordAudit(this.app.db, { ...actor, action: 'upgrade.apply_requested', level: 'warning', details: { id, from: this.app.version } }, at);
    return { command: `appliance upgrade apply ${path}`, requestFile };
  }
}
