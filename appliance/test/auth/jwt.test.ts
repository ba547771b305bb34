import { createHmac } from 'node:crypto';
import t from 'tap';
import { AccessTokenCodec } from '../../src/auth/access-token.js';
import { COOKIES } from '../../src/auth/cookies.js';
import { startTestApp } from '../helpers/app.js';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

t.test('access JWT: alg none, wrong key, expired, wrong typ/aud/iss → 401', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const s = await sessionFor(app.app, u.id);
  const good = /__Host-officine-at=([^;]+)/.exec(s.headers.cookie!)![1]!;
  const call = (token: string) => app.request('/api/auth/session', { headers: { cookie: `${COOKIES.access}=${token}` } });
  t.equal((await call(good)).status, 200, 'the genuine token works');

  const [, payload] = good.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`;
  t.equal((await call(none)).status, 401, 'alg none refused');
  const wrongKey = (h: object, c: object, key = Buffer.alloc(32, 7)) => {
    const hp = `${b64(h)}.${b64(c)}`;
    return `${hp}.${createHmac('sha256', key).update(hp).digest('base64url')}`;
  };
  t.equal((await call(wrongKey({ alg: 'HS256', typ: 'at+jwt' }, claims))).status, 401, 'wrong key refused');
  t.equal((await call(wrongKey({ alg: 'HS512', typ: 'at+jwt' }, claims))).status, 401, 'other algorithm refused');
  t.equal((await call(`${good.slice(0, -2)}AA`)).status, 401, 'tampered signature refused');

  // Same key, bad claims: signed with the real key via a codec whose clock lies.
  const key = Buffer.from(app.app.secrets.get('jwt-signing-key').toString().trim(), 'base64');
  const past = new AccessTokenCodec(key, { now: () => new Date(Date.now() - 3600_000) }, 600);
  const expired = await call(past.sign(u.id, s.sessionId, 'user').token);
  t.equal(expired.status, 401, 'expired refused');
  t.equal(((await expired.json()) as { error: { code: string } }).error.code, 'token_expired');
  const signed = (h: object, c: object) => wrongKey(h, c, key);
  t.equal((await call(signed({ alg: 'HS256', typ: 'JWT' }, claims))).status, 401, 'wrong typ refused');
  t.equal((await call(signed({ alg: 'HS256', typ: 'at+jwt' }, { ...claims, aud: 'other' }))).status, 401, 'wrong audience refused');
  t.equal((await call(signed({ alg: 'HS256', typ: 'at+jwt' }, { ...claims, iss: 'other' }))).status, 401, 'wrong issuer refused');
  t.equal((await call(signed({ alg: 'HS256', typ: 'at+jwt' }, { ...claims, exp: (claims.iat as number) + 3600 }))).status, 401, 'lifetime > 15 min refused');
  t.equal((await call(signed({ alg: 'HS256', typ: 'at+jwt' }, claims))).status, 200, 'control: same claims, right key and header accepted');

  const keyFile = app.app.secrets.path('jwt-signing-key');
  const { statSync } = await import('node:fs');
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'JWT key file is 0600');
});

t.test('the codec refuses short keys and long lifetimes at issue time', async (t) => {
  t.throws(() => new AccessTokenCodec(Buffer.alloc(16), { now: () => new Date() }, 600));
  const c = new AccessTokenCodec(Buffer.alloc(32, 1), { now: () => new Date() }, 600);
  const { token } = c.sign('u', 's', 'user');
  t.equal(c.verify(token).sub, 'u');
  t.ok(c.verify(token).exp - c.verify(token).iat <= 900, 'lifetime ≤ 15 min');
});
