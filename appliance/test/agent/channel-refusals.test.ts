import { randomUUID } from 'node:crypto';
import t from 'tap';
import { Direction, generateX25519, sharedSecret, type X25519KeyPair } from '../../../agent/src/protocol/channel-crypto.js';
import { ENVELOPE_CONTENT_TYPE, EpochKeys, openEnvelope, parseEnvelope, sealEnvelope } from '../../../agent/src/protocol/envelope.js';
import { AGENT_API, serverMessageSchema } from '../../../agent/src/protocol/messages.js';
import { agentChannelService } from '../../src/agent-channel/agent-channel.factory.js';
import { allJobs } from '../../src/scheduler/all-jobs.js';
import { createPharmacy, enrolmentCode, refusalReasons, startChannelApp, type ChannelTestApp } from './helpers.js';

const postJson = (srv: ChannelTestApp, path: string, json: unknown) =>
  fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });

/** A hand-driven agent: enrols over HTTP, then crafts envelopes with any header it likes. */
class RawAgent {
  keys!: EpochKeys;
  id!: string;
  counter = 0;
  constructor(
    readonly srv: ChannelTestApp,
    readonly kp: X25519KeyPair = generateX25519(),
  ) {}

  async enrol(pharmacyId: string): Promise<void> {
    const res = await postJson(this.srv, AGENT_API.enrol, { code: await enrolmentCode(this.srv.app, pharmacyId), agentPublicKey: this.kp.publicKeyRaw.toString('base64url') });
    const body = (await res.json()) as { agentId: string; serverPublicKey: string };
    this.id = body.agentId;
    this.keys = new EpochKeys(sharedSecret(this.kp.privateKey, Buffer.from(body.serverPublicKey, 'base64url')), this.id);
  }

  envelope(over: { counter?: number; epoch?: number; ts?: number; agentId?: string } = {}): Buffer {
    const counter = over.counter ?? ++this.counter;
    const epoch = over.epoch ?? 1;
    return sealEnvelope(this.keys.key(epoch), { v: 1, dir: Direction.AgentToServer, agentId: over.agentId ?? this.id, epoch, counter, ts: over.ts ?? Date.now() + this.srv.clock.offsetMs }, { type: 'hello', agentVersion: 'test' });
  }

  post(body: Buffer): Promise<Response> {
    return fetch(this.srv.url + AGENT_API.messages, { method: 'POST', headers: { 'content-type': ENVELOPE_CONTENT_TYPE }, body });
  }

  async answer(res: Response): Promise<{ epoch: number; counter: number; msg: unknown }> {
    const env = parseEnvelope(Buffer.from(await res.arrayBuffer()));
    return { epoch: env.header.epoch, counter: env.header.counter, msg: serverMessageSchema.parse(JSON.parse(openEnvelope(this.keys.key(env.header.epoch), env).toString('utf8'))) };
  }
}

