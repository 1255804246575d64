/**
 * Room operations on behalf of local users: create rooms, change memberships, send state,
 * messages and redactions. Every event goes through the event creator and so through the one
 * pipeline; this layer adds the client-API rules (permissions phrased for users, idempotency,
 * error codes) and the remote-room seam.
 */
import type { JsonObject } from '../core/json.js';
import { domainOf, type RoomEvent } from '../core/pdu.js';
import type { SigningKey } from '../core/signing.js';
import type { Hooks } from '../hooks.js';
import { forbidden, MatrixError, notFound } from '../http/errors.js';
import type { Logger } from '../logger.js';
import { type Notifier, roomEventKeys } from '../notifier.js';
import { type CreateRoomRequest, planCreateRoom } from '../rooms/create-room-plan.js';
import {
  canForget,
  type MembershipAction,
  membershipContent,
  membershipOf,
  precheckMembershipAction,
} from '../rooms/membership.js';
import { DEFAULT_ROOM_VERSION, getRoomVersion, type RoomVersion } from '../rooms/versions.js';
import type { Profile, Storage } from '../storage/storage.js';
import { type AuthStateLookup, namedPowerLevel, userPowerLevel } from './core-rules.js';
import { type CreateResult, type EventDraft, EventCreator, type Txn } from './event-creator.js';
import { EventPipeline } from './event-pipeline.js';
import { noFederation, type RemoteRoomJoiner } from './federation-seam.js';
import { type KeyRing, LocalKeyRing } from './key-ring.js';

export interface RoomsDeps {
  storage: Storage;
  serverName: string;
  signingKey: SigningKey;
  now: () => number;
  notifier: Notifier;
  logger: Logger;
  remote?: RemoteRoomJoiner;
  /** Where signature checks get keys; default: only this server's own key. */
  keyRing?: KeyRing;
}

export class Rooms {
  readonly pipeline: EventPipeline;
  readonly creator: EventCreator;
  private readonly storage: Storage;
  private readonly serverName: string;
  private remote: RemoteRoomJoiner;
  private readonly logger: Logger;

  constructor(deps: RoomsDeps) {
    this.storage = deps.storage;
    this.serverName = deps.serverName;
    this.remote = deps.remote ?? noFederation;
    this.logger = deps.logger;
    this.pipeline = new EventPipeline(
      deps.storage.events,
      deps.keyRing ?? new LocalKeyRing(deps.serverName, [deps.signingKey]),
    );
    this.creator = new EventCreator(deps.storage.events, this.pipeline, deps.serverName, deps.signingKey, deps.now);
    // Sync waits on room IDs (new events) and user IDs (their own membership changes, e.g. invites).
    this.pipeline.onPersisted(({ event }) => deps.notifier.notify('events', roomEventKeys(event)));
  }

  /** Plugs in federation (built after the rooms service, which it uses). */
  attachRemote(remote: RemoteRoomJoiner): void {
    this.remote = remote;
  }

  /** Whether this server takes part in the room: it has the room's graph and a local user is joined. */
  async serverInRoom(roomId: string): Promise<boolean> {
    if ((await this.storage.events.getForwardExtremities(roomId)).length === 0) return false;
    return this.storage.events.hasJoinedMemberOn(roomId, this.serverName);
  }

  /** Hooks the account side fires: profile changes update member events; deactivation leaves rooms. */
  attachHooks(hooks: Hooks): void {
    hooks.profileChanged.on((userId, profile) => this.propagateProfile(userId, profile));
    hooks.userDeactivated.on(async (userId) => {
      for (const m of await this.storage.events.getRoomsForUser(userId, ['join', 'invite', 'knock'])) {
        await this.creator.send(m.roomId, { type: 'm.room.member', stateKey: userId, sender: userId, content: { membership: 'leave' } });
      }
    });
  }

  async requireRoom(roomId: string): Promise<RoomVersion> {
    const room = await this.storage.events.getRoom(roomId);
    const version = room && getRoomVersion(room.version);
    if (!version) throw notFound(`Unknown room ${roomId}`);
    return version;
  }

