/** The access log's hand-formatted line is the line pino itself writes for the same fields. */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accessLog, createLogger } from '../../src/logger.js';

test('access log lines match what pino writes, with awkward paths and without a user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comet-log-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  try {
    const logger = createLogger('info', fd);
    const log = accessLog(logger);
    const lines = [
      { reqId: 'ab12cd-1', method: 'GET', path: '/_matrix/client/v3/sync', status: 200, ms: 12.3, user: '@alice:example.org' },
      { reqId: 'ab12cd-2z', method: 'PUT', path: '/a/"quoted"\\back\u0001slash/é', status: 404, ms: 0, user: undefined },
      { reqId: 'ab12cd-3', method: 'POST', path: '/x', status: 500, ms: 1234.5, user: '@"odd\\user":x' },
    ];
    for (const line of lines) {
      log(line);
      logger.info(line, 'request');
    }
    // Lines are written at the end of the turn; flush now.
    logger.flush();
  } finally {
    closeSync(fd);
  }
  const written = readFileSync(file, 'utf8').trimEnd().split('\n');
  rmSync(dir, { recursive: true, force: true });
  assert.equal(written.length, 6);
  const withoutTime = (l: string) => l.replace(/,"time":"[^"]+"/, '');
  for (let i = 0; i < written.length; i += 2) {
    assert.equal(withoutTime(written[i]), withoutTime(written[i + 1]));
    assert.match(written[i], /^\{"level":30,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",/);
  }
});

test('a logger above info writes no access lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comet-log-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  try {
    accessLog(createLogger('warn', fd))({ reqId: 'x-1', method: 'GET', path: '/', status: 200, ms: 1, user: undefined });
  } finally {
    closeSync(fd);
  }
  assert.equal(readFileSync(file, 'utf8'), '');
  rmSync(dir, { recursive: true, force: true });
});
