/** The alias → room ID mapping: PUT, GET and DELETE /directory/room/{roomAlias}. */
import { z } from 'zod';
import { domainOf } from '../../core/pdu.js';
import type { AppContext } from '../../app-context.js';
import { forbidden, MatrixError, notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { requiredPowerForEvent, userPowerLevel } from '../../room-engine/core-rules.js';

const ALIAS = /^#[^:\s]+:[^\s]+$/;

function checkAlias(app: AppContext, alias: string, mustBeLocal: boolean): void {
  if (!ALIAS.test(alias) || Buffer.byteLength(alias) > 255) throw new MatrixError(400, 'M_INVALID_PARAM', `${alias} is not a valid room alias`);
  if (mustBeLocal && domainOf(alias) !== app.serverName) {
    throw new MatrixError(400, 'M_INVALID_PARAM', `Aliases must be on this server (${app.serverName})`);
  }
}

export const putRoomAlias = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/directory/room/{roomAlias}',
  auth: 'required',
  body: z.object({ room_id: z.string() }),
  handler: async ({ app, requester, params, body }) => {
    checkAlias(app, params.roomAlias, true);
    await app.rooms.requireRoom(body.room_id);
    if (!(await app.storage.roomDirectory.createAlias(params.roomAlias, body.room_id, requester.userId))) {
      throw new MatrixError(409, 'M_UNKNOWN', `Room alias ${params.roomAlias} already exists`);
    }
    return { body: {} };
  },
});

export const getRoomAlias = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/directory/room/{roomAlias}',
  auth: 'optional',
  handler: async ({ app, params }) => {
    checkAlias(app, params.roomAlias, false);
    const mapped = await app.storage.roomDirectory.getAlias(params.roomAlias);
    // Remote aliases would be queried over federation; until then they are simply unknown.
    if (!mapped) throw notFound(`Room alias ${params.roomAlias} not found`);
    return { body: { room_id: mapped.roomId, servers: [app.serverName] } };
  },
});

export const deleteRoomAlias = defineRoute({
  method: 'DELETE',
  path: '/_matrix/client/v3/directory/room/{roomAlias}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    checkAlias(app, params.roomAlias, false);
    const mapped = await app.storage.roomDirectory.getAlias(params.roomAlias);
    if (!mapped) throw notFound(`Room alias ${params.roomAlias} not found`);
    if (mapped.creator !== requester.userId && !(await app.storage.accounts.getUser(requester.userId))?.isAdmin) {
      // Room moderators who may change the canonical alias may also remove local aliases.
      const room = await app.storage.events.getRoom(mapped.roomId);
      const version = room && (await app.rooms.requireRoom(mapped.roomId));
      const state = await app.rooms.currentLookup(mapped.roomId);
      const allowed =
        version !== undefined &&
        userPowerLevel(version, requester.userId, state) >= requiredPowerForEvent(version, 'm.room.canonical_alias', true, state);
      if (!allowed) throw forbidden('Only the alias creator, a server admin or a room moderator can delete it');
    }
    await app.storage.roomDirectory.deleteAlias(params.roomAlias);
    return { body: {} };
  },
});
