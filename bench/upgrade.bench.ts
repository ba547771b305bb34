// npm run bench:upgrade — downtime of a successful signed upgrade (time during which
// /readyz is not 200) on a real installation (install.sh into a scratch root, services
// without systemd) holding the demo dataset. Baseline, same run: a plain restart of the
// app. Target: upgrade downtime ≤ 10 s. Needs root (install.sh). Bounded: ~2-3 minutes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile } from '../appliance/src/config/env-file.js';
import { SecretStore } from '../appliance/src/config/secrets.js';
import { projectRoot } from '../appliance/src/config/version.js';
import { createDataSource } from '../appliance/src/db/data-source.js';
import { seedDemo } from '../appliance/src/tenancy/demo-seed.js';
import { buildBundle } from '../appliance/src/upgrade/bundle-builder.js';
import { buildKeyList, generateReleaseKey } from '../appliance/src/upgrade/release-signing.js';
import { listReleaseFiles } from '../appliance/src/upgrade/release-tree.js';
import { freePort } from '../appliance/test/helpers/caddy.js';
import { overlayRelease, testMigrationsSource } from '../appliance/test/helpers/bundle.js';
import { printResult, round } from './lib/bench-util.js';

const TARGET_S = 10;

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${r.status}):\n${r.stdout?.slice(-2000)}\n${r.stderr?.slice(-2000)}`);
  return r.stdout;
}

/** Same, without blocking the event loop (the poller must keep polling meanwhile). */
function runAsync(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-3000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${code}): ${err}`))));
  });
}

/** Polls /readyz every 50 ms while `action` runs; returns the total time it was not 200. */
async function downtimeDuring(url: string, action: () => Promise<void>): Promise<number> {
  let running = true;
  let down = 0;
  let downSince: number | undefined;
  const poll = (async () => {
    while (running || downSince !== undefined) {
      let ok = false;
      try {
        ok = (await fetch(url, { signal: AbortSignal.timeout(1000) })).status === 200;
      } catch {
        ok = false;
      }
      const now = performance.now();
      if (!ok && downSince === undefined) downSince = now;
      if (ok && downSince !== undefined) {
        down += now - downSince;
        downSince = undefined;
      }
      if (!running && downSince !== undefined && now - downSince > 60_000) throw new Error('service did not come back within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  await action();
  running = false;
  await poll;
  return down / 1000;
}

const root = mkdtempSync(join(tmpdir(), 'officine-bench-root-'));
const work = mkdtempSync(join(tmpdir(), 'officine-bench-work-'));
const services = (...a: string[]) => run('bash', [join(root, 'opt/officine/current/provisioning/officine-services.sh'), '--root', root, ...a]);
try {
  const ports = { http: await freePort(), https: await freePort(), app: await freePort(), pg: await freePort() };
  const key = generateReleaseKey();
  writeFileSync(join(work, 'keys.json'), JSON.stringify(buildKeyList([key.publicKey], 1)));
  run('bash', [
    join(projectRoot(), 'provisioning/install.sh'), '--root', root, '--site', 'localhost', '--bind', '127.0.0.1', '--caddy-admin', 'off',
    '--http-port', String(ports.http), '--https-port', String(ports.https), '--app-port', String(ports.app), '--pg-port', String(ports.pg),
    '--release-keys', join(work, 'keys.json'),
  ]);
  const envFile = join(root, 'etc/officine/appliance.env');
  const env = parseEnvFile(readFileSync(envFile, 'utf8'));
  const ds = createDataSource(env.DATABASE_URL!, { poolSize: 1 });
  await ds.initialize();
  await seedDemo(ds, new SecretStore(join(work, 'secrets')));
  await ds.destroy();

  const release = join(root, 'opt/officine/releases/0.1.0');
  const pkg = JSON.parse(readFileSync(join(release, 'package.json'), 'utf8')) as Record<string, unknown>;
  const index = readFileSync(join(release, 'dist/appliance/src/db/migrations/index.js'), 'utf8');
  const files = overlayRelease(listReleaseFiles(release), join(work, 'next'), {
    'package.json': JSON.stringify({ ...pkg, version: '0.1.1' }, null, 2),
    'dist/appliance/src/db/migrations/upgrade-test.js': testMigrationsSource(),
    'dist/appliance/src/db/migrations/index.js': `${index}\nimport { testMigrations } from './upgrade-test.js';\nmigrations.push(...testMigrations);\n`,
  });
  const bundle = join(work, 'next.tar.gz');
  await buildBundle({ files, version: '0.1.1', minFromVersion: '0.1.0', expiresAt: new Date(Date.now() + 86400_000), signingKeyPem: key.privatePem, out: bundle, gzipLevel: 1 });

  const readyz = `http://127.0.0.1:${ports.app}/readyz`;
  const baseline = await downtimeDuring(readyz, () =>
    runAsync('bash', [join(root, 'opt/officine/current/provisioning/officine-services.sh'), '--root', root, 'restart', 'app']),
  );
  const t0 = performance.now();
  const downtime = await downtimeDuring(readyz, () =>
    runAsync('node', [join(root, 'opt/officine/current/dist/appliance/src/cli/main.js'), '--env-file', envFile, 'upgrade', 'apply', bundle]),
  );
  const applySeconds = (performance.now() - t0) / 1000;
  const current = readFileSync(join(root, 'opt/officine/current/package.json'), 'utf8');
  if (!current.includes('"0.1.1"')) throw new Error('upgrade did not switch to 0.1.1');
  printResult({
    bench: 'upgrade',
    downtime_s: round(downtime),
    baseline_restart_downtime_s: round(baseline),
    ratio: round(downtime / baseline),
    apply_total_s: round(applySeconds),
    target_downtime_s: TARGET_S,
    meets_target: downtime <= TARGET_S,
  });
} finally {
  try {
    services('stop');
  } catch {
    /* nothing running */
  }
  rmSync(root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
