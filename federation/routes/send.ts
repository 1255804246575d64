/** `PUT /_matrix/federation/v1/send/{txnId}`: a transaction of PDUs and EDUs from another server. */
import { z } from 'zod';
import { badJson } from '../../src/http/errors.js';
import { defineFederationRoute } from '../http/federation-route.js';
import { MAX_EDUS, MAX_PDUS } from '../inbound/transaction-handler.js';

/** 50 PDUs of at most 64 KiB each, plus 100 EDUs, with room to spare. */
const MAX_TXN_BYTES = 16 * 1024 * 1024;

export const sendTransaction = defineFederationRoute({
  method: 'PUT',
  path: '/_matrix/federation/v1/send/{txnId}',
  maxBodyBytes: MAX_TXN_BYTES,
  body: z.object({
    origin: z.string(),
    origin_server_ts: z.number().int(),
    pdus: z.array(z.unknown()),
    edus: z.array(z.unknown()).optional(),
  }),
  handler: async ({ app, origin, params, body }) => {
    if (body.pdus.length > MAX_PDUS) throw badJson(`a transaction holds at most ${MAX_PDUS} PDUs`);
    if ((body.edus?.length ?? 0) > MAX_EDUS) throw badJson(`a transaction holds at most ${MAX_EDUS} EDUs`);
    const result = await app.federation.transactions.handle(origin, params.txnId, {
      origin,
      pdus: body.pdus,
      edus: body.edus ?? [],
    });
    return { body: result };
  },
});