t.test('every refusal of the channel has its own status, code and logged reason', async (t) => {
  const srv = await startChannelApp(t);
  const pharmacyId = await createPharmacy(srv.ds);
  const agent = new RawAgent(srv);
  await agent.enrol(pharmacyId);

  const refused = async (body: Buffer, status: number, code: string, what: string) => {
    const before = refusalReasons(srv.logs).length;
    const res = await agent.post(body);
    t.equal(res.status, status, `${what}: HTTP ${status}`);
    const err = ((await res.json()) as { error: { code: string; details?: Record<string, unknown> } }).error;
    t.equal(err.code, code, `${what}: code ${code}`);
    t.same(refusalReasons(srv.logs).slice(before), [code], `${what}: logged once with reason ${code}`);
    return err;
  };

  const first = agent.envelope();
  const ok = await agent.post(first);
  t.equal(ok.status, 200, 'a well-formed message is accepted');
  t.match((await agent.answer(ok)).msg, { type: 'ack', epoch: 1 }, 'sealed ack');

  await refused(first, 409, 'replay', 'the exact same message again');

  const five = agent.envelope({ counter: 5 });
  t.equal((await agent.post(five)).status, 200, 'counter may jump ahead');
  const below = await refused(agent.envelope({ counter: 3 }), 409, 'counter_below_hwm', 'a fresh message with a counter below the mark');
  t.equal(below.details?.highWaterMark, 5, 'the mark is given so an honest agent can catch up');
  await refused(agent.envelope({ counter: 5 }), 409, 'counter_below_hwm', 'a fresh message reusing the last counter');
  agent.counter = 5;

  const tampered = agent.envelope();
  tampered[tampered.length - 20]! ^= 0x01;
  await refused(tampered, 400, 'decrypt_failed', 'one flipped ciphertext bit');
  const headerTampered = Buffer.from(agent.envelope().toString('latin1').replace(/"ts":(\d+)/, (_m, d: string) => `"ts":${Number(d) + 1}`), 'latin1');
  await refused(headerTampered, 400, 'decrypt_failed', 'a header (AAD) byte changed');
  const swapped = agent.envelope();
  const other = agent.envelope();
  const mixed = Buffer.concat([swapped.subarray(0, swapped.length - 16), other.subarray(other.length - 16)]);
  await refused(mixed, 400, 'decrypt_failed', 'a tag from another message');

  await refused(agent.envelope({ ts: Date.now() - 3_600_000 }), 400, 'timestamp_stale', 'a timestamp an hour old');
  await refused(agent.envelope({ ts: Date.now() + 3_600_000 }), 400, 'timestamp_stale', 'a timestamp an hour ahead');

  await refused(agent.envelope({ agentId: randomUUID() }), 401, 'agent_unknown', 'an agent id nobody enrolled');
  await refused(Buffer.from('not an envelope at all'), 400, 'envelope_malformed', 'garbage');

  await agentChannelService(srv.app).rotateEpoch(agent.id);
  const stale = await refused(agent.envelope({ epoch: 1 }), 409, 'epoch_stale', 'the old epoch after rotation');
  t.equal(stale.details?.currentEpoch, 2);
  const notice = parseEnvelope(Buffer.from(stale.details!.notice as string, 'base64'));
  t.same(serverMessageSchema.parse(JSON.parse(openEnvelope(agent.keys.key(notice.header.epoch), notice).toString('utf8'))), { type: 'epoch', epoch: 2 }, 'the new epoch is told in a sealed notice');
  await refused(agent.envelope({ epoch: 3 }), 409, 'epoch_unknown', 'an epoch ahead of the server');
  const e2 = await agent.post(agent.envelope({ epoch: 2 }));
  const lastAccepted = agent.counter;
  t.equal(e2.status, 200, 'the new epoch is accepted');
  t.equal((await agent.answer(e2)).epoch, 2);

  const revokedAgent = new RawAgent(srv);
  await revokedAgent.enrol(pharmacyId);
  t.equal((await revokedAgent.post(revokedAgent.envelope())).status, 200);
  await agentChannelService(srv.app).revoke(pharmacyId, revokedAgent.id, null);
  const before = refusalReasons(srv.logs).length;
  const r = await revokedAgent.post(revokedAgent.envelope());
  t.equal(r.status, 403);
  t.equal(((await r.json()) as { error: { code: string } }).error.code, 'agent_revoked');
  t.same(refusalReasons(srv.logs).slice(before), ['agent_revoked'], 'revoked agent: logged reason agent_revoked');

  t.same(
    [...new Set(refusalReasons(srv.logs))].sort(),
    ['agent_revoked', 'agent_unknown', 'counter_below_hwm', 'decrypt_failed', 'envelope_malformed', 'epoch_stale', 'epoch_unknown', 'replay', 'timestamp_stale'],
    'each refusal logged under its own reason',
  );
  const [mark] = (await srv.ds.query(`SELECT high_water::int AS hw FROM agent_channel_marks WHERE agent_id = $1`, [agent.id])) as { hw: number }[];
  t.equal(mark!.hw, lastAccepted, 'refused messages never moved the high-water mark');
});