  // ---- creation ----

  async createRoom(userId: string, request: CreateRoomRequest): Promise<string> {
    const versionId = request.room_version ?? DEFAULT_ROOM_VERSION;
    const version = getRoomVersion(versionId);
    if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Unsupported room version ${versionId}`);
    const profile = (await this.storage.accounts.getProfile(userId)) ?? {};
    // Remote invitees are invited once the room exists: their servers must countersign each invite.
    const remoteInvitees = (request.invite ?? []).filter((u) => domainOf(u) !== this.serverName && u !== userId);
    const planned = planCreateRoom({
      request: { ...request, invite: request.invite?.filter((u) => !remoteInvitees.includes(u)) },
      creator: userId,
      serverName: this.serverName,
      version,
      displayname: typeof profile.displayname === 'string' ? profile.displayname : undefined,
      avatarUrl: typeof profile.avatar_url === 'string' ? profile.avatar_url : undefined,
    });
    if (!planned.ok) throw new MatrixError(400, planned.errcode, planned.error);
    const { plan } = planned;
    if (plan.alias !== undefined && (await this.storage.roomDirectory.getAlias(plan.alias))) {
      throw new MatrixError(400, 'M_ROOM_IN_USE', `Room alias ${plan.alias} is already taken`);
    }
    const created = await this.creator.createRoom(version, userId, plan.events);
    if (!created.ok) {
      if (created.errcode === 'M_FORBIDDEN' || created.errcode === 'M_BAD_JSON') {
        throw new MatrixError(400, 'M_INVALID_ROOM_STATE', created.error);
      }
      throw new MatrixError(created.errcode === 'M_TOO_LARGE' ? 413 : 400, created.errcode, created.error);
    }
    if (plan.alias !== undefined && !(await this.storage.roomDirectory.createAlias(plan.alias, created.roomId, userId))) {
      this.logger.warn({ alias: plan.alias, roomId: created.roomId }, 'alias taken while the room was being created');
    }
    if (plan.publish) await this.storage.roomDirectory.setRoomPublic(created.roomId, true);
    for (const invitee of new Set(remoteInvitees)) {
      try {
        await this.remote.inviteRemoteUser(created.roomId, userId, invitee, undefined);
      } catch (err) {
        this.logger.warn({ roomId: created.roomId, invitee, err: String(err) }, 'remote invite at room creation failed');
      }
    }
    return created.roomId;
  }

  // ---- membership ----

  /** Resolves a room ID or a local alias; unknown rooms and remote aliases go to federation. */
  async resolveRoom(roomIdOrAlias: string): Promise<string | undefined> {
    if (roomIdOrAlias.startsWith('#')) {
      const mapped = await this.storage.roomDirectory.getAlias(roomIdOrAlias);
      return mapped?.roomId;
    }
    if (!roomIdOrAlias.startsWith('!')) throw new MatrixError(400, 'M_INVALID_PARAM', `${roomIdOrAlias} is neither a room ID nor an alias`);
    return (await this.storage.events.getRoom(roomIdOrAlias)) ? roomIdOrAlias : undefined;
  }

  async join(userId: string, roomIdOrAlias: string, reason: string | undefined, via: readonly string[] = []): Promise<string> {
    const roomId = await this.resolveRoom(roomIdOrAlias);
    const profile = (await this.storage.accounts.getProfile(userId)) ?? {};
    const content = membershipContent('join', {
      reason,
      displayname: typeof profile.displayname === 'string' ? profile.displayname : undefined,
      avatarUrl: typeof profile.avatar_url === 'string' ? profile.avatar_url : undefined,
    });
    if (roomId === undefined) return this.remote.joinRemoteRoom(userId, roomIdOrAlias, via, content);
    if (!(await this.serverInRoom(roomId))) {
      // Known here but not joined by anyone local (an invite, or everyone left): the room's
      // current graph is elsewhere. A room only this server ever had is joined locally.
      try {
        return await this.remote.joinRemoteRoom(userId, roomId, via, content);
      } catch (err) {
        if ((await this.storage.events.getForwardExtremities(roomId)).length === 0) throw err;
      }
    }
    const current = await this.storage.events.getMembership(roomId, userId);
    if (current?.membership === 'join') return roomId;
    await this.sendOrThrow(roomId, { type: 'm.room.member', stateKey: userId, sender: userId, content });
    return roomId;
  }

  async knock(userId: string, roomIdOrAlias: string, reason: string | undefined, via: readonly string[] = []): Promise<string> {
    const roomId = await this.resolveRoom(roomIdOrAlias);
    if (roomId === undefined || !(await this.serverInRoom(roomId))) return this.remote.knockRemoteRoom(userId, roomId ?? roomIdOrAlias, via, reason);
    const version = await this.requireRoom(roomId);
    if (!version.knocking) throw forbidden(`Room version ${version.id} does not support knocking`);
    await this.membership('knock', userId, roomId, userId, reason);
    return roomId;
  }

  /** invite, leave, kick, ban, unban (and knock once resolved): the sender acts on `target`. */
  async membership(action: MembershipAction, sender: string, roomId: string, target: string, reason?: string): Promise<string> {
    await this.requireRoom(roomId);
    const current = await this.storage.events.getMembership(roomId, target);
    const pre = precheckMembershipAction(action, sender, target, membershipOf(current && { membership: current.membership }));
    if (!pre.ok) throw new MatrixError(pre.errcode === 'M_UNKNOWN' ? 400 : 403, pre.errcode, pre.error);
    if (action === 'invite' && domainOf(target) !== this.serverName) return this.remote.inviteRemoteUser(roomId, sender, target, reason);
    if (action === 'leave' && sender === target && !(await this.serverInRoom(roomId))) {
      try {
        return await this.remote.leaveRemoteRoom(sender, roomId, reason);
      } catch (err) {
        if ((await this.storage.events.getForwardExtremities(roomId)).length === 0) throw err;
      }
    }
    const profile = action === 'knock' ? ((await this.storage.accounts.getProfile(sender)) ?? {}) : {};
    const content = membershipContent(action, {
      reason,
      displayname: typeof profile.displayname === 'string' ? profile.displayname : undefined,
      avatarUrl: typeof profile.avatar_url === 'string' ? profile.avatar_url : undefined,
    });
    const r = await this.sendOrThrow(roomId, { type: 'm.room.member', stateKey: target, sender, content });
    return r.eventId;
  }

  async forget(userId: string, roomId: string): Promise<void> {
    const current = await this.storage.events.getMembership(roomId, userId);
    if (!current) {
      if (!(await this.storage.events.getRoom(roomId))) throw notFound(`Unknown room ${roomId}`);
      return;
    }
    if (!canForget(membershipOf({ membership: current.membership }))) {
      throw new MatrixError(400, 'M_UNKNOWN', 'You must leave the room before forgetting it');
    }
    await this.storage.events.forgetRoom(userId, roomId);
  }

  private async propagateProfile(userId: string, profile: Profile): Promise<void> {
    for (const m of await this.storage.events.getRoomsForUser(userId, ['join'])) {
      const ev = await this.storage.events.getEvent(m.eventId);
      if (!ev) continue;
      const content: JsonObject = { ...ev.event.content, membership: 'join' };
      for (const key of ['displayname', 'avatar_url'] as const) {
        const v = profile[key];
        if (typeof v === 'string') content[key] = v;
        else delete content[key];
      }
      delete content.reason;
      const r = await this.creator.send(m.roomId, { type: 'm.room.member', stateKey: userId, sender: userId, content });
      if (!r.ok) this.logger.warn({ roomId: m.roomId, userId, error: r.error }, 'profile change not propagated');
    }
  }

  // ---- sending ----

  async sendMessage(roomId: string, sender: string, type: string, content: JsonObject, txn: Txn): Promise<string> {
    await this.requireRoom(roomId);
    const r = await this.sendOrThrow(roomId, { type, sender, content }, txn);
    return r.eventId;
  }

  /** Sets state; an identical repeat of the current state returns the existing event instead of a new one. */
  async setState(roomId: string, sender: string, type: string, stateKey: string, content: JsonObject): Promise<string> {
    await this.requireRoom(roomId);
    if (type === 'm.room.member') throw forbidden('Use the membership endpoints to change memberships');
    if (type === 'm.room.create') throw forbidden('m.room.create cannot be replaced');
    const existing = await this.storage.events.getCurrentStateEvent(roomId, type, stateKey);
    if (existing && existing.event.sender === sender && sameJson(existing.event.content, content)) return existing.event.eventId;
    if (type === 'm.room.canonical_alias') await this.checkCanonicalAlias(roomId, content);
    const r = await this.sendOrThrow(roomId, { type, stateKey, sender, content });
    return r.eventId;
  }

  async redact(roomId: string, sender: string, targetId: string, reason: string | undefined, txn: Txn): Promise<string> {
    const version = await this.requireRoom(roomId);
    const target = await this.storage.events.getEvent(targetId);
    if (target && target.event.roomId !== roomId) throw notFound(`Event ${targetId} is not in room ${roomId}`);
    if (target && target.event.sender !== sender) {
      const state = await this.currentLookup(roomId);
      const level = userPowerLevel(version, sender, state);
      const needed = namedPowerLevel(version, 'redact', state);
      if (level < needed) throw forbidden(`Redacting others' events needs power level ${needed}; you have ${level}`);
    }
    const content: JsonObject = reason === undefined ? {} : { reason };
    const r = await this.sendOrThrow(roomId, { type: 'm.room.redaction', sender, content, redacts: targetId }, txn);
    return r.eventId;
  }

  /** A lookup over the room's current state, for permission checks phrased for clients. */
  async currentLookup(roomId: string): Promise<AuthStateLookup> {
    const state = await this.storage.events.getCurrentState(roomId);
    const events = await this.storage.events.getEvents([...state.values()]);
    return (type, stateKey) => {
      const id = state.get(`${type}\u0000${stateKey}`);
      return id === undefined ? undefined : events.get(id)?.event;
    };
  }

  /** The aliases a canonical alias event names must point at this room (for local ones) or be well-formed. */
  private async checkCanonicalAlias(roomId: string, content: JsonObject): Promise<void> {
    const aliases: unknown[] = [];
    if (content.alias !== undefined) aliases.push(content.alias);
    if (content.alt_aliases !== undefined) {
      if (!Array.isArray(content.alt_aliases)) throw new MatrixError(400, 'M_INVALID_PARAM', 'alt_aliases must be a list');
      aliases.push(...content.alt_aliases);
    }
    for (const a of aliases) {
      if (typeof a !== 'string' || !a.startsWith('#') || !a.includes(':')) {
        throw new MatrixError(400, 'M_INVALID_PARAM', `${String(a)} is not a room alias`);
      }
      if (domainOf(a) !== this.serverName) continue;
      const mapped = await this.storage.roomDirectory.getAlias(a);
      if (mapped?.roomId !== roomId) throw new MatrixError(400, 'M_BAD_ALIAS', `${a} does not point to this room`);
    }
  }

  private async sendOrThrow(roomId: string, draft: EventDraft, txn?: Txn): Promise<RoomEvent & { eventId: string }> {
    const r: CreateResult = await this.creator.send(roomId, draft, txn);
    if (r.ok) return r.event;
    switch (r.errcode) {
      case 'M_FORBIDDEN':
        throw forbidden(r.error);
      case 'M_NOT_FOUND':
        throw notFound(r.error);
      case 'M_TOO_LARGE':
        throw new MatrixError(413, 'M_TOO_LARGE', r.error);
      case 'M_BAD_JSON':
        throw new MatrixError(400, 'M_BAD_JSON', r.error);
      default:
        throw new MatrixError(500, 'M_UNKNOWN', r.error);
    }
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
