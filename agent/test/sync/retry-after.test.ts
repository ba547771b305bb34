import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ChannelClient, TransportError } from '../../src/channel/channel-client.js';
import { parseRetryAfter } from '../../src/channel/http-post.js';
import { generateX25519 } from '../../src/protocol/channel-crypto.js';
import { AgentStore } from '../../src/store/agent-store.js';
import { backoffDelay, retryDelay } from '../../src/sync/sync-runner.js';

t.test('Retry-After is read as delta-seconds or an HTTP date, nothing else', async (t) => {
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);
  t.equal(parseRetryAfter('300', now), 300_000, 'seconds');
  t.equal(parseRetryAfter(' 0 ', now), 0);
  t.equal(parseRetryAfter(new Date(now + 90_000).toUTCString(), now), 90_000, 'HTTP date ahead');
  t.equal(parseRetryAfter(new Date(now - 90_000).toUTCString(), now), 0, 'HTTP date past: now');
  for (const bad of [undefined, '', '-5', '1.5', 'soon', '2025-06-01T12:00:00Z']) t.equal(parseRetryAfter(bad, now), undefined, `${JSON.stringify(bad)} ignored`);
});

t.test('a Retry-After is honoured, capped to the max backoff, with jitter; without one, the exponential backoff', async (t) => {
  const b = { baseMs: 1000, maxMs: 60_000 };
  // The appliance's read-only 503 says 300 s: the agent waits its max (60 s) at most, jittered below it.
  t.equal(retryDelay(b, 0, 300_000, () => 0), 60_000, 'capped to maxMs');
  t.equal(retryDelay(b, 0, 300_000, () => 0.999999), 48_001, 'at the cap the jitter goes below it: maxMs is never exceeded');
  t.equal(retryDelay(b, 7, 300_000, () => 0), 60_000, 'whatever the attempt number');
  // Under the cap, never sooner than the server asked.
  t.equal(retryDelay(b, 0, 5_000, () => 0), 5_000, 'a short Retry-After is waited in full');
  t.equal(retryDelay(b, 0, 5_000, () => 0.5), 5_500);
  t.equal(retryDelay(b, 0, 0, () => 0), 1_000, 'Retry-After: 0 is no busy loop (baseMs at least)');
  // Jitter spreads agents told the same thing.
  const delays = new Set(Array.from({ length: 50 }, () => retryDelay(b, 0, 300_000)));
  t.ok(delays.size > 40, `jittered (${delays.size} distinct delays out of 50)`);
  t.ok([...delays].every((d) => d > 48_000 && d <= 60_000), 'every delay in (0.8 × maxMs, maxMs]');
  t.equal(retryDelay(b, 0, 55_000, () => 0.999999), 60_000, 'near the cap: never sooner than asked, never past maxMs');
  t.equal(retryDelay(b, 3, undefined, () => 0.5), backoffDelay(b, 3, () => 0.5), 'no Retry-After: exponential backoff with full jitter');
  t.equal(retryDelay(b, 3, undefined, () => 0.5), 4_000);
});

t.test('the channel client reports a read-only 503 with its Retry-After and says the agent waits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'officine-agent-retry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let answer: { status: number; headers: Record<string, string> } = { status: 503, headers: { 'retry-after': '300', 'x-officine-read-only': '1' } };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify({ error: { code: 'read_only', message: 'Appliance en lecture seule.' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const store = new AgentStore(join(dir, 'agent'));
  store.createKey();
  const config = {
    profile: 'reference', source: { kind: 'sqlite' as const, path: join(dir, 'lgo.db') }, roots: [dir], batchSize: 10, pollSeconds: 60, maxSpoolMB: 10,
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, agentId: randomUUID(), serverPublicKey: generateX25519().publicKeyRaw.toString('base64url'),
  };
  const client = new ChannelClient(store, config, store.readState());

  const err = (await client.sendPayload({ type: 'hello', agentVersion: 'test' }).catch((e: unknown) => e)) as TransportError;
  t.type(err, TransportError);
  t.equal(err.status, 503);
  t.equal(err.retryAfterMs, 300_000, 'Retry-After carried to the sender');
  t.match(err.message, /lecture seule \(HTTP 503\).*file d’attente.*reprise automatique/, 'the message says the batches wait (shown by status)');

  answer = { status: 503, headers: {} };
  const plain = (await client.sendPayload({ type: 'hello', agentVersion: 'test' }).catch((e: unknown) => e)) as TransportError;
  t.equal(plain.retryAfterMs, undefined, 'no Retry-After: none invented');
  t.match(plain.message, /^serveur indisponible \(HTTP 503\)$/, 'an outage without the read-only marker is not called read-only');
});
