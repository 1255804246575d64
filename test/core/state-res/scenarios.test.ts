import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveState } from '../../../src/core/state-res/index.js';
import { at, Dag } from './dag.js';

const ALICE = '@alice:a.test';
const BOB = '@bob:b.test';
const CAROL = '@carol:c.test';
const DAVE = '@dave:d.test';
const EVE = '@eve:e.test';
const PL = 'm.room.power_levels';
const JR = 'm.room.join_rules';
const MEMBER = 'm.room.member';
const TOPIC = 'm.room.topic';

/** A room with `levels` on top of the creator's, and `members` joined, before any fork. */
function room(version: string, levels: Record<string, number>, members: string[]) {
  const d = new Dag(version, ALICE);
  const base = d.start(levels);
  const joins: Record<string, string> = {};
  for (const m of members) joins[m] = d.join(base, m);
  return { d, base, joins };
}

// Room versions 2 and 11 resolve with v2, 12 with v2.1; these scenarios agree on all of them.
for (const version of ['2', '11', '12']) {
  describe(`state resolution scenarios, room version ${version}`, () => {
    test('concurrent ban and demotion: the admin demotes first, the moderator’s ban is void', () => {
      const { d, base, joins } = room(version, { [BOB]: 50 }, [BOB, CAROL]);
      const a = d.fork(base);
      const b = d.fork(base);
      const demote = d.powerLevels(a, ALICE, { [BOB]: 0 });
      d.member(b, BOB, CAROL, 'ban');
      const m = d.merge(a, b);
      assert.equal(at(m.state, PL), demote);
      assert.equal(at(m.state, MEMBER, CAROL), joins[CAROL]);
    });

    test('concurrent bans: the higher-powered ban is applied first and voids the other', () => {
      const { d, base, joins } = room(version, { [BOB]: 50 }, [BOB, CAROL, DAVE]);
      const a = d.fork(base);
      const b = d.fork(base);
      const banBob = d.member(a, ALICE, BOB, 'ban');
      d.member(b, BOB, DAVE, 'ban');
      const m = d.merge(a, b);
      assert.equal(at(m.state, MEMBER, BOB), banBob);
      assert.equal(at(m.state, MEMBER, DAVE), joins[DAVE]);
    });

    test('join rules flip from public to invite while a join is in flight: the join is dropped', () => {
      const { d, base } = room(version, {}, [BOB]);
      const a = d.fork(base);
      const b = d.fork(base);
      const invite = d.joinRules(a, ALICE, 'invite');
      d.join(b, EVE);
      const m = d.merge(a, b);
      assert.equal(at(m.state, JR), invite);
      assert.equal(at(m.state, MEMBER, EVE), undefined);
    });

    test('a join on one branch only, with nothing against it, survives', () => {
      const { d, base } = room(version, {}, [BOB]);
      const a = d.fork(base);
      const b = d.fork(base);
      d.topic(a, ALICE, 'unrelated');
      const eve = d.join(b, EVE);
      const m = d.merge(a, b);
      assert.equal(at(m.state, MEMBER, EVE), eve);
    });

    test('topic war at the same mainline position: the later origin_server_ts wins', () => {
      for (const bobLater of [false, true]) {
        const { d, base } = room(version, { [BOB]: 50, [CAROL]: 50 }, [BOB, CAROL]);
        const a = d.fork(base);
        const b = d.fork(base);
        const tb = d.topic(a, BOB, 'bob', { ts: bobLater ? 90_000 : 80_000 });
        const tc = d.topic(b, CAROL, 'carol', { ts: 85_000 });
        const m = d.merge(a, b);
        assert.equal(at(m.state, TOPIC), bobLater ? tb : tc);
      }
    });

    test('topic war with equal timestamps: the larger event ID wins, whichever branch it is on', () => {
      for (const [idA, idB] of [
        ['$topic-x', '$topic-y'],
        ['$topic-y', '$topic-x'],
      ]) {
        const { d, base } = room(version, { [BOB]: 50, [CAROL]: 50 }, [BOB, CAROL]);
        const a = d.fork(base);
        const b = d.fork(base);
        d.topic(a, BOB, 'bob', { id: idA, ts: 50_000 });
        d.topic(b, CAROL, 'carol', { id: idB, ts: 50_000 });
        assert.equal(at(d.merge(a, b).state, TOPIC), '$topic-y');
        assert.equal(at(d.merge(b, a).state, TOPIC), '$topic-y');
      }
    });

    test('topic war across a power change: mainline position beats timestamp', () => {
      const { d, base } = room(version, { [BOB]: 50, [CAROL]: 50 }, [BOB, CAROL]);
      const a = d.fork(base);
      const b = d.fork(base);
      const pl1 = d.powerLevels(a, ALICE, { [BOB]: 50, [CAROL]: 50, [DAVE]: 10 });
      const tb = d.topic(a, BOB, 'bob, after the power change');
      const tc = d.topic(b, CAROL, 'carol, later but on the old power levels');
      assert.ok(d.get(tc).originServerTs > d.get(tb).originServerTs);
      const m = d.merge(a, b);
      assert.equal(at(m.state, PL), pl1);
      assert.equal(at(m.state, TOPIC), tb);
    });

    test('a member kicked on one branch and promoted on the other keeps their place', () => {
      const { d, base, joins } = room(version, { [BOB]: 50 }, [BOB, CAROL]);
      const a = d.fork(base);
      const b = d.fork(base);
      d.member(a, BOB, CAROL, 'leave');
      const promote = d.powerLevels(b, ALICE, { [BOB]: 50, [CAROL]: 50 });
      const m = d.merge(a, b);
      assert.equal(at(m.state, PL), promote);
      assert.equal(at(m.state, MEMBER, CAROL), joins[CAROL]);
    });

    test('long mainline: 50 power changes on one branch, a topic on the other', () => {
      const { d, base } = room(version, { [BOB]: 50, [CAROL]: 50 }, [BOB, CAROL]);
      const a = d.fork(base);
      const b = d.fork(base);
      let last = '';
      for (let i = 1; i <= 50; i++) last = d.powerLevels(a, ALICE, { [BOB]: 50, [CAROL]: 50, [DAVE]: i });
      const tb = d.topic(a, BOB, 'after 50 changes');
      const tc = d.topic(b, CAROL, 'on the original power levels');
      const m = d.merge(a, b);
      assert.equal(at(m.state, PL), last);
      assert.equal(at(m.state, TOPIC), tb);
      assert.ok(d.get(tc).originServerTs > d.get(tb).originServerTs);
    });

    test('ban vs. unban race: the admin’s unban is replayed first, the moderator’s re-ban lands after it', () => {
      const { d, base } = room(version, { [CAROL]: 50 }, [BOB, CAROL]);
      d.member(base, CAROL, BOB, 'ban');
      const a = d.fork(base);
      const b = d.fork(base);
      d.member(a, ALICE, BOB, 'leave');
      const reban = d.member(b, CAROL, BOB, 'ban', { reason: 'again' });
      assert.equal(at(d.merge(a, b).state, MEMBER, BOB), reban);
    });

    test('ban vs. unban race when the admin also demoted the moderator: the unban holds', () => {
      const { d, base } = room(version, { [CAROL]: 50 }, [BOB, CAROL]);
      d.member(base, CAROL, BOB, 'ban');
      const a = d.fork(base);
      const b = d.fork(base);
      const demote = d.powerLevels(a, ALICE, { [CAROL]: 0 });
      const unban = d.member(a, ALICE, BOB, 'leave');
      d.member(b, CAROL, BOB, 'ban', { reason: 'again' });
      const m = d.merge(a, b);
      assert.equal(at(m.state, MEMBER, BOB), unban);
      assert.equal(at(m.state, PL), demote);
    });

    test('the demoted sender of a conflicting topic loses it', () => {
      const { d, base } = room(version, { [BOB]: 50 }, [BOB]);
      const t0 = d.topic(base, ALICE, 'original');
      const a = d.fork(base);
      const b = d.fork(base);
      const demote = d.powerLevels(a, ALICE, { [BOB]: 0 });
      d.topic(b, BOB, 'bob was here');
      const m = d.merge(a, b);
      assert.equal(at(m.state, TOPIC), t0);
      assert.equal(at(m.state, PL), demote);
    });

    test('power events from a user who lost power on the other branch are all void', () => {
      const { d, base, joins } = room(version, { [BOB]: 50 }, [BOB, CAROL, DAVE]);
      const jr0 = at(base.state, JR);
      const a = d.fork(base);
      const b = d.fork(base);
      const demote = d.powerLevels(a, ALICE, { [BOB]: 0 });
      d.joinRules(b, BOB, 'invite');
      d.member(b, BOB, DAVE, 'leave');
      d.member(b, BOB, CAROL, 'ban');
      const m = d.merge(a, b);
      assert.equal(at(m.state, PL), demote);
      assert.equal(at(m.state, JR), jr0);
      assert.equal(at(m.state, MEMBER, DAVE), joins[DAVE]);
      assert.equal(at(m.state, MEMBER, CAROL), joins[CAROL]);
    });

    test('leave vs. ban: the ban is a power event and wins', () => {
      const { d, base } = room(version, {}, [CAROL]);
      const a = d.fork(base);
      const b = d.fork(base);
      d.member(a, CAROL, CAROL, 'leave');
      const ban = d.member(b, ALICE, CAROL, 'ban');
      assert.equal(at(d.merge(a, b).state, MEMBER, CAROL), ban);
    });

    test('three branches: two topics and a demotion', () => {
      const { d, base } = room(version, { [BOB]: 50, [CAROL]: 50 }, [BOB, CAROL]);
      const a = d.fork(base);
      const b = d.fork(base);
      const c = d.fork(base);
      const tb = d.topic(a, BOB, 'bob');
      d.topic(b, CAROL, 'carol, later');
      const demote = d.powerLevels(c, ALICE, { [BOB]: 50, [CAROL]: 0 });
      for (const order of [
        [a, b, c],
        [c, b, a],
        [b, c, a],
      ]) {
        const m = d.merge(...order);
        assert.equal(at(m.state, TOPIC), tb);
        assert.equal(at(m.state, PL), demote);
      }
    });

    test('an invite on one branch lets a join on a later merge through after the rules flipped', () => {
      const { d, base } = room(version, {}, [BOB]);
      const a = d.fork(base);
      const b = d.fork(base);
      const invite = d.member(a, ALICE, EVE, 'invite');
      const joinRules = d.joinRules(b, ALICE, 'invite');
      const m = d.merge(a, b);
      assert.equal(at(m.state, JR), joinRules);
      assert.equal(at(m.state, MEMBER, EVE), invite);
      const eveJoin = d.join(m, EVE);
      assert.equal(at(m.state, MEMBER, EVE), eveJoin);
    });

    test('unconflicted state is kept as is and trivial inputs resolve trivially', () => {
      const { d, base } = room(version, { [BOB]: 50 }, [BOB]);
      const same = d.fork(base);
      assert.equal(resolveState(d.version, [base.state], d.lookup), base.state);
      assert.deepEqual(resolveState(d.version, [base.state, same.state], d.lookup), base.state);
      assert.equal(resolveState(d.version, [], d.lookup).size, 0);
      const a = d.fork(base);
      const b = d.fork(base);
      d.topic(a, BOB, 'x');
      d.join(b, CAROL);
      const m = resolveState(d.version, [a.state, b.state], d.lookup);
      for (const [key, id] of base.state) assert.equal(m.get(key), id);
    });

    test('rejected events are not used as auth events in the iterative auth checks', () => {
      const { d, base, joins } = room(version, { [BOB]: 50 }, [BOB]);
      const t0 = d.topic(base, ALICE, 'original');
      const a = d.fork(base);
      const b = d.fork(base);
      const t1 = d.topic(a, BOB, 'bob');
      d.join(b, CAROL);
      assert.equal(at(resolveState(d.version, [a.state, b.state], d.lookup), TOPIC), t1);
      const isRejected = (id: string) => id === joins[BOB];
      assert.equal(at(resolveState(d.version, [a.state, b.state], d.lookup, { isRejected }), TOPIC), t0);
    });
  });
}

