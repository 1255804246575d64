/**
 * Worker-thread side of SignatureVerifierPool. Two kinds of work:
 * - `verify`: a packed batch of Ed25519 signatures — one buffer holding, per job,
 *   [message length: u32][message][signature: 64][key: 32], so it crosses threads as one
 *   transferable instead of thousands of small objects;
 * - `events`: whole PDUs given the checks they get on their own (selfCheckEvent), with the
 *   verify keys the main thread fetched for them.
 */
import { parentPort } from 'node:worker_threads';
import { selfCheckEvent } from '../core/event-self-check.js';
import { type VerifyKey, verifyBytes } from '../core/signing.js';
import { getRoomVersion } from '../rooms/versions.js';

type Request =
  | { kind: 'verify'; id: number; packed: ArrayBuffer; count: number }
  | { kind: 'events'; id: number; versionId: string; raws: unknown[]; keys: Array<[string, VerifyKey]> };

parentPort?.on('message', (req: Request) => {
  if (req.kind === 'events') {
    const version = getRoomVersion(req.versionId);
    const keys = new Map(req.keys);
    const results = req.raws.map((raw) =>
      version ? selfCheckEvent(raw, version, (s, k) => keys.get(`${s}\u0000${k}`)) : { ok: false, reason: `unknown room version ${req.versionId}` },
    );
    parentPort!.postMessage({ id: req.id, results });
    return;
  }
  const { id, packed, count } = req;
  const bytes = new Uint8Array(packed);
  const view = new DataView(packed);
  const results = new Uint8Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(at);
    at += 4;
    const message = bytes.subarray(at, at + len);
    at += len;
    const signature = bytes.subarray(at, at + 64);
    at += 64;
    const publicKey = bytes.subarray(at, at + 32);
    at += 32;
    results[i] = verifyBytes(message, signature, publicKey) ? 1 : 0;
  }
  parentPort!.postMessage({ id, results }, [results.buffer]);
});
