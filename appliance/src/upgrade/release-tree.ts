import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** One file of a release: where it is now, where it goes in the release tree, its mode. */
export interface ReleaseFile {
  abs: string;
  path: string;
  mode: 0o644 | 0o755;
}

/**
 * Top-level entries of the project that make a release (built app, UI, units, provisioning).
 * `runtime` exists only in a release unpacked from a bundle (the Node it ships): staging
 * such a release (install.sh) or re-bundling it keeps its runtime.
 */
const TOP_LEVEL = ['package.json', 'package-lock.json', 'Caddyfile', 'Dockerfile', 'INSTALL.md', 'README.md', 'systemd', 'provisioning', 'appliance/data', 'runtime'];
const DIST = ['dist/appliance/src', 'dist/agent/src', 'dist/web'];

function walk(root: string, dir: string, out: ReleaseFile[], skip: (rel: string, isDir: boolean) => boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    const rel = relative(root, abs).split(sep).join('/');
    if (entry.isDirectory()) {
      if (!skip(rel, true)) walk(root, abs, out, skip);
    } else if (entry.isFile() && !skip(rel, false)) {
      out.push({ abs, path: rel, mode: lstatSync(abs).mode & 0o100 ? 0o755 : 0o644 });
    }
    // symlinks (node_modules/.bin) are not part of a release: nothing executes them at run time
  }
}

/**
 * Lists the files of a release built from a project checkout (after `npm run build`):
 * the compiled server, agent and UI, the production dependencies from package-lock.json
 * (dev-only packages left out), and the operator files. Used by `npm run bundle` and by
 * install.sh, so a bundle and a fresh install hold exactly the same tree.
 */
export function listReleaseFiles(projectRoot: string): ReleaseFile[] {
  const out: ReleaseFile[] = [];
  const noMaps = (rel: string, isDir: boolean) => !isDir && rel.endsWith('.map');
  for (const top of TOP_LEVEL) {
    const abs = join(projectRoot, top);
    if (!existsSync(abs)) continue;
    if (lstatSync(abs).isDirectory()) walk(projectRoot, abs, out, () => false);
    else out.push({ abs, path: top, mode: lstatSync(abs).mode & 0o100 ? 0o755 : 0o644 });
  }
  for (const d of DIST) {
    const abs = join(projectRoot, d);
    if (!existsSync(abs)) throw new Error(`${d} missing: run \`npm run build\` first`);
    walk(projectRoot, abs, out, noMaps);
  }
  const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || meta.dev) continue;
    const abs = join(projectRoot, key);
    if (!existsSync(abs)) continue; // optional dependency for another platform
    // nested node_modules are packages of their own, listed (or not) by the lockfile
    walk(projectRoot, abs, out, (rel, isDir) => isDir && rel.endsWith('/node_modules'));
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Where a release carries its Node runtime (run by provisioning/officine-node). */
export const RUNTIME_NODE_PATH = 'runtime/bin/node';
/** The Node major version the appliance is built and tested with (package.json engines). */
export const RUNTIME_NODE_MAJOR = 20;

/**
 * The Node binary a bundle ships as runtime/bin/node: the one running the bundle build
 * (`process.execPath`, `process.version`), so a release runs on the exact runtime it was
 * built and tested with, whatever Node the host has (Debian 12 ships Node 18 only).
 * Throws when that Node is not the supported major version.
 */
export function bundledRuntime(execPath: string, version: string): { file: ReleaseFile; nodeVersion: string } {
  const m = /^v(\d+)\.\d+\.\d+$/.exec(version);
  if (!m || Number(m[1]) !== RUNTIME_NODE_MAJOR) {
    throw new Error(`the bundle ships the Node running this build as ${RUNTIME_NODE_PATH}: Node ${RUNTIME_NODE_MAJOR} required, this is ${version} (${execPath}); run npm run bundle with Node ${RUNTIME_NODE_MAJOR}`);
  }
  return { file: { abs: execPath, path: RUNTIME_NODE_PATH, mode: 0o755 }, nodeVersion: version };
}
