/**
 * Membership in rooms that live on other servers, for local users (the `RemoteRoomJoiner`
 * seam of the rooms service): join and knock through make_* / send_*, leave (reject an invite,
 * withdraw a knock), and invites of remote users countersigned by their server.
 *
 * A join: make_join on the first candidate server that answers → fill in and sign the template
 * → send_join → check the returned state and auth chain (signatures, hashes, auth rules, each
 * against its own auth events) and store them as outliers → the join goes through the event
 * pipeline with the returned state as the state before it, which makes the room's state here.
 */
import { buildEvent } from '../../src/core/event-builder.js';
import { toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { domainOf, type EventReference, type Pdu, stateKeyOf } from '../../src/core/pdu.js';
import { forbidden, MatrixError, notFound } from '../../src/http/errors.js';
import type { RemoteRoomJoiner } from '../../src/room-engine/federation-seam.js';
import { importOutliers } from '../../src/room-engine/outlier-import.js';
import { getRoomVersion, knownRoomVersions, type RoomVersion } from '../../src/rooms/versions.js';
import type { FederationMethod, FederationRequester, RoomFederationDeps } from './room-federation-deps.js';
import { seg } from './room-federation-deps.js';
import { strippedCurrentState } from './send-membership.js';

type Kind = 'join' | 'leave' | 'knock';

interface Template {
  version: RoomVersion;
  event: JsonObject;
  server: string;
}

export class RemoteRooms implements RemoteRoomJoiner {
  constructor(
    private readonly deps: RoomFederationDeps,
    private readonly client: FederationRequester,
  ) {}

  async joinRemoteRoom(userId: string, roomIdOrAlias: string, via: readonly string[], content: Record<string, unknown>): Promise<string> {
    const { roomId, servers } = await this.resolve(roomIdOrAlias, via, userId);
    const tpl = await this.makeTemplate('join', roomId, userId, servers);
    const pdu = this.fill(tpl, userId, content as JsonObject);
    const eventId = toRoomEvent(pdu, tpl.version).eventId;
    const res = await this.call<JsonObject>(tpl.server, 'PUT', `/_matrix/federation/v2/send_join/${seg(roomId)}/${seg(eventId)}`, {
      body: pdu as unknown as JsonValue,
    });
    await this.completeJoin(tpl.version, roomId, pdu, res);
    this.deps.logger.info({ roomId, userId, via: tpl.server }, 'joined remote room');
    return roomId;
  }

  /** Checks and stores a send_join response, then accepts our join on top of it. */
  async completeJoin(version: RoomVersion, roomId: string, ours: Pdu, res: JsonObject): Promise<void> {
    const ourId = toRoomEvent(ours, version).eventId;
    let join = ours;
    // A restricted join comes back countersigned by the authorising server.
    if (isJsonObject(res.event)) {
      const v = validatePdu(res.event, version);
      if (v.ok && toRoomEvent(v.value, version).eventId === ourId) join = v.value;
    }
    const state = Array.isArray(res.state) ? res.state : [];
    const chain = Array.isArray(res.auth_chain) ? res.auth_chain : [];
    const pipeline = this.deps.rooms.pipeline;
    await pipeline.exclusive(roomId, async () => {
      const createRaw = state.find((s) => isJsonObject(s) && s.type === 'm.room.create' && s.state_key === '') as JsonObject | undefined;
      if (!createRaw || typeof createRaw.sender !== 'string') throw new MatrixError(502, 'M_UNKNOWN', 'send_join response has no create event');
      const imported = await importOutliers(this.deps.storage.events, this.deps.keyRing, version, [...chain, ...state], {
        newRoom: { creator: createRaw.sender },
      });
      for (const d of imported.dropped) this.deps.logger.warn({ roomId, ...d }, 'send_join response event dropped');
      const stateIds = new Set<string>();
      for (const id of imported.ids.slice(chain.length)) if (id !== undefined) stateIds.add(id);
      const map = new Map<string, string>();
      for (const id of stateIds) {
        const ev = imported.events.get(id);
        if (!ev || imported.rejected.has(id) || ev.stateKey === undefined || ev.roomId !== roomId) continue;
        map.set(stateKeyOf(ev.type, ev.stateKey), id);
      }
      const createId = map.get(stateKeyOf('m.room.create', ''));
      const create = createId === undefined ? undefined : imported.events.get(createId);
      if (!create) throw new MatrixError(502, 'M_UNKNOWN', 'send_join response: the create event did not check out');
      const declared = create.content.room_version ?? '1';
      if (declared !== version.id) throw new MatrixError(502, 'M_UNKNOWN', `room is version ${String(declared)}, not ${version.id}`);
      const outcome = await pipeline.acceptLocked(join, version, { origin: 'local', stateBefore: { map, group: undefined } });
      if (outcome.status !== 'persisted' && outcome.status !== 'duplicate') {
        throw forbidden(`join refused: ${'reason' in outcome ? outcome.reason : outcome.status}`);
      }
    });
  }

  async knockRemoteRoom(userId: string, roomIdOrAlias: string, via: readonly string[], reason: string | undefined): Promise<string> {
    const { roomId, servers } = await this.resolve(roomIdOrAlias, via, userId);
    const tpl = await this.makeTemplate('knock', roomId, userId, servers);
    const content: JsonObject = { membership: 'knock' };
    if (reason !== undefined) content.reason = reason;
    const pdu = this.fill(tpl, userId, content);
    const eventId = toRoomEvent(pdu, tpl.version).eventId;
    const res = await this.call<JsonObject>(tpl.server, 'PUT', `/_matrix/federation/v1/send_knock/${seg(roomId)}/${seg(eventId)}`, {
      body: pdu as unknown as JsonValue,
    });
    const stripped = Array.isArray(res.knock_room_state) ? res.knock_room_state.filter(isJsonObject) : [];
    await this.storeOutOfRoom(tpl.version, { ...pdu, unsigned: { knock_room_state: stripped } }, stripped);
    return roomId;
  }

  async leaveRemoteRoom(userId: string, roomId: string, reason: string | undefined): Promise<string> {
    const servers = await this.candidates(roomId, [], userId);
    const tpl = await this.makeTemplate('leave', roomId, userId, servers);
    const content: JsonObject = { membership: 'leave' };
    if (reason !== undefined) content.reason = reason;
    const pdu = this.fill(tpl, userId, content);
    const eventId = toRoomEvent(pdu, tpl.version).eventId;
    await this.call<JsonObject>(tpl.server, 'PUT', `/_matrix/federation/v2/send_leave/${seg(roomId)}/${seg(eventId)}`, {
      body: pdu as unknown as JsonValue,
    });
    await this.storeOutOfRoom(tpl.version, pdu, []);
    return eventId;
  }

  async inviteRemoteUser(roomId: string, sender: string, target: string, reason: string | undefined): Promise<string> {
    const content: JsonObject = { membership: 'invite' };
    if (reason !== undefined) content.reason = reason;
    const built = await this.deps.rooms.creator.build(roomId, { type: 'm.room.member', stateKey: target, sender, content });
    if (!built.ok) throw new MatrixError(built.errcode === 'M_NOT_FOUND' ? 404 : 403, built.errcode, built.error);
    const { version } = built;
    const eventId = toRoomEvent(built.pdu, version).eventId;
    const inviteRoomState = await strippedCurrentState(this.deps, roomId);
    const res = await this.call<JsonObject>(domainOf(target), 'PUT', `/_matrix/federation/v2/invite/${seg(roomId)}/${seg(eventId)}`, {
      body: { room_version: version.id, event: built.pdu as unknown as JsonValue, invite_room_state: inviteRoomState },
    });
    const v = validatePdu(res.event, version);
    if (!v.ok || toRoomEvent(v.value, version).eventId !== eventId) {
      throw new MatrixError(502, 'M_UNKNOWN', `${domainOf(target)} returned a different invite event`);
    }
    const outcome = await this.deps.rooms.pipeline.accept(v.value, version, { origin: 'local' });
    if (outcome.status !== 'persisted' && outcome.status !== 'duplicate') {
      throw forbidden(`invite refused: ${'reason' in outcome ? outcome.reason : outcome.status}`);
    }
    return eventId;
  }

  // ---- helpers ----

  /** A room ID (an alias is resolved through its server's directory) and the servers to ask, best first. */
  /** A federation request whose failure reaches the client as a Matrix error (502 when the remote is at fault). */
  private async call<T>(server: string, method: FederationMethod, path: string, opts: Parameters<FederationRequester['request']>[3]): Promise<T> {
    try {
      return await this.client.request<T>(server, method, path, opts);
    } catch (err) {
      throw toMatrixError(err, `${method} ${path.split('/').slice(0, 5).join('/')} on ${server} failed`);
    }
  }

  private async resolve(roomIdOrAlias: string, via: readonly string[], userId: string): Promise<{ roomId: string; servers: string[] }> {
    if (!roomIdOrAlias.startsWith('#')) return { roomId: roomIdOrAlias, servers: await this.candidates(roomIdOrAlias, via, userId) };
    const server = domainOf(roomIdOrAlias);
    if (server === this.deps.serverName) throw notFound(`Unknown room alias ${roomIdOrAlias}`);
    const res = await this.call<JsonObject>(server, 'GET', '/_matrix/federation/v1/query/directory', {
      query: { room_alias: roomIdOrAlias },
    });
    if (typeof res.room_id !== 'string') throw notFound(`Unknown room alias ${roomIdOrAlias}`);
    const listed = Array.isArray(res.servers) ? res.servers.filter((s): s is string => typeof s === 'string') : [];
    return { roomId: res.room_id, servers: await this.candidates(res.room_id, [server, ...listed, ...via], userId) };
  }

  /** `via`, then whoever invited the user, then the room ID's server (rooms before v12 have one). */
  private async candidates(roomId: string, via: readonly string[], userId: string): Promise<string[]> {
    const out = [...via];
    const m = await this.deps.storage.events.getMembership(roomId, userId);
    if (m) {
      const ev = await this.deps.storage.events.getEvent(m.eventId);
      if (ev) out.push(domainOf(ev.event.sender));
    }
    const d = domainOf(roomId);
    if (d !== '') out.push(d);
    return [...new Set(out)].filter((s) => s !== this.deps.serverName && s !== '');
  }

  private async makeTemplate(kind: Kind, roomId: string, userId: string, servers: readonly string[]): Promise<Template> {
    if (servers.length === 0) throw notFound(`No server to ask about ${roomId}`);
    const ver = knownRoomVersions().map((v) => v.id);
    let lastError: unknown;
    for (const server of servers) {
      try {
        const res = await this.call<JsonObject>(server, 'GET', `/_matrix/federation/v1/make_${kind}/${seg(roomId)}/${seg(userId)}`, {
          query: kind === 'leave' ? undefined : { ver },
        });
        const version = getRoomVersion(typeof res.room_version === 'string' ? res.room_version : '1');
        if (!version || !isJsonObject(res.event)) throw new MatrixError(502, 'M_UNKNOWN', `${server} sent an unusable template`);
        const e = res.event;
        if (e.type !== 'm.room.member' || e.state_key !== userId || e.sender !== userId || e.room_id !== roomId) {
          throw new MatrixError(502, 'M_UNKNOWN', `${server} sent a template for another event`);
        }
        return { version, event: e, server };
      } catch (err) {
        lastError = err;
        this.deps.logger.info({ roomId, server, kind, err: String(err) }, 'make_* failed; trying the next server');
      }
    }
    throw toMatrixError(lastError, `could not ${kind} ${roomId}`);
  }

  /** Our event from a template: its prev/auth events and depth, our content, timestamp, hashes and signature. */
  private fill(tpl: Template, userId: string, content: JsonObject): Pdu {
    const e = tpl.event;
    const refs = (v: unknown): EventReference[] => (Array.isArray(v) ? (v as EventReference[]) : []);
    const hashes = new Map<string, string>();
    const ids = (list: EventReference[]) =>
      list.map((r) => {
        if (typeof r === 'string') return r;
        if (typeof r[1]?.sha256 === 'string') hashes.set(r[0], r[1].sha256);
        return r[0];
      });
    const tplContent = isJsonObject(e.content) ? e.content : {};
    const merged: JsonObject = { ...content, membership: tplContent.membership ?? content.membership };
    if (tplContent.join_authorised_via_users_server !== undefined) {
      merged.join_authorised_via_users_server = tplContent.join_authorised_via_users_server;
    }
    const { pdu } = buildEvent(
      {
        type: 'm.room.member',
        stateKey: userId,
        sender: userId,
        content: merged,
        roomId: e.room_id as string,
        prevEvents: ids(refs(e.prev_events)),
        authEvents: ids(refs(e.auth_events)),
        depth: typeof e.depth === 'number' ? e.depth : 1,
        originServerTs: this.deps.now(),
      },
      tpl.version,
      this.deps.serverName,
      this.deps.signingKey,
      (id) => hashes.get(id),
    );
    return pdu;
  }

  /** A local user's membership in a room this server is not in: kept as an outlier for /sync. */
  private async storeOutOfRoom(version: RoomVersion, pdu: Pdu, stripped: JsonObject[]): Promise<void> {
    const event = toRoomEvent(pdu, version);
    const create = stripped.find((s) => s.type === 'm.room.create');
    const creator = typeof create?.sender === 'string' ? create.sender : event.sender;
    if (!(await this.deps.storage.events.getEvent(event.eventId))) {
      await this.deps.storage.events.persistEvent({ event, outlier: true, outOfRoomMembership: true, newRoom: { version: version.id, creator } });
    }
    this.deps.notifier.notify('events', [event.sender]);
  }
}

function toMatrixError(err: unknown, fallback: string): MatrixError {
  if (err instanceof MatrixError) return err;
  if (typeof err === 'object' && err !== null) {
    const e = err as { status?: unknown; errcode?: unknown; error?: unknown };
    if (typeof e.errcode === 'string' && typeof e.status === 'number') {
      return new MatrixError(e.status >= 500 || e.status < 400 ? 502 : e.status, e.errcode, typeof e.error === 'string' ? e.error : fallback);
    }
  }
  return new MatrixError(502, 'M_UNKNOWN', `${fallback}: ${err instanceof Error ? err.message : String(err)}`);
}
