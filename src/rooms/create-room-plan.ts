import type { JsonObject, JsonValue } from '../core/json.js';
import { isJsonObject } from '../core/json.js';
import { stateKeyOf } from '../core/pdu.js';
import type { RoomVersion } from './versions.js';

/**
 * Turns a `/createRoom` request into the ordered list of events the server must send
 * (client-server spec, "Create a new room", steps 1–8). Pure: the caller supplies the room
 * version, the creator's profile and the server name; it builds, signs and sends the events.
 */

export type CreateRoomPreset = 'private_chat' | 'trusted_private_chat' | 'public_chat';

export interface CreateRoomRequest {
  visibility?: 'public' | 'private';
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  room_version?: string;
  creation_content?: JsonObject;
  initial_state?: Array<{ type: string; state_key?: string; content: JsonObject }>;
  preset?: CreateRoomPreset;
  is_direct?: boolean;
  power_level_content_override?: JsonObject;
}

/** One event of the plan; the sender is always the creator. */
export interface PlannedEvent {
  type: string;
  stateKey: string;
  content: JsonObject;
}

export interface CreateRoomPlan {
  /** `events[0]` is the `m.room.create` event, `events[1]` the creator's join. */
  events: PlannedEvent[];
  /** Full alias (`#local:server`) to map to the room, if requested. */
  alias: string | undefined;
  /** Whether to publish the room in the directory. */
  publish: boolean;
}

export type CreateRoomPlanResult =
  | { ok: true; plan: CreateRoomPlan }
  | { ok: false; errcode: 'M_INVALID_ROOM_STATE' | 'M_INVALID_PARAM' | 'M_BAD_JSON'; error: string };

export interface CreateRoomInput {
  request: CreateRoomRequest;
  creator: string;
  serverName: string;
  version: RoomVersion;
  /** The creator's profile, copied into their join event. */
  displayname?: string;
  avatarUrl?: string;
}

interface PresetState {
  joinRule: string;
  historyVisibility: string;
  guestAccess: string;
}

const PRESETS: Record<CreateRoomPreset, PresetState> = {
  private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join' },
  trusted_private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join' },
  public_chat: { joinRule: 'public', historyVisibility: 'shared', guestAccess: 'forbidden' },
};

