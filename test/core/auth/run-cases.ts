import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEventAuth } from '../../../src/core/auth/index.js';
import { type AuthCase, buildCaseRoom } from './fixtures.js';

/** Registers one node:test test per table row. */
export function runAuthCases(cases: readonly AuthCase[]): void {
  for (const c of cases) {
    test(`v${c.version}: ${c.name} → ${c.allow ? 'allow' : 'reject'}`, () => {
      const room = buildCaseRoom(c);
      const event = c.event(room);
      const result = checkEventAuth(room.version, event, room.lookup);
      const reason = result.allowed ? '' : result.reason;
      assert.equal(result.allowed, c.allow, `expected ${c.allow ? 'allow' : 'reject'}, got ${reason || 'allow'}`);
      if (!c.allow) {
        assert.ok(c.reason, 'every rejection case names the rule it expects');
        assert.match(reason, c.reason);
      }
    });
  }
}
