/**
 * A small room-DAG builder for state resolution tests: events are built one by one as RoomEvents
 * with auth_events chosen by the auth events selection from the branch's current state,
 * prev_events pointing at the branch heads, increasing depth and origin_server_ts. Event IDs are
 * made up (no hashing): `$<n>` unless a test names one.
 */
import { authEventKeysFor, checkEventAuth } from '../../../src/core/auth/index.js';
import type { JsonObject } from '../../../src/core/json.js';
import { type Pdu, type RoomEvent, type StateKey, type StateMap, stateKeyOf } from '../../../src/core/pdu.js';
import { resolveState } from '../../../src/core/state-res/index.js';
import { getRoomVersion, type RoomVersion } from '../../../src/rooms/versions.js';

export interface Branch {
  state: Map<StateKey, string>;
  heads: string[];
}

export interface EventSpec {
  type: string;
  stateKey?: string;
  sender: string;
  content: JsonObject;
  /** Event ID to use instead of the next generated one. */
  id?: string;
  /** origin_server_ts to use instead of the next tick. */
  ts?: number;
}

export class Dag {
  readonly version: RoomVersion;
  readonly events = new Map<string, RoomEvent>();
  readonly creator: string;
  roomId = '';
  private seq = 0;
  private clock = 1_000;

  constructor(versionId: string, creator = '@alice:a.test') {
    const v = getRoomVersion(versionId);
    if (!v) throw new Error(`unknown room version ${versionId}`);
    this.version = v;
    this.creator = creator;
  }

  readonly lookup = (id: string): RoomEvent | undefined => this.events.get(id);

  get(id: string): RoomEvent {
    const ev = this.events.get(id);
    if (!ev) throw new Error(`no event ${id}`);
    return ev;
  }

  /** Builds the event against the branch; `undefined` (branch untouched) if auth rejects it. */
  tryAdd(branch: Branch, spec: EventSpec): string | undefined {
    const ev = this.build(branch, spec);
    if (ev.type !== 'm.room.create') {
      const verdict = checkEventAuth(this.version, ev, (type, stateKey) => {
        const id = branch.state.get(stateKeyOf(type, stateKey));
        return id === undefined ? undefined : this.events.get(id);
      });
      if (!verdict.allowed) return undefined;
    }
    this.events.set(ev.eventId, ev);
    if (ev.stateKey !== undefined) branch.state.set(stateKeyOf(ev.type, ev.stateKey), ev.eventId);
    branch.heads = [ev.eventId];
    return ev.eventId;
  }

  /** Like tryAdd, but a scenario mistake (an event its own branch rejects) fails loudly. */
  add(branch: Branch, spec: EventSpec): string {
    const id = this.tryAdd(branch, spec);
    if (id === undefined) throw new Error(`scenario event not allowed: ${JSON.stringify(spec)}`);
    return id;
  }

  private build(branch: Branch, spec: EventSpec): RoomEvent {
    const eventId = spec.id ?? `$${++this.seq}`;
    const ts = spec.ts ?? ++this.clock;
    const isCreate = spec.type === 'm.room.create';
    if (isCreate) this.roomId = this.version.roomIdFromCreateEvent ? `!${eventId.slice(1)}` : '!room:a.test';
    const authEventIds: string[] = [];
    for (const [type, stateKey] of authEventKeysFor(this.version, spec)) {
      const id = branch.state.get(stateKeyOf(type, stateKey));
      if (id !== undefined && !authEventIds.includes(id)) authEventIds.push(id);
    }
    const prevEventIds = [...branch.heads];
    const depth = Math.max(0, ...prevEventIds.map((p) => this.get(p).depth)) + (isCreate ? 0 : 1);
    const pdu: Pdu = {
      type: spec.type,
      sender: spec.sender,
      origin_server_ts: ts,
      content: spec.content,
      prev_events: prevEventIds,
      auth_events: authEventIds,
      depth,
      hashes: { sha256: '' },
      signatures: {},
    };
    if (!(isCreate && this.version.roomIdFromCreateEvent)) pdu.room_id = this.roomId;
    if (spec.stateKey !== undefined) pdu.state_key = spec.stateKey;
    return {
      eventId,
      roomId: this.roomId,
      type: spec.type,
      stateKey: spec.stateKey,
      sender: spec.sender,
      content: spec.content,
      originServerTs: ts,
      depth,
      prevEventIds,
      authEventIds,
      redacts: undefined,
      pdu,
    };
  }

  /** Create event, creator's join, power levels (`users` on top of the creator) and join rules. */
  start(users: Record<string, number> = {}, joinRule = 'public'): Branch {
    const b: Branch = { state: new Map(), heads: [] };
    const createContent: JsonObject = { room_version: this.version.id };
    if (!this.version.creatorIsSender) createContent.creator = this.creator;
    this.add(b, { type: 'm.room.create', stateKey: '', sender: this.creator, content: createContent });
    this.join(b, this.creator);
    this.powerLevels(b, this.creator, users);
    this.add(b, { type: 'm.room.join_rules', stateKey: '', sender: this.creator, content: { join_rule: joinRule } });
    return b;
  }

  fork(b: Branch): Branch {
    return { state: new Map(b.state), heads: [...b.heads] };
  }

  /** A new branch whose state is the resolution of the given ones and whose heads are all theirs. */
  merge(...branches: Branch[]): Branch {
    const state = resolveState(this.version, branches.map((b) => b.state), this.lookup);
    return { state: new Map(state), heads: [...new Set(branches.flatMap((b) => b.heads))] };
  }

  powerLevels(b: Branch, sender: string, users: Record<string, number>, extra: JsonObject = {}, id?: string): string {
    const all: JsonObject = { ...users };
    if (this.version.privilegedCreators) delete all[this.creator];
    else all[this.creator] ??= 100;
    const content: JsonObject = {
      users: all,
      users_default: 0,
      events: {},
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
      ...extra,
    };
    return this.add(b, { type: 'm.room.power_levels', stateKey: '', sender, content, id });
  }

  member(b: Branch, sender: string, target: string, membership: string, extra: JsonObject = {}, id?: string): string {
    return this.add(b, {
      type: 'm.room.member',
      stateKey: target,
      sender,
      content: { membership, ...extra },
      id,
    });
  }

  join(b: Branch, user: string, extra: JsonObject = {}): string {
    return this.member(b, user, user, 'join', extra);
  }

  topic(b: Branch, sender: string, topic: string, opts: { id?: string; ts?: number } = {}): string {
    return this.add(b, { type: 'm.room.topic', stateKey: '', sender, content: { topic }, ...opts });
  }

  joinRules(b: Branch, sender: string, rule: string): string {
    return this.add(b, { type: 'm.room.join_rules', stateKey: '', sender, content: { join_rule: rule } });
  }
}

/** The state map's value for (type, state_key). */
export function at(state: StateMap, type: string, stateKey = ''): string | undefined {
  return state.get(stateKeyOf(type, stateKey));
}
