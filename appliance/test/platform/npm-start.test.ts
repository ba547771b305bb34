import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';
import { freePort } from '../helpers/caddy.js';
import { testLogDestination } from '../helpers/log-scan.js';

/** PIDs of live processes whose command line mentions `needle` (e.g. a postgres on a data dir). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) pids.push(Number(entry));
    } catch {
      /* process gone */
    }
  }
  return pids;
}

/** The environment a person's shell would have: without tap's loaders or the outer npm's settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|TAP|_TAP|npm_|OFFICINE_|DATABASE_URL$)/i.test(k)),
  );
}

t.test('npm start: prints URL and demo login, ready within 60 s, Ctrl-C stops everything', async (t) => {
  const dataDir = tempDir(t, 'officine-npm-start-');
  const port = await freePort();
  const pgPort = await freePort();
  // tap's process tracker re-injects its loader through NODE_OPTIONS into every child it
  // sees spawned; `env -u` drops it so npm runs as it would from a person's shell.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', 'npm', 'start'], {
    cwd: projectRoot(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...cleanEnv(), DATA_DIR: dataDir, PORT: String(port), OFFICINE_EMBEDDED_PG_PORT: String(pgPort) },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  // The demo's JSON log lines join the run's app logs (the minimisation scan reads them).
  t.teardown(() => {
    const logs = testLogDestination();
    if (logs) for (const l of out.split('\n')) if (l.startsWith('{"level"')) logs.write(l + '\n');
  });
  // Closed once every process holding the pipe (npm, node, postgres) is gone.
  const outputClosed = new Promise<void>((res) => child.stdout.once('close', () => res()));
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });

  const started = Date.now();
  let ready = false;
  while (Date.now() - started < 60_000 && child.exitCode === null) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) {
        ready = true;
        break;
      }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  t.ok(ready, `/readyz 200 within 60 s (took ${Date.now() - started} ms)${ready ? '' : `\n${out.slice(-2000)}`}`);
  await new Promise((r) => setTimeout(r, 200)); // let the banner flush
  t.match(out, new RegExp(`Adresse :\\s+http://127\\.0\\.0\\.1:${port}/`), 'prints the URL');
  t.match(out, /Identifiant :\s+\S+@\S+/, 'prints the demo login');
  t.match(out, /Mot de passe :\s+\S+/, 'prints the demo password');
  const pgData = join(dataDir, 'pg', 'data');
  t.ok(existsSync(join(pgData, 'postmaster.pid')), 'embedded PostgreSQL running on the data dir');
  t.ok(processesMentioning(pgData).length > 0, 'a postgres process serves that data dir');

  process.kill(-child.pid!, 'SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    Promise.all([exited, outputClosed]).then(([e]) => e),
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 30_000))),
  ]);
  clearTimeout(timer);
  t.not(result, 'timeout', 'exits within 30 s of Ctrl-C');
  if (result !== 'timeout') t.ok(result.code === 0 || result.code === 130 || result.signal === 'SIGINT', `npm exits as interrupted (${JSON.stringify(result)})`);
  t.match(out, /Appliance arrêtée proprement/, 'the appliance reports a clean stop');
  t.notOk(existsSync(join(pgData, 'postmaster.pid')), 'PostgreSQL shut down cleanly (no postmaster.pid)');
  t.same(processesMentioning(pgData), [], 'no postgres process left on that data dir');
  const down = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    () => 'answered',
    () => 'refused',
  );
  t.equal(down, 'refused', 'the HTTP port is closed');
});
