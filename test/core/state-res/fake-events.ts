/** Bare RoomEvents from an adjacency list (event → auth events), for graph-only unit tests. */
import type { JsonObject } from '../../../src/core/json.js';
import type { RoomEvent } from '../../../src/core/pdu.js';

export interface FakeOptions {
  type?: string;
  stateKey?: string;
  sender?: string;
  ts?: number;
  content?: JsonObject;
}

export function fakeEvent(id: string, authEventIds: string[], o: FakeOptions = {}): RoomEvent {
  const type = o.type ?? 'm.room.topic';
  const stateKey = o.stateKey ?? id;
  const sender = o.sender ?? '@u:x.test';
  const content = o.content ?? {};
  const ts = o.ts ?? 0;
  return {
    eventId: id,
    roomId: '!r:x.test',
    type,
    stateKey,
    sender,
    content,
    originServerTs: ts,
    depth: 0,
    prevEventIds: [],
    authEventIds,
    redacts: undefined,
    pdu: {
      type,
      state_key: stateKey,
      sender,
      content,
      origin_server_ts: ts,
      room_id: '!r:x.test',
      prev_events: [],
      auth_events: authEventIds,
      depth: 0,
      hashes: { sha256: '' },
      signatures: {},
    },
  };
}

export function fakeGraph(shape: Record<string, string[]>, opts: Record<string, FakeOptions> = {}) {
  const events = new Map<string, RoomEvent>();
  for (const [id, auth] of Object.entries(shape)) events.set(id, fakeEvent(id, auth, opts[id]));
  return { events, lookup: (id: string) => events.get(id) };
}
