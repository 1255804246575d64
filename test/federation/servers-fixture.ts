/**
 * Several Comet servers in one process, for federation unit tests: each has its own SQLite
 * store, signing key and rooms service; requests between them are function calls into the
 * other server's federation handlers (no HTTP, no X-Matrix), and a small stand-in for the
 * outbound sender delivers each server's new local events to the other servers in the room.
 */
import { pino } from 'pino';
import type { JsonObject } from '../../src/core/json.js';
import { domainOf, type Pdu } from '../../src/core/pdu.js';
import { generateSigningKey, type SigningKey, type VerifyKey } from '../../src/core/signing.js';
import { MatrixError } from '../../src/http/errors.js';
import { InProcessNotifier } from '../../src/notifier.js';
import type { KeyRing } from '../../src/room-engine/key-ring.js';
import { Rooms } from '../../src/room-engine/rooms.js';
import { getRoomVersion } from '../../src/rooms/versions.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { makeMembership } from '../../federation/rooms/make-membership.js';
import { receiveInvite, type InviteRequest } from '../../federation/rooms/receive-invite.js';
import { RemoteRooms } from '../../federation/rooms/remote-membership.js';
import type { FederationRequester, FederationRequestOptions, RoomFederationDeps } from '../../federation/rooms/room-federation-deps.js';
import { sendMembership } from '../../federation/rooms/send-membership.js';
import { ServedReads } from '../../federation/rooms/served-reads.js';

/** Knows every test server's key, as a key fetcher would after fetching them. */
class SharedKeyRing implements KeyRing {
  readonly keys = new Map<string, SigningKey>();
  async getVerifyKeys(server: string, keyIds: readonly string[]): Promise<VerifyKey[]> {
    const k = this.keys.get(server);
    return k && keyIds.includes(k.keyId) ? [{ keyId: k.keyId, publicKey: k.publicKey }] : [];
  }
}

export interface TestServer {
  name: string;
  storage: SqliteStorage;
  rooms: Rooms;
  deps: RoomFederationDeps;
  reads: ServedReads;
  remote: RemoteRooms;
  /** Federation requests this server received, as `METHOD path`. */
  received: string[];
  /** Set to refuse all inbound requests (a server that is down). */
  down: boolean;
}

export class TestFederation {
  readonly servers = new Map<string, TestServer>();
  private readonly keyRing = new SharedKeyRing();
  private delivery: Promise<void> = Promise.resolve();
  readonly deliveryLog: Array<{ to: string; eventId: string; status: string }> = [];

  async addServer(name: string, users: string[] = [], dbPath = ':memory:'): Promise<TestServer> {
    const storage = SqliteStorage.open(dbPath);
    const signingKey = generateSigningKey(`k${this.servers.size}`);
    this.keyRing.keys.set(name, signingKey);
    const notifier = new InProcessNotifier();
    const logger = pino({ level: 'silent' });
    let clock = 1_000_000;
    const now = () => clock++;
    const rooms = new Rooms({ storage, serverName: name, signingKey, now, notifier, logger, keyRing: this.keyRing });
    const deps: RoomFederationDeps = { serverName: name, signingKey, storage, rooms, keyRing: this.keyRing, notifier, logger, now };
    const remote = new RemoteRooms(deps, this.requester(name));
    rooms.attachRemote(remote);
    for (const u of users) {
      await storage.accounts.createUser({ userId: `@${u}:${name}`, passwordHash: null, isAdmin: false, createdTs: 0, profile: { displayname: u } });
    }
    const server: TestServer = { name, storage, rooms, deps, reads: new ServedReads(deps), remote, received: [], down: false };
    this.servers.set(name, server);
    rooms.pipeline.onPersisted(({ event, version, origin }) => {
      if (origin !== 'local') return;
      this.delivery = this.delivery.then(() => this.deliver(server, event.roomId, event.pdu, version.id));
    });
    return server;
  }

