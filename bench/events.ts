/**
 * Throughput of the per-event pipeline on receipt (validate → event ID → signatures → content
 * hash) and of building our own events. Run: `npx tsc -p . && node dist/bench/events.js`.
 */
import { performance } from 'node:perf_hooks';
import { buildEvent } from '../src/core/event-builder.js';
import { toRoomEvent, validatePdu } from '../src/core/event-format.js';
import { checkContentHash } from '../src/core/event-hashes.js';
import { verifyEventSignatures } from '../src/core/event-signing.js';
import { redactPdu } from '../src/core/redaction.js';
import { generateSigningKey } from '../src/core/signing.js';
import { getRoomVersion } from '../src/rooms/versions.js';

const version = getRoomVersion('12')!;
const key = generateSigningKey('bench');
const verifyKey = { keyId: key.keyId, publicKey: key.publicKey };
const keyFor = (server: string, keyId: string) => (server === 'bench.example' && keyId === key.keyId ? verifyKey : undefined);

const body = 'The quick brown fox jumps over the lazy dog. '.repeat(6);
const template = (i: number) => ({
  type: 'm.room.message',
  sender: '@alice:bench.example',
  content: { msgtype: 'm.text', body: `${body}${i}`, 'm.mentions': {} },
  roomId: '!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ',
  prevEvents: ['$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
  authEvents: ['$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '$ccccccccccccccccccccccccccccccccccccccccccc'],
  depth: 1000 + i,
  originServerTs: 1_700_000_000_000 + i,
});

const N = 5000;
const wire = Array.from({ length: N }, (_, i) => JSON.stringify(buildEvent(template(i), version, 'bench.example', key).pdu));

function measure(label: string, fn: (i: number) => void): void {
  for (let i = 0; i < 200; i++) fn(i % N); // warm-up
  const start = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  const ms = performance.now() - start;
  console.log(`${label.padEnd(38)} ${(ms / N * 1000).toFixed(1).padStart(7)} µs/event  ${Math.round(N / (ms / 1000)).toString().padStart(7)} events/s`);
}

const parsed = wire.map((w) => JSON.parse(w));
console.log(`room version ${version.id}, ${N} message events of ~${wire[0].length} bytes`);
measure('JSON.parse', (i) => JSON.parse(wire[i]));
measure('validatePdu', (i) => validatePdu(parsed[i], version));
measure('redactPdu', (i) => redactPdu(parsed[i], version));
measure('toRoomEvent (event ID)', (i) => toRoomEvent(parsed[i], version));
measure('checkContentHash', (i) => checkContentHash(parsed[i]));
measure('verifyEventSignatures', (i) => verifyEventSignatures(parsed[i], version, keyFor));
measure('receive: parse+validate+id+sigs+hash', (i) => {
  const r = validatePdu(JSON.parse(wire[i]), version);
  if (!r.ok) throw new Error(r.reason);
  toRoomEvent(r.value, version);
  verifyEventSignatures(r.value, version, keyFor);
  checkContentHash(r.value);
});
measure('buildEvent (hash+sign+id)', (i) => buildEvent(template(i), version, 'bench.example', key));
