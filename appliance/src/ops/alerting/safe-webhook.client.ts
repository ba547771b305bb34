import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { AddressPolicy } from './address-policy.js';

/** Resolves a host name to every address it has (A and AAAA). */
export interface HostResolver {
  resolve(host: string): Promise<{ address: string; family: 4 | 6 }[]>;
}

/** The system resolver (getaddrinfo), as the rest of the machine sees names. */
export class SystemResolver implements HostResolver {
  async resolve(host: string): Promise<{ address: string; family: 4 | 6 }[]> {
    const all = await lookup(host, { all: true, verbatim: true });
    return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  }
}

/** One request to an already vetted, pinned address. */
export interface PinnedRequest {
  url: URL;
  /** The address the connection must go to (resolved and checked once). */
  address: string;
  family: 4 | 6;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** Opens the connection. Injectable so tests can count connection attempts. */
export interface WebhookTransport {
  send(req: PinnedRequest): Promise<{ status: number }>;
}

/**
 * Node's http/https with the address pinned: the socket connects to the vetted IP
 * (never re-resolving the name, which defeats DNS rebinding) while TLS still checks
 * the certificate against the host name (SNI + servername). Never follows redirects.
 */
export class NodeHttpTransport implements WebhookTransport {
  send(req: PinnedRequest): Promise<{ status: number }> {
    const isHttps = req.url.protocol === 'https:';
    const mod = isHttps ? https : http;
    const hostname = req.url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const r = mod.request(
        {
          host: req.address,
          family: req.family,
          port: req.url.port || (isHttps ? 443 : 80),
          path: req.url.pathname + req.url.search,
          method: 'POST',
          agent: false,
          servername: isHttps && isIP(hostname) === 0 ? hostname : undefined,
          headers: { ...req.headers, host: req.url.host, 'content-length': Buffer.byteLength(req.body).toString() },
          timeout: req.timeoutMs,
        },
        (res) => {
          res.resume(); // body ignored, bounded by the timeout
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', reject);
        },
      );
      r.on('timeout', () => r.destroy(new Error(`webhook timed out after ${req.timeoutMs} ms`)));
      r.on('error', reject);
      r.end(req.body);
    });
  }
}

/** Why a webhook was not delivered; `code` is stable. */
export class WebhookRefused extends Error {
  constructor(
    readonly code: 'bad_url' | 'host_not_allowed' | 'address_refused' | 'dns_failed' | 'redirect_refused' | 'http_error',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRefused';
  }
}

export interface SafeWebhookOptions {
  /** Exact host names, or `*.example.org` for any subdomain of example.org. */
  allowedHosts: readonly string[];
  policy: AddressPolicy;
  resolver: HostResolver;
  transport: WebhookTransport;
  /** http: only for tests; production requires https. */
  allowHttp?: boolean;
  timeoutMs?: number;
}

/** True when `host` is in the allowlist (exact, or under a `*.` entry). */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((entry) => {
    const a = entry.toLowerCase().replace(/\.$/, '');
    return a.startsWith('*.') ? h.endsWith(a.slice(1)) && h.length > a.length - 1 : h === a;
  });
}

/**
 * Outbound webhooks that cannot be turned against the appliance's own network (SSRF):
 * host allowlist → DNS resolution → every resolved address checked against the policy
 * → the connection pinned to the checked address → redirects refused. Everything is
 * decided before any socket is opened.
 */
export class SafeWebhookClient {
  constructor(private readonly opts: SafeWebhookOptions) {}

  async post(rawUrl: string, payload: unknown, headers: Record<string, string> = {}): Promise<void> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new WebhookRefused('bad_url', 'invalid webhook URL');
    }
    const httpOk = url.protocol === 'https:' || (this.opts.allowHttp === true && url.protocol === 'http:');
    if (!httpOk) throw new WebhookRefused('bad_url', `scheme ${url.protocol} refused (https only)`);
    if (url.username || url.password) throw new WebhookRefused('bad_url', 'credentials in webhook URL refused');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!hostAllowed(host, this.opts.allowedHosts)) throw new WebhookRefused('host_not_allowed', `host ${host} is not in the webhook allowlist`);

    let addresses: { address: string; family: 4 | 6 }[];
    const literal = isIP(host);
    if (literal) {
      addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await this.opts.resolver.resolve(host);
      } catch (err) {
        throw new WebhookRefused('dns_failed', `cannot resolve ${host}: ${(err as Error).message}`);
      }
    }
    if (addresses.length === 0) throw new WebhookRefused('dns_failed', `${host} has no address`);
    // Refuse if ANY address is internal: a name mixing public and private answers is hostile.
    for (const a of addresses) {
      const why = this.opts.policy.refuse(a.address);
      if (why) throw new WebhookRefused('address_refused', `${host} resolves to a refused ${why}`);
    }
    const pinned = addresses[0]!;
    const res = await this.opts.transport.send({
      url,
      address: pinned.address,
      family: pinned.family,
      body: JSON.stringify(payload),
      headers: { 'content-type': 'application/json', 'user-agent': 'officine-appliance-alerts', ...headers },
      timeoutMs: this.opts.timeoutMs ?? 5000,
    });
    if (res.status >= 300 && res.status < 400) throw new WebhookRefused('redirect_refused', `webhook answered a redirect (${res.status}); redirects are never followed`);
    if (res.status < 200 || res.status >= 300) throw new WebhookRefused('http_error', `webhook answered ${res.status}`);
  }
}