describe('state resolution v2.1 (room version 12) differs from v2', () => {
  /**
   * Alice changes the power levels, then leaves. One state set holds her change; the other
   * (e.g. after an earlier reset) still holds the previous power levels, while both agree that
   * she has left. v2 replays the conflicted power levels on top of the unconflicted state, where
   * Alice is gone, so both are refused and the room loses its power levels altogether. v2.1
   * replays them from an empty state, so each is judged by its own auth events and her change
   * stands.
   */
  function build(version: string) {
    const d = new Dag(version, ALICE);
    const s = d.start({ [BOB]: 50 });
    d.join(s, BOB);
    const pl0 = at(s.state, PL)!;
    const plA = d.powerLevels(s, ALICE, { [BOB]: 100 });
    d.member(s, ALICE, ALICE, 'leave');
    const other = new Map(s.state);
    other.set(`${PL}\u0000`, pl0);
    return { d, plA, sets: [s.state, other] };
  }

  test('v2 (room version 11): the power levels are reset away', () => {
    const { d, sets } = build('11');
    assert.equal(at(resolveState(d.version, sets, d.lookup), PL), undefined);
  });

  test('v2.1 (room version 12): the power levels change by the departed creator stands', () => {
    const { d, plA, sets } = build('12');
    assert.equal(at(resolveState(d.version, sets, d.lookup), PL), plA);
    assert.equal(at(resolveState(d.version, [...sets].reverse(), d.lookup), PL), plA);
  });
});
