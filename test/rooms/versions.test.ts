import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ROOM_VERSION, getRoomVersion, knownRoomVersions } from '../../src/rooms/versions.js';

test('room versions 1 to 12 are all known, 12 is the default', () => {
  assert.deepEqual(
    knownRoomVersions().map((v) => v.id),
    ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'],
  );
  assert.equal(DEFAULT_ROOM_VERSION, '12');
  assert.equal(getRoomVersion('13'), undefined);
});

test('feature flags follow the spec feature matrix', () => {
  const knock = knownRoomVersions().filter((v) => v.knocking).map((v) => v.id);
  assert.deepEqual(knock, ['7', '8', '9', '10', '11', '12']);
  const restricted = knownRoomVersions().filter((v) => v.restrictedJoinRule).map((v) => v.id);
  assert.deepEqual(restricted, ['8', '9', '10', '11', '12']);
  assert.equal(getRoomVersion('1')?.stateRes, 'v1');
  assert.equal(getRoomVersion('2')?.stateRes, 'v2');
  assert.equal(getRoomVersion('12')?.stateRes, 'v2.1');
});
