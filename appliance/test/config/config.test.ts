import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { readSecretFile, SecretStore } from '../../src/config/secrets.js';
import { tempDir } from '../helpers/app.js';

const CLI = join(process.cwd(), 'dist/appliance/src/cli/main.js');

t.test('defaults are valid and loopback-only', async (t) => {
  const cfg = loadConfig({ envFile: '/dev/null', env: {} });
  t.equal(cfg.HOST, '127.0.0.1');
  t.equal(cfg.PORT, 8080);
  t.same(cfg.TRUSTED_PROXIES, ['127.0.0.1', '::1']);
});

t.test('the environment overrides the env file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'appliance.env');
  writeFileSync(file, '# comment\nPORT=9000\nLOG_LEVEL="debug"\n');
  const cfg = loadConfig({ envFile: file, env: { PORT: '9100' } });
  t.equal(cfg.PORT, 9100, 'env wins');
  t.equal(cfg.LOG_LEVEL, 'debug', 'file value, quotes stripped');
});

t.test('every invalid key is reported at once', async (t) => {
  const err = t.throws(() =>
    loadConfig({ envFile: '/dev/null', env: { PORT: 'eighty', HOST: '0.0.0.0', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' } }),
  ) as ConfigError;
  t.type(err, ConfigError);
  const keys = err.problems.map((p) => p.split(':')[0]).sort();
  t.same(keys, ['DATABASE_URL', 'HOST', 'LOG_LEVEL', 'PORT']);
});

t.test('an explicit env file that does not exist is an error', async (t) => {
  t.throws(() => loadConfig({ envFile: '/nonexistent/appliance.env', env: {} }), ConfigError);
});

t.test('the CLI exits non-zero naming every bad key', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.env');
  writeFileSync(file, 'PORT=-1\nPUBLIC_URL=not a url\nSECURITY_CONTACT=bob\n');
  const r = spawnSync(process.execPath, [CLI, '--env-file', file, 'migrate', '--status'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOST: '10.0.0.5' },
  });
  t.equal(r.status, 2, 'exit status 2');
  t.match(r.stderr, /Configuration invalide \(4 problème/);
  for (const key of ['PORT', 'PUBLIC_URL', 'SECURITY_CONTACT', 'HOST']) t.match(r.stderr, new RegExp(`- ${key}:`), `names ${key}`);
  t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

t.test('secret files must be mode 0600', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'jwt.key');
  writeFileSync(p, 'x'.repeat(44), { mode: 0o600 });
  t.equal(readSecretFile(p).length, 44, '0600 accepted');
  chmodSync(p, 0o644);
  t.throws(() => readSecretFile(p), { code: 'secret_mode', message: /0644.*0600/ }, '0644 refused with a clear message');
  chmodSync(p, 0o640);
  t.throws(() => readSecretFile(p), { code: 'secret_mode' }, '0640 refused');
  t.throws(() => readSecretFile(join(dir, 'missing.key')), { code: 'secret_missing' });
});

t.test('generated secrets are created 0600 even under a permissive umask', async (t) => {
  const dir = tempDir(t);
  const old = process.umask(0o000);
  try {
    const store = new SecretStore(join(dir, 'secrets'));
    const v = store.get('data.key', { generate: 32 });
    t.equal(Buffer.from(v.toString().trim(), 'base64').length, 32);
    const { statSync } = await import('node:fs');
    t.equal(statSync(store.path('data.key')).mode & 0o777, 0o600);
    t.same(store.get('data.key', { generate: 32 }), v, 'stable once generated');
  } finally {
    process.umask(old);
  }
});

t.test('serve refuses to start with a 0644 secret and says why', async (t) => {
  const dir = tempDir(t);
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  writeFileSync(join(secrets, 'pg-superuser-password'), 'pw\n', { mode: 0o644 });
  chmodSync(join(secrets, 'pg-superuser-password'), 0o644);
  const r = spawnSync(process.execPath, [CLI, '--env-file', '/dev/null', 'migrate', '--status'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dir, SECRETS_DIR: secrets, LOG_LEVEL: 'silent' },
    timeout: 60_000,
  });
  t.not(r.status, 0, 'non-zero exit');
  t.match(r.stderr, /0644.*0600/, 'explains the mode problem');
});
