import t from 'tap';
import { migrateDown, migrateUp } from '../../src/db/migrator.js';
import { renderSecurityTxt } from '../../src/ops/security-txt.routes.js';
import { startTestApp } from '../helpers/app.js';

t.test('healthz and readyz', async (t) => {
  const app = await startTestApp(t);
  const h = await app.request('/healthz');
  t.equal(h.status, 200);
  t.same(await h.json(), { status: 'ok' });
  const r = await app.request('/readyz');
  t.equal(r.status, 200);
  t.same(await r.json(), { status: 'ready' }, 'minimal body, no internals');

  await migrateDown(app.app.db, 1);
  const pending = await app.request('/readyz');
  t.equal(pending.status, 503, 'not ready while a migration is pending');
  t.same(await pending.json(), { status: 'not_ready' });
  await migrateUp(app.app.db);
  t.equal((await app.request('/readyz')).status, 200, 'ready again');
});

t.test('readyz is 503 when the database is unreachable', async (t) => {
  const app = await startTestApp(t);
  await app.app.db.destroy();
  const r = await app.request('/readyz');
  t.equal(r.status, 503);
  t.same(await r.json(), { status: 'not_ready' });
});

t.test('security.txt follows RFC 9116', async (t) => {
  const app = await startTestApp(t, {
    PUBLIC_URL: 'https://officine.example.fr',
    SECURITY_CONTACT: 'mailto:securite@groupement.example.fr',
    SECURITY_TXT_EXPIRES: '2027-06-01T00:00:00Z',
  });
  const r = await app.request('/.well-known/security.txt');
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type') ?? '', /^text\/plain; charset=utf-8/);
  const body = await r.text();
  t.match(body, /^Contact: mailto:securite@groupement\.example\.fr$/m);
  t.match(body, /^Expires: 2027-06-01T00:00:00Z$/m);
  t.match(body, /^Preferred-Languages: fr, en$/m);
  t.match(body, /^Canonical: https:\/\/officine\.example\.fr\/\.well-known\/security\.txt$/m);
  t.match(body, /^Policy: https:\/\/officine\.example\.fr\//m);
});

t.test('security.txt Expires defaults to less than a year ahead', async (t) => {
  const now = new Date('2026-11-21T10:00:00Z');
  const txt = renderSecurityTxt(
    { PUBLIC_URL: 'https://a.example', SECURITY_CONTACT: 'mailto:a@a.example' } as Parameters<typeof renderSecurityTxt>[0],
    now,
  );
  const exp = new Date(txt.match(/^Expires: (.+)$/m)![1]!);
  t.ok(exp > now && exp.getTime() - now.getTime() < 365 * 86400e3);
});
