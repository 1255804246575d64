import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { at, Dag } from './dag.js';

const ALICE = '@alice:a.test';
const BOB = '@bob:b.test';
const CAROL = '@carol:c.test';
const PL = 'm.room.power_levels';
const TOPIC = 'm.room.topic';
const MEMBER = 'm.room.member';

function room(levels: Record<string, number>, members: string[]) {
  const d = new Dag('1', ALICE);
  const base = d.start(levels);
  for (const m of members) d.join(base, m);
  return { d, base, a: d.fork(base), b: d.fork(base) };
}

test('v1: power levels replay by ascending depth and stop at the first refused one', () => {
  const { d, a, b } = room({ [BOB]: 50 }, [BOB, CAROL]);
  const bobTopic = d.topic(a, BOB, 'bob');
  d.powerLevels(a, BOB, { [BOB]: 50, [CAROL]: 50 });
  const demote = d.powerLevels(b, ALICE, { [BOB]: 0 });
  const m = d.merge(a, b);
  assert.equal(at(m.state, PL), demote);
  // A key set on one side only is not a conflict in room version 1.
  assert.equal(at(m.state, TOPIC), bobTopic);
});

test('v1: a deeper power levels event that passes auth replaces a shallower one', () => {
  const { d, a, b } = room({ [BOB]: 50 }, [BOB, CAROL]);
  d.topic(a, ALICE, 'first');
  const deeper = d.powerLevels(a, ALICE, { [BOB]: 50, [CAROL]: 20 });
  d.powerLevels(b, BOB, { [BOB]: 50, [CAROL]: 50 });
  assert.equal(at(d.merge(a, b).state, PL), deeper);
  assert.equal(at(d.merge(b, a).state, PL), deeper);
});

test('v1: equal depths order by descending sha1 of the event ID', () => {
  const { d, a, b } = room({}, []);
  const x = d.powerLevels(a, ALICE, { [BOB]: 10 }, {}, '$plx:a.test');
  const y = d.powerLevels(b, ALICE, { [BOB]: 20 }, {}, '$ply:a.test');
  assert.equal(d.get(x).depth, d.get(y).depth);
  const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
  // Replayed from the larger sha1 to the smaller; both pass, so the smaller is last and stays.
  const expected = sha1(x) < sha1(y) ? x : y;
  assert.equal(at(d.merge(a, b).state, PL), expected);
  assert.equal(at(d.merge(b, a).state, PL), expected);
});

test('v1: other conflicts take the deepest event that passes auth in the resolved state', () => {
  const { d, a, b } = room({ [BOB]: 50 }, [BOB]);
  d.powerLevels(a, ALICE, { [BOB]: 0 });
  const aliceTopic = d.topic(a, ALICE, 'alice');
  d.topic(b, BOB, 'bob 1');
  d.topic(b, BOB, 'bob 2');
  const bob3 = d.topic(b, BOB, 'bob 3');
  assert.ok(d.get(bob3).depth > d.get(aliceTopic).depth);
  assert.equal(at(d.merge(a, b).state, TOPIC), aliceTopic);
});

test('v1: the deepest topic wins when everyone may set it', () => {
  const { d, a, b } = room({ [BOB]: 50, [CAROL]: 50 }, [BOB, CAROL]);
  d.topic(a, BOB, 'bob 1');
  const deepest = d.topic(a, BOB, 'bob 2');
  d.topic(b, CAROL, 'carol, later but shallower');
  assert.equal(at(d.merge(a, b).state, TOPIC), deepest);
});

test('v1: member conflicts: a shallower ban blocks a deeper self-leave', () => {
  const { d, a, b } = room({}, [CAROL]);
  d.join(a, CAROL, { displayname: 'Carol' });
  d.member(a, CAROL, CAROL, 'leave');
  const ban = d.member(b, ALICE, CAROL, 'ban');
  assert.equal(at(d.merge(a, b).state, MEMBER, CAROL), ban);
});
