import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { IpPolicy } from '../../src/media/url-preview/ip-policy.js';
import { parseOpenGraph } from '../../src/media/url-preview/open-graph.js';
import { FetchFailed, FetchRefused, safeFetch } from '../../src/media/url-preview/safe-fetch.js';

test('the default policy refuses special-purpose addresses and allows public ones', () => {
  const p = new IpPolicy([], []);
  for (const a of [
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2002:7f00:1::1',
    'not an ip',
  ]) {
    assert.equal(p.isAllowed(a), false, a);
  }
  for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(p.isAllowed(a), true, a);
  }
});

test('the allow-list overrides the deny-list; extra deny ranges apply', () => {
  const p = new IpPolicy(['8.8.8.0/24'], ['127.0.0.1/32', 'fd00::/8']);
  assert.equal(p.isAllowed('127.0.0.1'), true);
  assert.equal(p.isAllowed('::ffff:127.0.0.1'), true);
  assert.equal(p.isAllowed('127.0.0.2'), false);
  assert.equal(p.isAllowed('fd00::5'), true);
  assert.equal(p.isAllowed('8.8.8.8'), false);
});

test('OpenGraph: og tags first, <title> and description as fallbacks, entities decoded', () => {
  const og = parseOpenGraph(`<html><head><title>Fallback &amp; title</title>
    <meta property="og:title" content="The &quot;real&quot; title">
    <meta content='A site' property='og:site_name'/>
    <meta name="description" content="  Plain   description ">
    <meta property="og:image" content="https://example.org/a.png">
  </head></html>`);
  assert.deepEqual(og, {
    'og:title': 'The "real" title',
    'og:site_name': 'A site',
    'og:image': 'https://example.org/a.png',
    'og:description': 'Plain description',
  });
  assert.deepEqual(parseOpenGraph('<title>Only &#x41;&#66;</title>'), { 'og:title': 'Only AB' });
  assert.deepEqual(parseOpenGraph('no html at all'), {});
});

let server: Server;
let port: number;
before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/page') return res.end('<title>hi</title>');
    if (req.url === '/redirect-blocked') {
      res.writeHead(302, { location: `http://127.0.0.2:${port}/page` });
      return res.end();
    }
    if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' });
      return res.end();
    }
    if (req.url === '/big') return res.end('x'.repeat(5000));
    if (req.url === '/hang') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const limits = { maxBytes: 1024, timeoutMs: 2000, maxRedirects: 3 };
const allowLocal = new IpPolicy([], ['127.0.0.1/32']);

test('safeFetch: addresses are checked after DNS resolution', async () => {
  const toLoopback = async () => ['127.0.0.1'];
  await assert.rejects(safeFetch(`http://innocent.example:${port}/page`, new IpPolicy([], []), limits, toLoopback), FetchRefused);
  // One bad address among several is enough to refuse.
  const mixed = async () => ['93.184.216.34', '10.0.0.1'];
  await assert.rejects(safeFetch('http://mixed.example/', new IpPolicy([], []), limits, mixed), FetchRefused);
  const ok = await safeFetch(`http://innocent.example:${port}/page`, allowLocal, limits, toLoopback);
  assert.equal(ok.body.toString(), '<title>hi</title>');
});

test('safeFetch: schemes, redirects, size and time are bounded', async () => {
  await assert.rejects(safeFetch('file:///etc/passwd', allowLocal, limits), FetchRefused);
  await assert.rejects(safeFetch(`http://user:pw@127.0.0.1:${port}/page`, allowLocal, limits), FetchRefused);
  await assert.rejects(safeFetch(`http://127.0.0.1:${port}/redirect-blocked`, allowLocal, limits), FetchRefused);
  await assert.rejects(safeFetch(`http://127.0.0.1:${port}/loop`, allowLocal, limits), FetchFailed);
  await assert.rejects(safeFetch(`http://127.0.0.1:${port}/big`, allowLocal, limits), FetchFailed);
  await assert.rejects(safeFetch(`http://127.0.0.1:${port}/hang`, allowLocal, { ...limits, timeoutMs: 200 }), FetchFailed);
  await assert.rejects(safeFetch(`http://127.0.0.1:${port}/missing`, allowLocal, limits), FetchFailed);
});
