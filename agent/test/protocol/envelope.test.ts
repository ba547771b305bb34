import { randomUUID } from 'node:crypto';
import t from 'tap';
import { deriveEpochKey, Direction, generateX25519, nonceFor, sharedSecret } from '../../src/protocol/channel-crypto.js';
import { EnvelopeFormatError, openEnvelope, parseEnvelope, sealEnvelope, type EnvelopeHeader } from '../../src/protocol/envelope.js';

const agentId = randomUUID();
const agent = generateX25519();
const server = generateX25519();
const header = (over: Partial<EnvelopeHeader> = {}): EnvelopeHeader => ({ v: 1, dir: Direction.AgentToServer, agentId, epoch: 1, counter: 1, ts: Date.now(), ...over });

t.test('both ends derive the same per-epoch keys; epochs give unrelated keys', async (t) => {
  const a = sharedSecret(agent.privateKey, server.publicKeyRaw);
  const s = sharedSecret(server.privateKey, agent.publicKeyRaw);
  t.same(a, s, 'ECDH agrees');
  t.same(deriveEpochKey(a, agentId, 1), deriveEpochKey(s, agentId, 1));
  t.notSame(deriveEpochKey(a, agentId, 1), deriveEpochKey(a, agentId, 2), 'epoch 2 ≠ epoch 1');
  t.notSame(deriveEpochKey(a, agentId, 1), deriveEpochKey(a, randomUUID(), 1), 'bound to the agent id');
  t.throws(() => sharedSecret(agent.privateKey, Buffer.alloc(32)), 'low-order point refused');
});

t.test('nonces: direction and counter, never the same twice', async (t) => {
  t.equal(nonceFor(Direction.AgentToServer, 1).toString('hex'), '000000010000000000000001');
  t.equal(nonceFor(Direction.ServerToAgent, 1).toString('hex'), '000000020000000000000001', 'answers use their own nonce space');
  const seen = new Set<string>();
  for (let c = 1; c <= 1000; c++) for (const d of [Direction.AgentToServer, Direction.ServerToAgent]) seen.add(nonceFor(d, c).toString('hex'));
  t.equal(seen.size, 2000);
  t.throws(() => nonceFor(Direction.AgentToServer, 0));
  t.throws(() => nonceFor(Direction.AgentToServer, 1.5));
});

t.test('sealed envelopes: the header is authenticated, the body is compressed then encrypted', async (t) => {
  const key = deriveEpochKey(sharedSecret(agent.privateKey, server.publicKeyRaw), agentId, 1);
  const payload = { type: 'hello', agentVersion: 'x'.repeat(5000) };
  const env = sealEnvelope(key, header(), payload);
  t.ok(env.length < 1000, 'compressed before sealing');
  const parsed = parseEnvelope(env);
  t.same(JSON.parse(openEnvelope(key, parsed).toString('utf8')), payload, 'round trip');
  const other = parseEnvelope(Buffer.from(env.toString('latin1').replace('"counter":1', '"counter":2'), 'latin1'));
  t.throws(() => openEnvelope(key, other), 'changed counter in the header fails authentication');
  const wrongKey = deriveEpochKey(sharedSecret(agent.privateKey, server.publicKeyRaw), agentId, 2);
  t.throws(() => openEnvelope(wrongKey, parsed), 'wrong epoch key fails');
  t.throws(() => parseEnvelope(Buffer.from('OFA1\u0000\u0002{}' + 'x'.repeat(20))), EnvelopeFormatError);
  t.throws(() => parseEnvelope(sealEnvelope(key, { ...header(), extra: 1 } as EnvelopeHeader, payload)), 'unknown header field refused at seal');
  t.throws(() => sealEnvelope(key, header({ agentId: 'not-a-uuid' }), payload), EnvelopeFormatError);
});
