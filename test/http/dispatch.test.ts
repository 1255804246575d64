/** The route index finds exactly the layer @koa/router itself would run, for every real route. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router } from '@koa/router';
import { federationRoutes } from '../../federation/routes/index.js';
import { clientApiRoutes } from '../../src/client-api/index.js';
import { routerPath } from '../../src/http/app.js';
import { RouteIndex } from '../../src/http/dispatch.js';
import type { Route } from '../../src/http/route.js';

function build(routes: readonly Route[]): { router: Router; index: RouteIndex<number> } {
  const router = new Router();
  const index = new RouteIndex<number>();
  routes.forEach((route, i) => {
    assert.equal(router.stack.length, i);
    const before = router.stack.length;
    router[route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](routerPath(route.path), async () => {});
    for (const layer of router.stack.slice(before)) index.add(layer, i);
  });
  return { router, index };
}

/** Concrete request paths for a route: parameters filled with awkward values, case and slash variants. */
function samples(path: string): string[] {
  const filled = [
    path.replace(/\{\w+\}/g, 'x'),
    path.replace(/\{\w+\}/g, '%21room%3Aexample.org'),
    path.replace(/\{\w+\}/g, '%FF'),
    path.replace(/\{\w+\}/g, 'a.b'),
  ];
  const out: string[] = [];
  for (const p of filled) out.push(p, `${p}/`, `${p}//`, p.toUpperCase(), `${p}/extra`, p.replace(/\/[^/]*$/, ''), p.replace('/v3/', '/r0/'));
  return out;
}

test('for every route and variant path, the index agrees with the router on route and params', () => {
  const routes = [...clientApiRoutes, ...federationRoutes];
  const { router, index } = build(routes);
  const paths = new Set<string>(['/', '', '/_matrix', '/_matrix/client', '/unknown/a/b/c/d/e', '/.well-known/matrix/client']);
  for (const r of routes) for (const p of samples(r.path)) paths.add(p);
  let matched = 0;
  for (const path of paths) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']) {
      const expected = router.match(path, method).pathAndMethod.find((layer) => layer.methods.length > 0);
      const got = index.match(method, path);
      if (!expected) {
        assert.equal(got, undefined, `${method} ${path}: no route expected`);
        continue;
      }
      matched++;
      assert.ok(got, `${method} ${path}: a route expected`);
      // One layer per route, registered in order: the layer's position is the route's.
      assert.equal(got.value, router.stack.indexOf(expected), `${method} ${path}: the same route`);
      assert.deepEqual(got.params, expected.params(path, expected.captures(path), {}), `${method} ${path}: same params`);
    }
  }
  assert.ok(matched > routes.length, `matched ${matched} method/path pairs`);
});
