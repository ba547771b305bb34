import { existsSync, lstatSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The hand-over between the web process (unprivileged: it stages a verified bundle
 * and asks for it to be applied) and the root unit that applies it
 * (systemd/officine-upgrade.path → `appliance upgrade apply-requested`). The request
 * is one 0600 JSON file; the bundle it names must be a staged bundle in the incoming
 * folder, so a compromised web process can at most ask for a bundle that the
 * applier still verifies against the pinned release keys.
 */
export interface ApplyRequest {
  bundle: string;
  requestedBy: string | null;
  requestedAt: string;
}

const BUNDLE_NAME = /^[0-9a-f]{24}\.bundle$/;

/** Where staged bundles wait, under DATA_DIR. */
export function incomingDir(dataDir: string): string {
  return join(dataDir, 'upgrades', 'incoming');
}

/** The request file the root path unit watches. */
export function applyRequestFile(dataDir: string): string {
  return join(dataDir, 'upgrades', 'apply-request.json');
}

/** Written by the web process (UpgradeStagingService.requestApply). */
export function writeApplyRequest(dataDir: string, r: ApplyRequest): string {
  const file = applyRequestFile(dataDir);
  writeFileSync(file, JSON.stringify(r) + '\n', { mode: 0o600 });
  return file;
}

/** Why a request was not taken: said to the operator in French. */
export class ApplyRequestError extends Error {}

/**
 * Takes the pending request, if any: removes the file first (so the path unit does
 * not fire again whatever happens next), then checks the bundle is a plain staged
 * file in the incoming folder. Returns null when nothing is pending.
 */
export function takeApplyRequest(dataDir: string): ApplyRequest | null {
  const file = applyRequestFile(dataDir);
  if (!existsSync(file)) return null;
  const taken = `${file}.taken`;
  renameSync(file, taken);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(taken, 'utf8'));
  } catch {
    throw new ApplyRequestError('Demande de mise à jour illisible : ignorée.');
  } finally {
    rmSync(taken, { force: true });
  }
  const r = raw as Partial<ApplyRequest>;
  if (typeof r.bundle !== 'string' || !BUNDLE_NAME.test(basename(r.bundle))) {
    throw new ApplyRequestError('Demande de mise à jour refusée : elle ne désigne pas une archive téléversée.');
  }
  const incoming = incomingDir(dataDir);
  if (!existsSync(r.bundle) || lstatSync(r.bundle).isSymbolicLink() || !lstatSync(r.bundle).isFile() || realpathSync(dirname(r.bundle)) !== realpathSync(incoming)) {
    throw new ApplyRequestError('Demande de mise à jour refusée : l’archive n’est pas dans le dossier des téléversements (ou a disparu).');
  }
  return { bundle: r.bundle, requestedBy: typeof r.requestedBy === 'string' ? r.requestedBy : null, requestedAt: String(r.requestedAt ?? '') };
}
