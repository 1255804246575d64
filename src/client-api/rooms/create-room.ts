import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import { defineRoute } from '../../http/route.js';
import { jsonObject } from '../../http/validation.js';
import { userIdString } from './common.js';

const body = z.object({
  visibility: z.enum(['public', 'private']).optional(),
  room_alias_name: z.string().optional(),
  name: z.string().optional(),
  topic: z.string().optional(),
  invite: z.array(userIdString).optional(),
  invite_3pid: z.array(jsonObject).optional(),
  room_version: z.string().optional(),
  creation_content: jsonObject.optional(),
  initial_state: z.array(z.object({ type: z.string(), state_key: z.string().optional(), content: jsonObject })).optional(),
  preset: z.enum(['private_chat', 'public_chat', 'trusted_private_chat']).optional(),
  is_direct: z.boolean().optional(),
  power_level_content_override: jsonObject.optional(),
});

export const createRoom = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/createRoom',
  auth: 'required',
  body,
  handler: async ({ app, requester, body }) => {
    const roomId = await app.rooms.createRoom(requester.userId, {
      ...body,
      initial_state: body.initial_state?.map((e) => ({ ...e, content: e.content as JsonObject })),
    });
    return { body: { room_id: roomId } };
  },
});