t.test('scheduled rotation: due epochs rotate, and the ack carries the new epoch', async (t) => {
  const srv = await startChannelApp(t, { AGENT_EPOCH_HOURS: '1' });
  const pharmacyId = await createPharmacy(srv.ds);
  const a = new RawAgent(srv);
  await a.enrol(pharmacyId);
  const b = new RawAgent(srv);
  await b.enrol(pharmacyId);
  t.equal(await agentChannelService(srv.app).rotateDueEpochs(), 0, 'nothing due yet');
  srv.clock.offsetMs = 2 * 3_600_000;
  const res = await a.post(a.envelope());
  t.equal(res.status, 200);
  const ans = await a.answer(res);
  t.match(ans, { epoch: 2, msg: { type: 'ack', epoch: 2 } }, 'a message past the epoch lifetime gets an ack sealed under the next epoch');
  const job = allJobs(srv.app, srv.dbUrl).find((j) => j.name === 'agents.rotate-epochs');
  t.ok(job, 'the rotation is a scheduler job');
  t.same(await job!.run({ app: srv.app, runId: 'test', signal: new AbortController().signal }), { rotated: 1 }, 'the scheduled job rotates the other agent');
  t.equal((await b.post(b.envelope({ epoch: 1 }))).status, 409, 'its old epoch is then refused');
  const epochs = (await srv.ds.query(`SELECT epoch, retired_at IS NOT NULL AS retired FROM agent_key_epochs WHERE agent_id = $1 ORDER BY epoch`, [a.id])) as { epoch: number; retired: boolean }[];
  t.same(epochs, [{ epoch: 1, retired: true }, { epoch: 2, retired: false }], 'epoch history kept');
});

t.test('enrolment codes are single-use, expire, and are stored hashed', async (t) => {
  const srv = await startChannelApp(t, { AGENT_ENROL_CODE_TTL_HOURS: '1', RATE_LIMIT_PUBLIC_PER_MIN: '10' });
  const post = (json: unknown) => fetch(srv.url + AGENT_API.enrol, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  const pharmacyId = await createPharmacy(srv.ds);
  const code = await enrolmentCode(srv.app, pharmacyId);
  t.match(code, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
  const rows = (await srv.ds.query(`SELECT encode(code_hash, 'hex') AS h FROM agent_enrolment_codes WHERE pharmacy_id = $1`, [pharmacyId])) as { h: string }[];
  t.notMatch(JSON.stringify(rows), code.replace(/-/g, ''), 'code not stored in clear');
  const k = () => generateX25519().publicKeyRaw.toString('base64url');
  const r1 = await post({ code: code.toLowerCase(), agentPublicKey: k() });
  t.equal(r1.status, 200, 'code accepted (case-insensitive)');
  const r2 = await post({ code, agentPublicKey: k() });
  t.equal(r2.status, 401, 'second use refused');
  t.equal(((await r2.json()) as { error: { code: string } }).error.code, 'enrolment_code_invalid');
  const late = await enrolmentCode(srv.app, pharmacyId);
  srv.clock.offsetMs = 2 * 3_600_000;
  t.equal((await post({ code: late, agentPublicKey: k() })).status, 401, 'expired code refused');
  srv.clock.offsetMs = 0;
  const fresh = await enrolmentCode(srv.app, pharmacyId);
  t.equal((await post({ code: fresh, agentPublicKey: Buffer.alloc(32).toString('base64url') })).status, 422, 'low-order (all-zero) agent key refused');
  t.equal((await post({ code: fresh, agentPublicKey: k() })).status, 200, 'the code was not burnt by the refused key');
  t.notOk(JSON.stringify(srv.logs).includes(code), 'no code in the log');
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await post({ code: 'AAAAA-BBBBB-CCCCC-DDDDD', agentPublicKey: k() })).status);
  t.equal(statuses[0], 401, 'a wrong code is refused');
  t.equal(statuses.at(-1), 429, 'guessing is throttled per client IP');
});
