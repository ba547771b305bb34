import t, { type Test } from 'tap';
import { startTestApp } from '../helpers/app.js';
import { HTML_ONLY_HEADERS } from '../../src/http/security-headers.middleware.js';

const boom = (router: Parameters<import('../../src/http/app.js').RouteRegistrar>[0]) => {
  router.get('/api/test/boom', () => {
    throw new Error('secret internal detail at /work/main/appliance/src/x.ts');
  });
  router.post('/api/test/echo', (ctx) => {
    ctx.body = { got: ctx.request.body };
  });
};

const API_CSP = "default-src 'none'";

function assertCommonHeaders(t: Test, res: Response, what: string) {
  t.equal(res.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains', `${what}: HSTS`);
  t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  t.equal(res.headers.get('referrer-policy'), 'no-referrer', `${what}: referrer policy`);
  t.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin', `${what}: CORP`);
  t.equal(res.headers.get('x-powered-by'), null, `${what}: no X-Powered-By`);
  t.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, `${what}: frame-ancestors none`);
  t.notMatch(res.headers.get('content-security-policy') ?? '', /unsafe-inline|unsafe-eval/, `${what}: no unsafe-*`);
  t.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, `${what}: request id`);
}

t.test('security headers on UI, API and error responses', async (t) => {
  const app = await startTestApp(t, {}, { extraRoutes: [(r) => boom(r)] });

  const ui = await app.request('/');
  t.equal(ui.status, 200, 'UI page served');
  t.match(ui.headers.get('content-type') ?? '', /text\/html/);
  assertCommonHeaders(t, ui, 'UI');
  const uiCsp = ui.headers.get('content-security-policy') ?? '';
  t.match(uiCsp, /default-src 'self'/, 'UI CSP allows only self');
  t.match(uiCsp, /script-src 'self'(;|$)/, 'UI scripts only from self');
  const html = await ui.text();
  t.match(html, /lang="fr"/, 'French page');
  t.notMatch(html, /<script>(?!<)/, 'no inline script');
  t.notMatch(html, /style=|<style/, 'no inline style');
  const asset = html.match(/\/assets\/(app-[A-Z0-9]+\.js)/)?.[1];
  t.ok(asset, 'hashed script asset referenced');
  const js = await app.request(`/assets/${asset}`);
  t.equal(js.status, 200, 'asset served');
  t.match(js.headers.get('cache-control') ?? '', /immutable/, 'hashed asset cached long');

  const api = await app.request('/healthz');
  t.equal(api.status, 200);
  assertCommonHeaders(t, api, 'API');
  t.match(api.headers.get('content-security-policy') ?? '', API_CSP, 'API CSP default-src none');
  t.equal(api.headers.get('x-frame-options'), 'DENY', 'API: X-Frame-Options DENY (OWASP REST list)');
  // Document-only headers: on the UI page, not on JSON (see HTML_ONLY_HEADERS).
  for (const h of HTML_ONLY_HEADERS) {
    t.ok(ui.headers.get(h), `UI carries ${h}`);
    t.equal(api.headers.get(h), null, `API omits the document-only ${h}`);
  }
  t.equal(ui.headers.get('x-frame-options'), 'DENY', 'UI: X-Frame-Options DENY');

  const notFound = await app.request('/api/nope/../../etc/passwd');
  t.equal(notFound.status, 404);
  assertCommonHeaders(t, notFound, '404');
  const nfText = await notFound.text();
  t.notMatch(nfText, /passwd|\/etc\/|\/work\/|appliance\/src|stack/i, '404 body names no path, file or stack');
  const nf = JSON.parse(nfText) as { error: { code: string; message: string } };
  t.same(Object.keys(nf.error).sort(), ['code', 'message', 'requestId'].filter((k) => k in nf.error).sort(), 'only code, message (and request id)');
  t.equal(nf.error.code, 'not_found');
  t.equal(nf.error.message, 'Ressource introuvable.');

  const err = await app.request('/api/test/boom');
  t.equal(err.status, 500);
  assertCommonHeaders(t, err, '500');
  const body = await err.text();
  t.notMatch(body, /secret internal detail|\/work\/|appliance\/src|at [A-Za-z.]+ \(|stack/i, 'no stack, path or internal message');
  t.match(JSON.parse(body), { error: { code: 'internal_error' } });
});

t.test('body size limit answers 413 with the JSON error', async (t) => {
  const app = await startTestApp(t, { BODY_LIMIT_KB: '16' }, { extraRoutes: [(r) => boom(r)] });
  const small = await app.request('/api/test/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: 'x'.repeat(1000) }),
  });
  t.equal(small.status, 200, 'small body accepted');
  const big = await app.request('/api/test/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: 'x'.repeat(64 * 1024) }),
  });
  t.equal(big.status, 413);
  const b = (await big.json()) as { error: { code: string; message: string } };
  t.equal(b.error.code, 'payload_too_large');
  t.equal(b.error.message, 'Requête trop volumineuse.');
  t.equal(big.headers.get('x-content-type-options'), 'nosniff', 'headers on 413 too');
});
