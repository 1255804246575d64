import { encodeBase64 } from '../../../src/core/base64.js';
import type { JsonObject } from '../../../src/core/json.js';
import { generateSigningKey, type SigningKey, signJson } from '../../../src/core/signing.js';
import { ALICE, type AuthCase, BOB, CAROL, DAVE, type RoomSetup, type TestRoom } from './fixtures.js';
import { runAuthCases } from './run-cases.js';

const idServerKey = generateSigningKey('0');
const otherKey = generateSigningKey('0');
const b64 = (k: SigningKey) => encodeBase64(k.publicKey);

/** Adds the `m.room.third_party_invite` Alice made for token `tok`. */
function addInvite(token: string, keys: JsonObject, sender = ALICE) {
  return (r: TestRoom): void => {
    r.addEvent({
      type: 'm.room.third_party_invite',
      sender,
      stateKey: token,
      content: { display_name: 'b...@example.com', key_validity_url: 'https://id.example/isvalid', ...keys },
    });
  };
}

function signed(mxid: string, token: string, key = idServerKey): JsonObject {
  return signJson({ mxid, token }, 'id.example', key) as unknown as JsonObject;
}

/** The member invite that turns the third-party invite into a Matrix invite for `target`. */
function inviteFor(target: string, tpi: JsonObject, sender = ALICE) {
  return (r: TestRoom) =>
    r.event({
      type: 'm.room.member',
      sender,
      stateKey: target,
      content: { membership: 'invite', third_party_invite: { display_name: 'b...@example.com', ...tpi } },
    });
}

const room: RoomSetup = { joinRule: 'invite', members: [[DAVE, 'join']] };
const withKey = addInvite('tok', { public_key: b64(idServerKey) });

const cases: AuthCase[] = [
  { version: '1', name: 'signature matches public_key', setup: room, adjust: withKey, event: inviteFor(BOB, { signed: signed(BOB, 'tok') }), allow: true },
  {
    version: '12',
    name: 'signature matches a key in public_keys',
    setup: room,
    adjust: addInvite('tok', { public_key: b64(otherKey), public_keys: [{ public_key: b64(idServerKey) }] }),
    event: inviteFor(BOB, { signed: signed(BOB, 'tok') }),
    allow: true,
  },
  {
    version: '6',
    name: 'signed.mxid is not the invited user',
    setup: room,
    adjust: withKey,
    event: inviteFor(BOB, { signed: signed(CAROL, 'tok') }),
    allow: false,
    reason: /third-party invite: signed.mxid does not match the state_key/,
  },
  {
    version: '9',
    name: 'token with no m.room.third_party_invite',
    setup: room,
    adjust: withKey,
    event: inviteFor(BOB, { signed: signed(BOB, 'nope') }),
    allow: false,
    reason: /no m.room.third_party_invite event for the token/,
  },
  {
    version: '10',
    name: 'sender is not who made the third-party invite',
    setup: room,
    adjust: withKey,
    event: inviteFor(BOB, { signed: signed(BOB, 'tok') }, DAVE),
    allow: false,
    reason: /sender does not match the sender of the m.room.third_party_invite/,
  },
  {
    version: '11',
    name: 'signed by a key the invite does not list',
    setup: room,
    adjust: withKey,
    event: inviteFor(BOB, { signed: signed(BOB, 'tok', otherKey) }),
    allow: false,
    reason: /no signature in signed matches a public key/,
  },
  {
    version: '4',
    name: 'signed object altered after signing',
    setup: room,
    adjust: (r) => {
      withKey(r);
      addInvite('tok2', { public_key: b64(idServerKey) })(r);
    },
    event: inviteFor(BOB, { signed: { ...signed(BOB, 'tok'), token: 'tok2' } }),
    allow: false,
    reason: /no signature in signed matches/,
  },
  {
    version: '3',
    name: 'third_party_invite without signed',
    setup: room,
    adjust: withKey,
    event: inviteFor(BOB, {}),
    allow: false,
    reason: /third_party_invite has no signed object/,
  },
  {
    version: '8',
    name: 'signed without a token',
    setup: room,
    adjust: withKey,
    event: inviteFor(BOB, { signed: signJson({ mxid: BOB }, 'id.example', idServerKey) as unknown as JsonObject }),
    allow: false,
    reason: /signed lacks mxid or token/,
  },
  {
    version: '7',
    name: 'invited user is banned',
    setup: { ...room, members: [[DAVE, 'join'], [BOB, 'ban']] },
    adjust: withKey,
    event: inviteFor(BOB, { signed: signed(BOB, 'tok') }),
    allow: false,
    reason: /third-party invite: target @bob:b.example is banned/,
  },
  {
    version: '5',
    name: 'third-party invite whose public key is not base64',
    setup: room,
    adjust: addInvite('tok', { public_key: '!!not base64!!' }),
    event: inviteFor(BOB, { signed: signed(BOB, 'tok') }),
    allow: false,
    reason: /no signature in signed matches/,
  },
  {
    version: '2',
    name: 'third_party_invite is not an object',
    setup: room,
    adjust: withKey,
    event: (r) => r.event({ type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'invite', third_party_invite: 'yes' } }),
    allow: false,
    reason: /third_party_invite has no signed object/,
  },
];

runAuthCases(cases);
