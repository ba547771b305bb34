import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Test } from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from './app.js';
import { freePort } from '../../src/backup/throwaway-postgres.js';

export { freePort };


/** The project's Caddyfile (one file, configured through environment placeholders). */
export const CADDYFILE = join(projectRoot(), 'Caddyfile');

/** A real Caddy in front of an upstream, on loopback high ports with its own local CA. */
export interface TestCaddy {
  httpsPort: number;
  httpPort: number;
  /** PEM of Caddy's local root CA, to verify the served certificate. */
  rootCa: string;
  /** Environment Caddy ran with (for `caddy validate` with the same placeholders). */
  env: NodeJS.ProcessEnv;
}

/** The environment that points the project's Caddyfile at loopback test ports and a temp state dir. */
export function caddyTestEnv(dir: string, upstream: string, httpPort: number, httpsPort: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    OFFICINE_SITE: 'localhost',
    OFFICINE_TLS: 'internal',
    OFFICINE_UPSTREAM: upstream,
    OFFICINE_BIND: '127.0.0.1',
    OFFICINE_HTTP_PORT: String(httpPort),
    OFFICINE_HTTPS_PORT: String(httpsPort),
    OFFICINE_CADDY_ADMIN: 'off',
  };
}

/** Minimal HTTPS GET that can pin a CA, pick a source address and send raw headers. */
export function httpsGet(
  url: string,
  opts: { ca?: string; localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: opts.ca, localAddress: opts.localAddress, headers: opts.headers, servername: new URL(url).hostname, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts Caddy with the project's Caddyfile in front of `upstream`; stopped at teardown.
 * By default with its local CA (`tls internal`); `env` overrides placeholders (e.g.
 * `OFFICINE_TLS` = "cert.pem key.pem" for the groupement's own certificate), and `ca` is
 * then the root that verifies the served certificate.
 */
export async function startTestCaddy(t: Test, upstream: string, opts: { env?: NodeJS.ProcessEnv; ca?: string } = {}): Promise<TestCaddy> {
  const dir = tempDir(t, 'officine-caddy-');
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const env = { ...caddyTestEnv(dir, upstream, httpPort, httpsPort), ...opts.env };
  const child = spawn('caddy', ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const rootPath = join(dir, 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt');
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`caddy exited (${child.exitCode}):\n${log}`);
    try {
      const rootCa = opts.ca ?? readFileSync(rootPath, 'utf8');
      await httpsGet(`https://localhost:${httpsPort}/healthz`, { ca: rootCa });
      return { httpPort, httpsPort, rootCa, env };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`caddy not ready on ${httpsPort}: ${(err as Error).message}\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A throw-away CA and a server certificate it signed (localhost, 127.0.0.1), made by openssl, as PEM files in `dir`. */
export function opensslCaAndServerCert(dir: string, name = 'ca'): { caPem: string; certFile: string; keyFile: string; certPem: string } {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/O=Groupement test/CN=${name} root`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', ...ec, '-keyout', `${name}-server.key`, '-out', `${name}-server.csr`, '-subj', '/CN=localhost']);
  writeFileSync(join(dir, `${name}-server.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', `${name}-server.csr`, '-CA', `${name}.pem`, '-CAkey', `${name}.key`, '-CAcreateserial', '-days', '2',
    '-extfile', `${name}-server.ext`, '-out', `${name}-server.pem`]);
  chmodSync(join(dir, `${name}-server.key`), 0o600);
  return {
    caPem: readFileSync(join(dir, `${name}.pem`), 'utf8'),
    certFile: join(dir, `${name}-server.pem`),
    keyFile: join(dir, `${name}-server.key`),
    certPem: readFileSync(join(dir, `${name}-server.pem`), 'utf8'),
  };
}

/** Runs `openssl s_client` against a loopback port; returns whether the handshake completed. */
export function opensslHandshake(port: number, flags: string[]): { ok: boolean; protocol?: string; output: string } {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...flags], {
    input: '',
    encoding: 'utf8',
    timeout: 15_000,
  });
  const output = `${r.stdout}\n${r.stderr}`;
  // A completed handshake names its protocol and a real cipher; a refused one prints
  // "(NONE)" or an alert. Whatever the version asked for, report what was negotiated.
  const protocol = /^\s*Protocol\s*:\s*(TLSv1(?:\.\d)?|SSLv3)\s*$/m.exec(output)?.[1] ?? /^New, (TLSv1(?:\.\d)?|SSLv3),/m.exec(output)?.[1];
  const cipher = /Cipher (?:is|\s*:)\s*(\S+)/.exec(output)?.[1];
  const ok = r.status === 0 && protocol !== undefined && cipher !== undefined && cipher !== '(NONE)' && cipher !== '0000';
  return { ok, ...(ok ? { protocol } : {}), output };
}
