/** The open-files guard: the limit read from /proc, connections past the budget refused and logged, accept errors logged not thrown. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { connectionBudget, guardConnections, openFileLimit, RESERVED_FDS } from '../../src/http/connection-limit.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

test('openFileLimit reads the soft and hard limits; the budget keeps a reserve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comet-limits-'));
  const file = join(dir, 'limits');
  writeFileSync(
    file,
    'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n',
  );
  assert.deepEqual(openFileLimit(file), { soft: 20000, hard: 20000 });
  assert.equal(connectionBudget({ soft: 20000, hard: 20000 }), 20000 - RESERVED_FDS);
  assert.equal(openFileLimit(join(dir, 'missing')), undefined);
  assert.equal(connectionBudget(undefined), undefined);
  writeFileSync(file, 'Max open files            unlimited            unlimited            files\n');
  assert.equal(openFileLimit(file), undefined);
  // This process's own limit is readable on Linux.
  if (process.platform === 'linux') assert.ok((openFileLimit()?.soft ?? 0) > 0);
});

test('connections past the budget are refused and reported; EMFILE on accept is logged, not thrown', async () => {
  const { logger, lines } = capture();
  const server: Server = createServer((_req, res) => res.end('ok'));
  guardConnections(server, logger, 'client', 1);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
  const first = await open();
  const second = await open();
  const closed = await new Promise<boolean>((resolve) => {
    second.on('close', () => resolve(true));
    second.on('error', () => {});
  });
  assert.ok(closed, 'the connection past the budget is closed by the server');
  const deadline = Date.now() + 5000;
  while (!lines.some((l) => l.event === 'connections_refused') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const refused = lines.find((l) => l.event === 'connections_refused');
  assert.ok(refused, 'the refusal is logged');
  assert.equal(refused.dropped, 1);
  assert.equal(refused.max_connections, 1);

  // An accept error (the process is out of descriptors) must not crash the server.
  const err = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
  assert.doesNotThrow(() => server.emit('error', err));
  first.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});
