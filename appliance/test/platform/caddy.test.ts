import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'node:tls';
import t from 'tap';
import type { RouteRegistrar } from '../../src/http/app.js';
import { startTestApp, tempDir } from '../helpers/app.js';
import { CADDYFILE, caddyTestEnv, httpsGet, opensslCaAndServerCert, opensslHandshake, startTestCaddy } from '../helpers/caddy.js';

const echoClient: RouteRegistrar = (router) => {
  router.get('/api/test/client', (ctx) => {
    ctx.body = { ip: ctx.state.clientIp, xff: ctx.get('X-Forwarded-For'), realIp: ctx.get('X-Real-IP') };
  });
};

t.test('caddy validate accepts the Caddyfile, defaults and LAN/test placeholders alike', async (t) => {
  const dir = tempDir(t, 'officine-caddy-validate-');
  const withDefaults = spawnSync('caddy', ['validate', '--config', CADDYFILE, '--adapter', 'caddyfile'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: join(dir, 'd'), XDG_CONFIG_HOME: join(dir, 'c') },
  });
  t.equal(withDefaults.status, 0, `defaults valid: ${withDefaults.stderr.slice(-400)}`);
  const lan = spawnSync('caddy', ['validate', '--config', CADDYFILE, '--adapter', 'caddyfile'], {
    encoding: 'utf8',
    env: caddyTestEnv(dir, '127.0.0.1:8080', 18080, 18443),
  });
  t.equal(lan.status, 0, `test placeholders valid: ${lan.stderr.slice(-400)}`);
  const ownCert = spawnSync('caddy', ['adapt', '--config', CADDYFILE, '--adapter', 'caddyfile'], {
    encoding: 'utf8',
    env: { ...caddyTestEnv(dir, '127.0.0.1:8080', 18080, 18443), OFFICINE_SITE: 'officine.groupement.test', OFFICINE_TLS: 'it@groupement.test' },
  });
  t.equal(ownCert.status, 0, 'public-name (ACME) form adapts');
  const json = JSON.parse(ownCert.stdout) as { apps: { tls: { automation: { policies: { issuers: { module: string; email?: string }[] }[] } } } };
  const issuers = json.apps.tls.automation.policies[0]!.issuers;
  t.ok(issuers.some((i) => i.module === 'acme' && i.email === 'it@groupement.test'), 'ACME issuer with the contact address');
  t.notOk(issuers.some((i) => i.module === 'internal'), 'no local CA for a public name');
});

t.test('Caddy in front of the real app: TLS, HSTS, HTTP/3, client IP, compression', async (t) => {
  const app = await startTestApp(t, {}, { extraRoutes: [echoClient] });
  const caddy = await startTestCaddy(t, new URL(app.url).host);
  const base = `https://localhost:${caddy.httpsPort}`;

  const health = await httpsGet(`${base}/healthz`, { ca: caddy.rootCa });
  t.equal(health.status, 200, 'HTTPS answers, certificate verified against the local root CA');
  t.equal(JSON.parse(health.body).status, 'ok');
  t.equal(health.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains', 'HSTS once, 2 years with subdomains');
  t.equal(health.headers['server'], undefined, 'no Server header');
  t.match(String(health.headers['alt-svc'] ?? ''), new RegExp(`h3=":${caddy.httpsPort}"`), 'HTTP/3 advertised');
  t.equal(health.headers['x-content-type-options'], 'nosniff', 'app security headers pass through');

  await t.rejects(httpsGet(`${base}/healthz`), 'an unpinned client refuses the local CA (real verification)');

  const redirect = await fetch(`http://localhost:${caddy.httpPort}/healthz`, { redirect: 'manual' });
  t.equal(redirect.status, 308, 'plain HTTP redirected to HTTPS');
  t.match(redirect.headers.get('location') ?? '', /^https:\/\/localhost(:\d+)?\/healthz$/, 'to HTTPS, same path');

  const forged = await httpsGet(`${base}/api/test/client`, {
    ca: caddy.rootCa,
    localAddress: '127.0.0.2',
    headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Real-IP': '203.0.113.10', Forwarded: 'for=203.0.113.11' },
  });
  t.equal(forged.status, 200);
  const seen = JSON.parse(forged.body) as { ip: string; xff: string; realIp: string };
  t.equal(seen.ip, '127.0.0.2', 'the app sees the TCP peer Caddy saw');
  t.equal(seen.xff, '127.0.0.2', 'Caddy alone sets X-Forwarded-For: the forged hop is gone');
  t.equal(seen.realIp, '', 'X-Real-IP stripped');

  const html = await httpsGet(`${base}/`, { ca: caddy.rootCa, headers: { 'Accept-Encoding': 'gzip, zstd' } });
  t.equal(html.status, 200);
  t.equal(html.headers['content-encoding'], undefined, 'page not compressed');
  const api = await httpsGet(`${base}/api/test/client`, { ca: caddy.rootCa, headers: { 'Accept-Encoding': 'gzip, zstd' } });
  t.equal(api.headers['content-encoding'], undefined, 'API response not compressed (BREACH)');
  const css = JSON.parse(readFileSync(join(process.cwd(), 'dist', 'web', 'manifest.json'), 'utf8')).style as string;
  const asset = await httpsGet(`${base}/assets/${css}`, { ca: caddy.rootCa, headers: { 'Accept-Encoding': 'gzip' } });
  t.equal(asset.status, 200);
  t.equal(asset.headers['content-encoding'], 'gzip', 'hashed static asset compressed');
  t.match(String(asset.headers['cache-control']), /max-age=31536000.*immutable/, 'long immutable cache on hashed names');

  const tls11 = opensslHandshake(caddy.httpsPort, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
  t.notOk(tls11.ok, 'TLS 1.1 refused');
  const tls10 = opensslHandshake(caddy.httpsPort, ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']);
  t.notOk(tls10.ok, 'TLS 1.0 refused');
  const tls12 = opensslHandshake(caddy.httpsPort, ['-tls1_2']);
  t.equal(tls12.protocol, 'TLSv1.2', `TLS 1.2 accepted${tls12.ok ? '' : `: ${tls12.output.slice(-300)}`}`);
  const tls13 = opensslHandshake(caddy.httpsPort, ['-tls1_3']);
  t.equal(tls13.protocol, 'TLSv1.3', 'TLS 1.3 accepted');
});

/** The certificate a TLS server presents on loopback (SNI localhost), and whether `ca` verifies it. */
function servedCertificate(port: number, ca: string): Promise<{ fingerprint256: string; authorized: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, rejectUnauthorized: false }, () => {
      const cert = s.getPeerCertificate();
      resolve({ fingerprint256: cert.fingerprint256, authorized: s.authorized, ...(s.authorizationError ? { error: String(s.authorizationError) } : {}) });
      s.end();
    });
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
    s.on('error', reject);
  });
}

