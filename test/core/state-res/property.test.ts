/**
 * Property: the resolution depends only on the states and the events, not on the order the
 * state sets are given in, the order of entries inside each state map, nor the order events
 * were stored in the lookup. Random rooms are grown from a seeded PRNG (deterministic), with
 * random forks, random (auth-checked) actions on each branch, and merges along the way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoomEvent, StateKey, StateMap } from '../../../src/core/pdu.js';
import { resolveState } from '../../../src/core/state-res/index.js';
import { type Branch, Dag } from './dag.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USERS = ['@alice:a.test', '@bob:b.test', '@carol:c.test', '@dave:d.test', '@eve:e.test', '@frank:f.test'];

function randomRoom(version: string, seed: number): { d: Dag; sets: StateMap[] } {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const d = new Dag(version, USERS[0]);
  const levels: Record<string, number> = {};
  for (const u of USERS.slice(1)) levels[u] = pick([0, 0, 25, 50, 75]);
  let trunk = d.start(levels);
  for (const u of USERS.slice(1)) if (rnd() < 0.8) d.join(trunk, u);

  const act = (b: Branch): void => {
    const sender = pick(USERS);
    const target = pick(USERS);
    const r = rnd();
    if (r < 0.2) {
      d.tryAdd(b, { type: 'm.room.topic', stateKey: '', sender, content: { topic: `t${Math.floor(rnd() * 1e6)}` } });
    } else if (r < 0.35) {
      const users: Record<string, number> = { ...levels };
      users[target] = pick([0, 25, 50, 75, 100]);
      d.tryAdd(b, {
        type: 'm.room.power_levels',
        stateKey: '',
        sender,
        content: { users, users_default: 0, events: {}, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
      });
    } else if (r < 0.75) {
      const membership = pick(['join', 'join', 'leave', 'ban', 'invite']);
      const who = membership === 'join' || rnd() < 0.3 ? sender : target;
      d.tryAdd(b, { type: 'm.room.member', stateKey: who, sender, content: { membership } });
    } else if (r < 0.85) {
      d.tryAdd(b, { type: 'm.room.join_rules', stateKey: '', sender, content: { join_rule: pick(['public', 'invite']) } });
    } else {
      d.tryAdd(b, { type: 'm.room.name', stateKey: '', sender, content: { name: `n${Math.floor(rnd() * 100)}` } });
    }
  };

  for (let round = 0; round < 3; round++) {
    const branches = Array.from({ length: 2 + Math.floor(rnd() * 2) }, () => d.fork(trunk));
    for (const b of branches) for (let i = Math.floor(rnd() * 8); i > 0; i--) act(b);
    trunk = d.merge(...branches);
    for (let i = Math.floor(rnd() * 3); i > 0; i--) act(trunk);
  }
  const finals = Array.from({ length: 2 + Math.floor(rnd() * 3) }, () => d.fork(trunk));
  for (const b of finals) for (let i = 1 + Math.floor(rnd() * 10); i > 0; i--) act(b);
  return { d, sets: finals.map((b) => b.state) };
}

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function sortedEntries(s: StateMap): Array<[StateKey, string]> {
  return [...s.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

for (const version of ['1', '11', '12']) {
  test(`room version ${version}: resolution ignores input and lookup order (200 random rooms)`, () => {
    let conflictedRooms = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { d, sets } = randomRoom(version, seed * 7919 + Number(version));
      const expected = sortedEntries(resolveState(d.version, sets, d.lookup));
      const differ = sets.some((s) => sortedEntries(s).join() !== sortedEntries(sets[0]).join());
      if (differ) conflictedRooms++;
      const rnd = mulberry32(seed);
      for (let trial = 0; trial < 4; trial++) {
        const events = new Map<string, RoomEvent>(shuffled([...d.events.entries()], rnd));
        const shuffledSets = shuffled(sets, rnd).map((s) => new Map(shuffled([...s.entries()], rnd)));
        const actual = resolveState(d.version, shuffledSets, (id) => events.get(id));
        assert.deepEqual(sortedEntries(actual), expected, `seed ${seed}, trial ${trial}`);
      }
    }
    // The generator must actually produce conflicts for the property to mean anything.
    assert.ok(conflictedRooms > 150, `only ${conflictedRooms} rooms had conflicting states`);
  });
}

test('v2 and v2.1: every unconflicted entry is in the result, every value comes from the inputs’ events', () => {
  for (const version of ['11', '12']) {
    for (let seed = 1; seed <= 100; seed++) {
      const { d, sets } = randomRoom(version, seed);
      const result = resolveState(d.version, sets, d.lookup);
      for (const [key, id] of sets[0]) {
        if (sets.every((s) => s.get(key) === id)) assert.equal(result.get(key), id);
      }
      for (const id of result.values()) assert.ok(d.events.has(id));
    }
  }
});
