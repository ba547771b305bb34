import t from 'tap';
import { Router } from '@koa/router';
import { buildRouter } from '../../src/http/app.js';
import { literalPrefix, PrefixRouter } from '../../src/http/prefix-router.js';
import { startTestApp } from '../helpers/app.js';

/**
 * PrefixRouter must route exactly like @koa/router: it only skips layers that cannot
 * match. Compared here on the appliance's real router, for concrete, altered and
 * foreign paths under every method.
 */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const ID = '3f1c2a9e-8d7b-4c55-9a61-0c9e5f7d1b2a';

/** Paths a client might send for a declared pattern: the real one and near misses. */
function probes(pattern: string): string[] {
  const concrete = pattern.replace(/:[A-Za-z]+/g, ID);
  return [
    concrete,
    concrete.toUpperCase(), // case-insensitive by default
    `${concrete}/`, // trailing slash (non-strict)
    `${concrete}/extra`,
    concrete.slice(0, -1),
    concrete.replace('/api/', '/API/'),
    concrete.replace(/\/[^/]+$/, ''),
    concrete.replace(ID, '%2e%2e'),
  ];
}

/** @koa/router's own answer for the same stack. */
const stockMatch = (router: Router, path: string, method: string) => Router.prototype.match.call(router, path, method);

t.test('literal prefixes', async (t) => {
  const layer = (path: string | RegExp, sensitive = false) => ({ path, opts: { sensitive } }) as unknown as Parameters<typeof literalPrefix>[0];
  t.equal(literalPrefix(layer('/api/pharmacies/:pharmacyId/users')), '/api/pharmacies', 'cut at the first parameter, no trailing slash');
  t.equal(literalPrefix(layer('/api/Auth/Login')), '/api/auth/login', 'case-insensitive layer: lower-cased');
  t.equal(literalPrefix(layer('/api/Auth/Login', true)), '/api/Auth/Login', 'case-sensitive layer: kept');
  t.equal(literalPrefix(layer('/files{/:name}')), '/files', 'optional group');
  t.equal(literalPrefix(layer('/*rest')), '', 'wildcard at the root: no shortcut');
  t.equal(literalPrefix(layer(/^\/api\/x$/)), '', 'RegExp path: no shortcut');
  t.equal(literalPrefix(layer('/café/:id')), '', 'non-ASCII literal (may be encoded by the compiler): no shortcut');
  t.equal(literalPrefix(layer('/a b/:id')), '', 'space: no shortcut');
});

t.test('the appliance router matches exactly like @koa/router', async (t) => {
  const app = await startTestApp(t);
  const router = buildRouter(app.app);
  t.ok(router instanceof PrefixRouter, 'the app routes through PrefixRouter');
  const patterns = router.stack.map((l) => String(l.path));
  const paths = [...new Set([...patterns.flatMap(probes), '/', '/api', '/api/', '/healthz', '/unknown', '/api/unknown/route'])];
  let compared = 0;
  let routed = 0;
  for (const path of paths) {
    for (const method of METHODS) {
      const ours = router.match(path, method);
      const stock = stockMatch(router, path, method);
      const same = ours.route === stock.route && ours.path.length === stock.path.length && ours.path.every((l, i) => l === stock.path[i]) && ours.pathAndMethod.length === stock.pathAndMethod.length && ours.pathAndMethod.every((l, i) => l === stock.pathAndMethod[i]);
      if (!same) t.fail(`${method} ${path}: differs from @koa/router`);
      compared++;
      if (stock.route) routed++;
    }
  }
  t.ok(routed > patterns.length, `${routed} of ${compared} probes routed (every declared route reachable)`);
  t.pass(`${compared} (path, method) pairs compared`);
});

t.test('a layer added after the first request is seen', async (t) => {
  const router = new PrefixRouter();
  router.get('/a/:id', (ctx) => void (ctx.body = 'a'));
  t.equal(router.match('/a/1', 'GET').route, true);
  t.equal(router.match('/b/1', 'GET').route, false, 'unknown path not routed');
  router.get('/b/:id', (ctx) => void (ctx.body = 'b'));
  t.equal(router.match('/b/1', 'GET').route, true, 'index rebuilt when the stack grows');
  t.equal(router.match('/b/1', 'POST').route, false, 'method still checked');
  t.equal(router.match('/b/1', 'POST').path.length, 1, 'path match without method kept (allowedMethods answers 405)');
  router.get('/c/d/:id', (ctx) => void (ctx.body = 'c'));
  // A client probing many distinct paths fills the per-head cache; routing stays exact after it.
  let wrong = 0;
  for (let i = 0; i < 2000; i++) if (router.match(`/probe${i}/x/y`, 'GET').path.length !== 0) wrong++;
  t.equal(wrong, 0, '2000 unknown heads: none routed');
  t.equal(router.match('/a/2', 'GET').route, true, 'a head cached before still routes');
  t.equal(router.match('/C/D/9', 'GET').route, true, 'a head first seen once the cache is full routes too');
  t.equal(router.match('/c/e/9', 'GET').route, false, 'and a near miss does not');
});