t.test("the groupement's own certificate (install.sh --tls cert:CERT,KEY): Caddy serves it, verified against the groupement's CA", async (t) => {
  const dir = tempDir(t, 'officine-own-cert-');
  const own = opensslCaAndServerCert(dir, 'groupement');
  const other = opensslCaAndServerCert(dir, 'other');
  const app = await startTestApp(t);
  // As install.sh writes it to caddy.env for `--tls cert:CERT,KEY`: "CERT KEY".
  const caddy = await startTestCaddy(t, new URL(app.url).host, { env: { OFFICINE_TLS: `${own.certFile} ${own.keyFile}` }, ca: own.caPem });
  const base = `https://localhost:${caddy.httpsPort}`;

  const health = await httpsGet(`${base}/healthz`, { ca: own.caPem });
  t.equal(health.status, 200, 'HTTPS through Caddy verified against the groupement CA');
  t.equal(JSON.parse(health.body).status, 'ok', 'the app answers behind it');
  t.equal(health.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains', 'HSTS in this mode too');

  const served = await servedCertificate(caddy.httpsPort, own.caPem);
  t.ok(served.authorized, `chain verified${served.error ? `: ${served.error}` : ''}`);
  t.equal(served.fingerprint256, new X509Certificate(own.certPem).fingerprint256, 'the served certificate is the groupement one');
  t.not(served.fingerprint256, new X509Certificate(other.certPem).fingerprint256);

  await t.rejects(httpsGet(`${base}/healthz`, { ca: other.caPem }), 'another CA does not verify it (real verification)');
  await t.rejects(httpsGet(`${base}/healthz`), 'nor the system trust store');
  t.notOk(opensslHandshake(caddy.httpsPort, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']).ok, 'TLS 1.1 refused in this mode too');
  t.equal(opensslHandshake(caddy.httpsPort, ['-tls1_3']).protocol, 'TLSv1.3', 'TLS 1.3 accepted');
});

t.test('the TLS 1.1 probe can fail: it sees a handshake with a server that offers TLS 1.1', async (t) => {
  // Control for the refusals above: the same client flags against an OpenSSL server that
  // does speak TLS 1.1 must report a completed TLS 1.1 handshake, or "refused" proves nothing.
  const dir = tempDir(t, 'officine-tls11-');
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { encoding: 'utf8' });
  t.equal(gen.status, 0, 'self-signed certificate for the control server');
  const port = 20000 + Math.floor(Math.random() * 20000);
  // stdin stays open: s_server stops at end of input.
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert, '-key', key, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void server.kill('SIGKILL'));
  let out = '';
  server.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('ACCEPT') && Date.now() < deadline) await Promise.race([once(server.stdout, 'data'), new Promise((r) => setTimeout(r, 200))]);
  t.match(out, /ACCEPT/, 'control server listening');
  const tls11 = opensslHandshake(port, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
  t.ok(tls11.ok, `handshake completed${tls11.ok ? '' : `: ${tls11.output.slice(-300)}`}`);
  t.equal(tls11.protocol, 'TLSv1.1', 'negotiated TLS 1.1 is reported as such');
});
