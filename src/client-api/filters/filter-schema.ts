/**
 * The filter JSON (definitions/sync_filter.yaml), validated when a filter is created or passed inline.
 * Unknown keys are kept (a client may read its filter back), so objects are "loose".
 */
import { z } from 'zod';

const idList = (sigil: string) => z.array(z.string().startsWith(sigil));

export const eventFilterSchema = z.looseObject({
  limit: z.number().int().min(1).optional(),
  not_senders: idList('@').optional(),
  not_types: z.array(z.string()).optional(),
  senders: idList('@').optional(),
  types: z.array(z.string()).optional(),
});

export const roomEventFilterSchema = z.looseObject({
  ...eventFilterSchema.shape,
  unread_thread_notifications: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  not_rooms: idList('!').optional(),
  rooms: idList('!').optional(),
  contains_url: z.boolean().optional(),
});

export const roomFilterSchema = z.looseObject({
  not_rooms: idList('!').optional(),
  rooms: idList('!').optional(),
  ephemeral: roomEventFilterSchema.optional(),
  include_leave: z.boolean().optional(),
  state: roomEventFilterSchema.optional(),
  timeline: roomEventFilterSchema.optional(),
  account_data: roomEventFilterSchema.optional(),
});

export const filterSchema = z.looseObject({
  event_fields: z.array(z.string()).optional(),
  event_format: z.enum(['client', 'federation']).optional(),
  presence: eventFilterSchema.optional(),
  account_data: eventFilterSchema.optional(),
  room: roomFilterSchema.optional(),
});

export type Filter = z.infer<typeof filterSchema>;