  /**
   * The common start: hs1.test (alice and `hs1Users`) creates a public room and bob of hs2.test
   * joins it over federation. `hs2Db` keeps hs2's database in a file (to reopen it).
   */
  async publicRoomAcrossTwo(opts: { hs1Users?: string[]; hs2Db?: string } = {}): Promise<{ hs1: TestServer; hs2: TestServer; roomId: string }> {
    const hs1 = await this.addServer('hs1.test', ['alice', ...(opts.hs1Users ?? [])]);
    const hs2 = await this.addServer('hs2.test', ['bob'], opts.hs2Db);
    const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat' });
    await hs2.rooms.join('@bob:hs2.test', roomId, undefined, ['hs1.test']);
    await this.flush();
    return { hs1, hs2, roomId };
  }

  /** Waits until every queued delivery is done. */
  async flush(): Promise<void> {
    let last: Promise<void> | undefined;
    while (last !== this.delivery) {
      last = this.delivery;
      await last;
    }
  }

  private async deliver(from: TestServer, roomId: string, pdu: Pdu, versionId: string): Promise<void> {
    if (this.servers.size < 2) return;
    const members = await from.storage.events.getRoomMembers(roomId, ['join']);
    const targets = new Set(members.map((m) => domainOf(m.userId)));
    const member = pdu.type === 'm.room.member' && typeof pdu.state_key === 'string' ? domainOf(pdu.state_key) : undefined;
    if (member !== undefined) targets.add(member);
    for (const t of targets) {
      const to = this.servers.get(t);
      if (!to || to === from || to.down) continue;
      const room = await to.storage.events.getRoom(roomId);
      if (!room || room.version !== versionId || !(await to.storage.events.getForwardExtremities(roomId)).length) continue;
      const out = await to.rooms.pipeline.accept(pdu, getRoomVersion(versionId)!, { origin: 'remote' });
      const eventId = 'event' in out ? out.event.eventId : '?';
      this.deliveryLog.push({ to: t, eventId, status: out.status });
    }
  }

  private requester(from: string): FederationRequester {
    return {
      request: async <T>(destination: string, method: string, path: string, opts: FederationRequestOptions = {}): Promise<T> => {
        const to = this.servers.get(destination);
        if (!to || to.down) throw new MatrixError(502, 'M_UNKNOWN', `cannot reach ${destination}`);
        to.received.push(`${method} ${path}`);
        return (await this.dispatch(to, from, method, path, opts)) as T;
      },
    };
  }

  private async dispatch(to: TestServer, origin: string, method: string, path: string, opts: FederationRequestOptions): Promise<JsonObject> {
    const parts = path.split('/').map(decodeURIComponent);
    // ['', '_matrix', 'federation', 'v1', name, ...]
    const [, , , , name, a, b] = parts;
    const q = opts.query ?? {};
    const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
    if (method === 'GET' && name.startsWith('make_')) {
      const kind = name.slice(5) as 'join' | 'leave' | 'knock';
      return (await makeMembership(to.deps, kind, origin, a, b, list(q.ver))) as unknown as JsonObject;
    }
    if (method === 'PUT' && name.startsWith('send_')) {
      const kind = name.slice(5) as 'join' | 'leave' | 'knock';
      return sendMembership(to.deps, kind, origin, a, b, opts.body);
    }
    if (method === 'PUT' && name === 'invite') {
      return (await receiveInvite(to.deps, origin, a, b, opts.body as unknown as InviteRequest)) as unknown as JsonObject;
    }
    if (method === 'GET' && name === 'query' && a === 'directory') {
      const alias = String(q.room_alias);
      const mapped = await to.storage.roomDirectory.getAlias(alias);
      if (!mapped) throw new MatrixError(404, 'M_NOT_FOUND', 'no alias');
      return { room_id: mapped.roomId, servers: [to.name] };
    }
    if (method === 'GET' && name === 'backfill') {
      return to.reads.backfill(origin, a, list(q.v) ?? [], Number(q.limit ?? 10));
    }
    throw new MatrixError(404, 'M_UNRECOGNIZED', `no handler for ${method} ${path}`);
  }
}
