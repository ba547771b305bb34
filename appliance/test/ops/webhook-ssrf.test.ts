import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { PublicAddressPolicy, type AddressPolicy } from '../../src/ops/alerting/address-policy.js';
import {
  NodeHttpTransport, SafeWebhookClient, SystemResolver,
  type HostResolver, type PinnedRequest, type WebhookTransport,
} from '../../src/ops/alerting/safe-webhook.client.js';
import { WebhookNotifier } from '../../src/ops/alerting/notifiers.js';

/** Counts every connection the client asks for; delegates (or answers itself when given a status). */
class RecordingTransport implements WebhookTransport {
  calls: PinnedRequest[] = [];
  constructor(private readonly inner?: WebhookTransport, private readonly fixedStatus = 204) {}
  async send(req: PinnedRequest) {
    this.calls.push(req);
    return this.inner ? this.inner.send(req) : { status: this.fixedStatus };
  }
}

/** A resolver with fixed answers; counts lookups. */
class FakeResolver implements HostResolver {
  lookups = 0;
  constructor(private readonly answers: Record<string, string[][]>) {}
  async resolve(host: string) {
    const seq = this.answers[host];
    if (!seq) throw new Error('ENOTFOUND ' + host);
    const list = seq[Math.min(this.lookups++, seq.length - 1)]!;
    return list.map((address) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }));
  }
}

/** Test-only policy: exactly 127.0.0.1 allowed (for the local receiver), production rules otherwise. */
class LoopbackForTestsPolicy implements AddressPolicy {
  private readonly prod = new PublicAddressPolicy();
  refuse(address: string) {
    return address === '127.0.0.1' ? undefined : this.prod.refuse(address);
  }
}

