/**
 * Worker-thread side of SignatureVerifierPool: verifies a packed batch of Ed25519 signatures.
 * A batch is one buffer holding, per job, [message length: u32][message][signature: 64][key: 32],
 * so it crosses threads as one transferable instead of thousands of small objects.
 */
import { parentPort } from 'node:worker_threads';
import { verifyBytes } from '../core/signing.js';

interface Request {
  id: number;
  packed: ArrayBuffer;
  count: number;
}

parentPort?.on('message', ({ id, packed, count }: Request) => {
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