/** Alias localparts become part of `#local:server`; they cannot hold the separator or whitespace. */
export function isValidAliasLocalpart(local: string): boolean {
  return local.length > 0 && !/[:\s#]/.test(local);
}

export function planCreateRoom(input: CreateRoomInput): CreateRoomPlanResult {
  const { request, creator, serverName, version } = input;
  const preset: CreateRoomPreset = request.preset ?? (request.visibility === 'public' ? 'public_chat' : 'private_chat');
  if (!(preset in PRESETS)) return { ok: false, errcode: 'M_BAD_JSON', error: `unknown preset ${String(preset)}` };
  const invitees = dedupe((request.invite ?? []).filter((u) => u !== creator));

  let alias: string | undefined;
  if (request.room_alias_name !== undefined) {
    if (!isValidAliasLocalpart(request.room_alias_name)) {
      return { ok: false, errcode: 'M_INVALID_PARAM', error: 'room_alias_name must be a non-empty localpart without ":", "#" or spaces' };
    }
    alias = `#${request.room_alias_name}:${serverName}`;
    if (Buffer.byteLength(alias, 'utf8') > 255) return { ok: false, errcode: 'M_INVALID_PARAM', error: 'room alias is too long' };
  }

  // initial_state, keyed so later steps can tell what it overrides.
  const initial = new Map<string, PlannedEvent>();
  for (const ev of request.initial_state ?? []) {
    const stateKey = ev.state_key ?? '';
    if (ev.type === 'm.room.create') {
      return { ok: false, errcode: 'M_INVALID_ROOM_STATE', error: 'initial_state may not contain m.room.create' };
    }
    if (ev.type === 'm.room.member') {
      return { ok: false, errcode: 'M_INVALID_ROOM_STATE', error: 'initial_state may not contain m.room.member; use invite' };
    }
    // A later entry for the same (type, state_key) replaces an earlier one but keeps its position last.
    const key = stateKeyOf(ev.type, stateKey);
    initial.delete(key);
    initial.set(key, { type: ev.type, stateKey, content: ev.content });
  }

  const events: PlannedEvent[] = [];

  // 1. m.room.create
  const createContent: JsonObject = { ...(request.creation_content ?? {}) };
  delete createContent.creator;
  if (!version.creatorIsSender) createContent.creator = creator;
  createContent.room_version = version.id;
  if (version.privilegedCreators) {
    const extra = createContent.additional_creators;
    if (extra !== undefined && !(Array.isArray(extra) && extra.every((u) => typeof u === 'string'))) {
      return { ok: false, errcode: 'M_BAD_JSON', error: 'additional_creators must be a list of user IDs' };
    }
    const additional = dedupe([
      ...((extra as string[] | undefined) ?? []),
      ...(preset === 'trusted_private_chat' ? invitees : []),
    ]).filter((u) => u !== creator);
    if (additional.length > 0) createContent.additional_creators = additional;
    else delete createContent.additional_creators;
  }
  events.push({ type: 'm.room.create', stateKey: '', content: createContent });

  // 2. the creator joins
  const join: JsonObject = { membership: 'join' };
  if (input.displayname !== undefined) join.displayname = input.displayname;
  if (input.avatarUrl !== undefined) join.avatar_url = input.avatarUrl;
  events.push({ type: 'm.room.member', stateKey: creator, content: join });

  // 3. power levels
  const plKey = stateKeyOf('m.room.power_levels', '');
  const fromInitial = initial.get(plKey);
  initial.delete(plKey);
  const creators = new Set<string>([creator]);
  if (version.privilegedCreators && Array.isArray(createContent.additional_creators)) {
    for (const u of createContent.additional_creators) creators.add(u as string);
  }
  const pl = fromInitial
    ? { ...fromInitial.content }
    : defaultPowerLevels(version, creator, preset === 'trusted_private_chat' ? invitees : [], preset);
  Object.assign(pl, request.power_level_content_override ?? {});
  if (version.privilegedCreators && isJsonObject(pl.users)) {
    for (const u of creators) {
      if (u in pl.users) {
        return { ok: false, errcode: 'M_INVALID_ROOM_STATE', error: `room creator ${u} may not appear in power levels users` };
      }
    }
  }
  events.push({ type: 'm.room.power_levels', stateKey: '', content: pl });

  // 4. canonical alias
  if (alias !== undefined) {
    initial.delete(stateKeyOf('m.room.canonical_alias', ''));
    events.push({ type: 'm.room.canonical_alias', stateKey: '', content: { alias } });
  }

  // 5. preset state, unless initial_state sets the same thing
  const p = PRESETS[preset];
  const presetEvents: PlannedEvent[] = [
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: p.joinRule } },
    { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: p.historyVisibility } },
    { type: 'm.room.guest_access', stateKey: '', content: { guest_access: p.guestAccess } },
  ];
  for (const ev of presetEvents) {
    if (!initial.has(stateKeyOf(ev.type, ev.stateKey))) events.push(ev);
  }

  // 6. initial_state, minus what name/topic override
  if (request.name !== undefined) initial.delete(stateKeyOf('m.room.name', ''));
  if (request.topic !== undefined) initial.delete(stateKeyOf('m.room.topic', ''));
  events.push(...initial.values());

  // 7. name and topic
  if (request.name !== undefined) events.push({ type: 'm.room.name', stateKey: '', content: { name: request.name } });
  if (request.topic !== undefined) {
    events.push({
      type: 'm.room.topic',
      stateKey: '',
      content: { topic: request.topic, 'm.topic': { 'm.text': [{ body: request.topic, mimetype: 'text/plain' }] } },
    });
  }

  // 8. invites
  for (const user of invitees) {
    const content: JsonObject = { membership: 'invite' };
    if (request.is_direct === true) content.is_direct = true;
    events.push({ type: 'm.room.member', stateKey: user, content });
  }

  return { ok: true, plan: { events, alias, publish: request.visibility === 'public' } };
}

/**
 * The power levels a new room starts with. Before v12 the creator (and for
 * `trusted_private_chat` the invitees) get 100; from v12 creators are implicitly all-powerful
 * and must not be listed, and the tombstone level must exceed `state_default`.
 */
export function defaultPowerLevels(
  version: RoomVersion,
  creator: string,
  trustedInvitees: readonly string[],
  preset: CreateRoomPreset,
): JsonObject {
  const users: JsonObject = {};
  if (!version.privilegedCreators) {
    users[creator] = 100;
    for (const u of trustedInvitees) users[u] = 100;
  }
  const events: Record<string, JsonValue> = {
    'm.room.name': 50,
    'm.room.power_levels': 100,
    'm.room.history_visibility': 100,
    'm.room.canonical_alias': 50,
    'm.room.avatar': 50,
    'm.room.tombstone': version.privilegedCreators ? 150 : 100,
    'm.room.server_acl': 100,
    'm.room.encryption': 100,
  };
  return {
    users,
    users_default: 0,
    events,
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    // In invite-only rooms every member may invite, so a DM partner can bring others in.
    invite: preset === 'public_chat' ? 50 : 0,
    notifications: { room: 50 },
  };
}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}