t.test('production policy refuses internal targets before any connection', async (t) => {
  const transport = new RecordingTransport();
  const allowed = ['127.0.0.1', '10.0.0.1', '169.254.169.254', 'localhost', 'evil.example', 'mixed.example', '[::1]', '::1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '192.168.1.10', '172.16.0.1', '100.64.0.1', 'fd00::1', 'fe80::1', '0.0.0.0'];
  const resolver = new FakeResolver({ 'evil.example': [['127.0.0.1']], 'mixed.example': [['93.184.216.34', '10.0.0.1']] });
  const prod = (r: HostResolver) => new SafeWebhookClient({ allowedHosts: allowed, policy: new PublicAddressPolicy(), resolver: r, transport });
  const cases: [string, HostResolver][] = [
    ['https://127.0.0.1/hook', resolver],
    ['https://10.0.0.1/hook', resolver],
    ['https://169.254.169.254/latest/meta-data/', resolver],
    ['https://localhost/hook', new SystemResolver()], // real DNS: localhost → loopback
    ['https://evil.example/hook', resolver], // custom lookup → loopback
    ['https://mixed.example/hook', resolver], // one public, one private answer
    ['https://[::1]/hook', resolver],
    ['https://[::ffff:127.0.0.1]/hook', resolver], // normalised by URL to ::ffff:7f00:1
    ['https://[::ffff:a9fe:a9fe]/hook', resolver], // 169.254.169.254 in IPv4-mapped hex
    ['https://192.168.1.10/hook', resolver],
    ['https://172.16.0.1/hook', resolver],
    ['https://100.64.0.1/hook', resolver],
    ['https://[fd00::1]/hook', resolver],
    ['https://[fe80::1]/hook', resolver],
    ['https://0.0.0.0/hook', resolver],
  ];
  for (const [url, r] of cases) {
    await t.rejects(prod(r).post(url, { x: 1 }), { name: 'WebhookRefused', code: 'address_refused' }, `${url} refused`);
  }
  t.equal(transport.calls.length, 0, 'no connection was ever attempted');

  const c = prod(resolver);
  await t.rejects(c.post('https://not-listed.example/hook', {}), { code: 'host_not_allowed' }, 'host outside the allowlist');
  await t.rejects(c.post('https://sub.evil.example/hook', {}), { code: 'host_not_allowed' }, 'subdomain not implied by an exact entry');
  await t.rejects(c.post('http://evil.example/hook', {}), { code: 'bad_url' }, 'plain http refused in production');
  await t.rejects(c.post('https://user:pw@evil.example/hook', {}), { code: 'bad_url' }, 'credentials in URL refused');
  await t.rejects(c.post('file:///etc/passwd', {}), { code: 'bad_url' }, 'other schemes refused');
  await t.rejects(c.post('not a url', {}), { code: 'bad_url' });
  t.equal(transport.calls.length, 0, 'still no connection');

  const policy = new PublicAddressPolicy();
  t.equal(policy.refuse('93.184.216.34'), undefined, 'a public IPv4 address is allowed');
  t.equal(policy.refuse('2a00:1450:4007:80e::200e'), undefined, 'a public IPv6 address is allowed');
});

t.test('the resolved address is pinned: resolved once, connected to exactly that', async (t) => {
  // First answer public, second (rebinding) internal: the client must never look again.
  const resolver = new FakeResolver({ 'hooks.example.org': [['93.184.216.34'], ['10.0.0.1']] });
  const transport = new RecordingTransport(undefined, 204); // fake transport: no packet leaves the machine
  const c = new SafeWebhookClient({ allowedHosts: ['*.example.org'], policy: new PublicAddressPolicy(), resolver, transport });
  await c.post('https://hooks.example.org/alert', { a: 1 });
  t.equal(resolver.lookups, 1, 'one DNS lookup');
  t.equal(transport.calls.length, 1);
  t.equal(transport.calls[0]!.address, '93.184.216.34', 'connection pinned to the vetted address');
  t.equal(transport.calls[0]!.url.hostname, 'hooks.example.org', 'host name kept for Host/SNI');
  await t.rejects(c.post('https://hooks.example.org/alert', {}), { code: 'address_refused' }, 'a later lookup answering 10.0.0.1 is refused');
  t.equal(transport.calls.length, 1, 'and not connected');
});

t.test('delivery to an allowlisted receiver; redirects never followed', async (t) => {
  const received: { path: string; host: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', host: req.headers.host ?? '', body });
      const m = /^\/redirect\/(.+)$/.exec(req.url ?? '');
      if (req.url === '/fail') res.writeHead(500).end();
      else if (m) res.writeHead(302, { location: `http://${decodeURIComponent(m[1]!)}/latest/meta-data/` }).end();
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;

  const transport = new RecordingTransport(new NodeHttpTransport());
  const client = new SafeWebhookClient({
    allowedHosts: ['hooks.test'],
    policy: new LoopbackForTestsPolicy(),
    resolver: new FakeResolver({ 'hooks.test': [['127.0.0.1']] }),
    transport,
    allowHttp: true,
  });
  await new WebhookNotifier(client, [`http://hooks.test:${port}/alert`]).send({
    kind: 'firing', at: new Date('2026-01-01T00:00:00Z'), appliance: 'https://officine.example',
    alert: { key: 'disk:/', rule: 'disk', severity: 'warning', title: 'Disque presque plein (/)', detail: 'utilisé à 90 %' },
  });
  t.equal(received.length, 1, 'delivered once');
  t.equal(received[0]!.host, `hooks.test:${port}`, 'Host header carries the name, not the pinned IP');
  t.match(JSON.parse(received[0]!.body), { source: 'officine-appliance', kind: 'firing', rule: 'disk', title: 'Disque presque plein (/)' }, 'JSON payload');

  for (const target of ['169.254.169.254', '10.0.0.1', '127.0.0.1']) {
    const before = transport.calls.length;
    const n = received.length;
    await t.rejects(client.post(`http://hooks.test:${port}/redirect/${encodeURIComponent(target)}`, {}), { code: 'redirect_refused' }, `redirect to ${target} refused`);
    t.equal(transport.calls.length - before, 1, `exactly one connection (the redirect to ${target} was not followed)`);
    t.equal(received.length - n, 1);
  }
  t.ok(transport.calls.every((c) => c.address === '127.0.0.1'), 'every connection went to the pinned receiver only');
  await t.rejects(client.post(`http://hooks.test:${port}/fail`, {}), { code: 'http_error' }, 'a 5xx answer is a delivery failure');
});
