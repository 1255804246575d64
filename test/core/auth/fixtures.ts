/**
 * Quick rooms for auth rule tests: events are built directly as RoomEvents with fake IDs (no
 * hashing or signing), and the room keeps a plain state map to look them up.
 */
import type { AuthStateLookup } from '../../../src/core/auth/index.js';
import type { JsonObject } from '../../../src/core/json.js';
import { domainOf, type Pdu, type RoomEvent, stateKeyOf } from '../../../src/core/pdu.js';
import { getRoomVersion, type RoomVersion } from '../../../src/rooms/versions.js';

export const ALICE = '@alice:a.example';
export const BOB = '@bob:b.example';
export const CAROL = '@carol:c.example';
export const DAVE = '@dave:a.example';
export const EVE = '@eve:e.example';

export function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}

export interface EventSpec {
  type: string;
  sender: string;
  content?: JsonObject;
  stateKey?: string;
  prevEventIds?: string[];
  authEventIds?: string[];
  redacts?: string;
  /** Overrides the default signatures (one from the sender's server). */
  signatures?: Record<string, Record<string, string>>;
  /** Put a room_id on the wire even where the version derives it (v12 create). */
  wireRoomId?: string | null;
  eventId?: string;
  roomId?: string;
}

let counter = 0;

export class TestRoom {
  readonly version: RoomVersion;
  roomId: string;
  readonly state = new Map<string, RoomEvent>();
  /** The last event added, used as the default prev event. */
  last: RoomEvent | undefined;
  readonly lookup: AuthStateLookup = (type, stateKey) => this.state.get(stateKeyOf(type, stateKey));

  constructor(versionId: string, roomId = '!room:a.example') {
    this.version = version(versionId);
    this.roomId = roomId;
  }

  /** Builds an event in this room without adding it to the state. */
  event(spec: EventSpec): RoomEvent {
    counter += 1;
    const n = counter;
    // v1/v2 event IDs carry the originating server's domain; later ones are opaque hashes.
    const eventId =
      spec.eventId ?? (this.version.eventIdFormat === 'server-assigned' ? `$e${n}:${domainOf(spec.sender)}` : `$e${n}`);
    const isV12Create = spec.type === 'm.room.create' && this.version.roomIdFromCreateEvent;
    const roomId = spec.roomId ?? (isV12Create ? `!${eventId.slice(1)}` : this.roomId);
    const wireRoomId = spec.wireRoomId === undefined ? (isV12Create ? undefined : roomId) : spec.wireRoomId;
    const content = spec.content ?? {};
    const prevEventIds = spec.prevEventIds ?? (this.last ? [this.last.eventId] : []);
    const pdu: Pdu = {
      type: spec.type,
      sender: spec.sender,
      origin_server_ts: 1_700_000_000_000 + n,
      content,
      prev_events: prevEventIds,
      auth_events: spec.authEventIds ?? [],
      depth: n,
      hashes: { sha256: 'fake' },
      signatures: spec.signatures ?? { [domainOf(spec.sender)]: { 'ed25519:1': 'fake' } },
    };
    if (wireRoomId !== undefined && wireRoomId !== null) pdu.room_id = wireRoomId;
    if (spec.stateKey !== undefined) pdu.state_key = spec.stateKey;
    if (spec.redacts !== undefined) pdu.redacts = spec.redacts;
    return {
      eventId,
      roomId,
      type: spec.type,
      stateKey: spec.stateKey,
      sender: spec.sender,
      content,
      originServerTs: pdu.origin_server_ts,
      depth: n,
      prevEventIds,
      authEventIds: spec.authEventIds ?? [],
      redacts: spec.redacts,
      pdu,
    };
  }

  /** Adds a state event to the room state (and makes it the latest event). */
  add(ev: RoomEvent): RoomEvent {
    if (ev.stateKey !== undefined) this.state.set(stateKeyOf(ev.type, ev.stateKey), ev);
    this.last = ev;
    return ev;
  }

  addEvent(spec: EventSpec): RoomEvent {
    return this.add(this.event(spec));
  }

  create(sender: string, extra: JsonObject = {}): RoomEvent {
    const content: JsonObject = { room_version: this.version.id, ...extra };
    if (!this.version.creatorIsSender && !('creator' in extra)) content.creator = sender;
    const ev = this.event({ type: 'm.room.create', sender, stateKey: '', content, prevEventIds: [] });
    if (this.version.roomIdFromCreateEvent) this.roomId = ev.roomId;
    return this.add(ev);
  }

  member(user: string, membership: string, sender = user, extra: JsonObject = {}): RoomEvent {
    return this.addEvent({ type: 'm.room.member', sender, stateKey: user, content: { membership, ...extra } });
  }

  powerLevels(sender: string, content: JsonObject): RoomEvent {
    return this.addEvent({ type: 'm.room.power_levels', sender, stateKey: '', content });
  }

  joinRules(sender: string, joinRule: string, extra: JsonObject = {}): RoomEvent {
    return this.addEvent({ type: 'm.room.join_rules', sender, stateKey: '', content: { join_rule: joinRule, ...extra } });
  }

  /** A membership event by `sender` about `target`, not added to the state. */
  memberEvent(target: string, membership: string, sender = target, extra: JsonObject = {}): RoomEvent {
    return this.event({ type: 'm.room.member', sender, stateKey: target, content: { membership, ...extra } });
  }

  /** Events that would normally be cited as auth events for `ev`, from the current state. */
  stateEvents(): RoomEvent[] {
    return [...this.state.values()];
  }
}

export interface RoomSetup {
  creator?: string;
  createContent?: JsonObject;
  /** Power levels content; `null` for a room without a power levels event. Defaults give the creator 100 (pre-v12). */
  powerLevels?: JsonObject | null;
  joinRule?: string | null;
  joinRulesExtra?: JsonObject;
  /** Memberships to set after the creator has joined, in order. */
  members?: Array<[user: string, membership: string]>;
}

/**
 * The usual room: create, creator joins, power levels, join rules, then the listed members.
 * Power levels default to the creator at 100 (v12: creators are omitted, being infinitely powerful).
 */
export function makeRoom(versionId: string, setup: RoomSetup = {}): TestRoom {
  const room = new TestRoom(versionId);
  const creator = setup.creator ?? ALICE;
  room.create(creator, setup.createContent);
  room.member(creator, 'join');
  if (setup.powerLevels !== null) {
    const defaults: JsonObject = room.version.privilegedCreators ? { users: {} } : { users: { [creator]: 100 } };
    room.powerLevels(creator, setup.powerLevels ?? defaults);
  }
  if (setup.joinRule !== null) room.joinRules(creator, setup.joinRule ?? 'public', setup.joinRulesExtra);
  for (const [user, membership] of setup.members ?? []) {
    room.member(user, membership, membership === 'join' || membership === 'knock' ? user : creator);
  }
  return room;
}

/** The versions a rule is exercised across when it is the same everywhere. */
export const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

/** One row of an auth rule table: in room `version`, with this state, is this event allowed? */
export interface AuthCase {
  version: string;
  name: string;
  /** The room state: a standard room description, optionally adjusted afterwards... */
  setup?: RoomSetup;
  /** ...or a room built by hand. */
  build?: (versionId: string) => TestRoom;
  adjust?: (room: TestRoom) => void;
  event: (room: TestRoom) => RoomEvent;
  allow: boolean;
  /** For rejections: what the reason must mention. */
  reason?: RegExp;
}

export function buildCaseRoom(c: AuthCase): TestRoom {
  const room = c.build ? c.build(c.version) : makeRoom(c.version, c.setup);
  c.adjust?.(room);
  return room;
}
