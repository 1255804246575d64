/**
 * The room version table: the only place that knows what differs between room versions.
 * Every rule elsewhere asks this table (never compares version strings) which variant applies.
 */

export type EventIdFormat =
  /** v1–v2: IDs are assigned by the originating server and carried in `event_id`. */
  | 'server-assigned'
  /** v3: `$` + standard unpadded base64 of the reference hash. */
  | 'reference-hash'
  /** v4+: `$` + URL-safe unpadded base64 of the reference hash. */
  | 'reference-hash-urlsafe';

export type RedactionRules = 'v1' | 'v6' | 'v8' | 'v9' | 'v11';
export type StateResAlgorithm = 'v1' | 'v2' | 'v2.1';

export interface RoomVersion {
  readonly id: string;
  readonly stable: boolean;
  readonly eventIdFormat: EventIdFormat;
  /** v1–v2 reference events as `[event_id, {sha256}]` pairs. */
  readonly eventRefsWithHashes: boolean;
  /** v12: the room ID is `!` + the URL-safe reference hash of the create event, which has no `room_id`. */
  readonly roomIdFromCreateEvent: boolean;
  readonly redaction: RedactionRules;
  readonly stateRes: StateResAlgorithm;
  /** v5+: a signature only counts if made while the key was valid (`valid_until_ts`). */
  readonly enforceKeyValidity: boolean;
  /** v6+: canonical JSON is strict (integers in range, no floats) and events violating it are rejected. */
  readonly strictCanonicalJson: boolean;
  /** v1–v5: `m.room.aliases` has its own auth rule. */
  readonly specialCaseAliasesAuth: boolean;
  /** v1–v2: a redaction is allowed when its event ID's domain matches the redacted event ID's domain. */
  readonly redactionAuthByEventIdDomain: boolean;
  /** v6+: changes to `notifications` in power levels need the sender's power. */
  readonly limitNotificationsPowerLevels: boolean;
  /** v7+: the `knock` membership and join rule. */
  readonly knocking: boolean;
  /** v8+: the `restricted` join rule. */
  readonly restrictedJoinRule: boolean;
  /** v10+: the `knock_restricted` join rule. */
  readonly knockRestrictedJoinRule: boolean;
  /** v10+: power level values must be JSON integers, not strings. */
  readonly integerPowerLevels: boolean;
  /** v11+: the creator is the create event's `sender`; `content.creator` is not required. */
  readonly creatorIsSender: boolean;
  /** v11+: `redacts` lives in `content`, not at the top level. */
  readonly redactsInContent: boolean;
  /** v12: creators (sender + `additional_creators`) have unlimited power and are absent from power levels. */
  readonly privilegedCreators: boolean;
}

const V1: RoomVersion = {
  id: '1',
  stable: true,
  eventIdFormat: 'server-assigned',
  eventRefsWithHashes: true,
  roomIdFromCreateEvent: false,
  redaction: 'v1',
  stateRes: 'v1',
  enforceKeyValidity: false,
  strictCanonicalJson: false,
  specialCaseAliasesAuth: true,
  redactionAuthByEventIdDomain: true,
  limitNotificationsPowerLevels: false,
  knocking: false,
  restrictedJoinRule: false,
  knockRestrictedJoinRule: false,
  integerPowerLevels: false,
  creatorIsSender: false,
  redactsInContent: false,
  privilegedCreators: false,
};

const V2: RoomVersion = { ...V1, id: '2', stateRes: 'v2' };
const V3: RoomVersion = {
  ...V2,
  id: '3',
  eventIdFormat: 'reference-hash',
  eventRefsWithHashes: false,
  redactionAuthByEventIdDomain: false,
};
const V4: RoomVersion = { ...V3, id: '4', eventIdFormat: 'reference-hash-urlsafe' };
const V5: RoomVersion = { ...V4, id: '5', enforceKeyValidity: true };
const V6: RoomVersion = {
  ...V5,
  id: '6',
  redaction: 'v6',
  strictCanonicalJson: true,
  specialCaseAliasesAuth: false,
  limitNotificationsPowerLevels: true,
};
const V7: RoomVersion = { ...V6, id: '7', knocking: true };
const V8: RoomVersion = { ...V7, id: '8', redaction: 'v8', restrictedJoinRule: true };
const V9: RoomVersion = { ...V8, id: '9', redaction: 'v9' };
const V10: RoomVersion = { ...V9, id: '10', knockRestrictedJoinRule: true, integerPowerLevels: true };
const V11: RoomVersion = { ...V10, id: '11', redaction: 'v11', creatorIsSender: true, redactsInContent: true };
const V12: RoomVersion = {
  ...V11,
  id: '12',
  roomIdFromCreateEvent: true,
  stateRes: 'v2.1',
  privilegedCreators: true,
};

const TABLE: ReadonlyMap<string, RoomVersion> = new Map(
  [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12].map((v) => [v.id, v]),
);

/** The version new rooms get unless the creator asks for another (the spec's recommendation). */
export const DEFAULT_ROOM_VERSION = '12';

export function getRoomVersion(id: string): RoomVersion | undefined {
  return TABLE.get(id);
}

export function knownRoomVersions(): RoomVersion[] {
  return [...TABLE.values()];
}

/** The `m.room_versions` capability as the client API reports it. */
export function roomVersionsCapability(): { default: string; available: Record<string, 'stable' | 'unstable'> } {
  const available: Record<string, 'stable' | 'unstable'> = {};
  for (const v of TABLE.values()) available[v.id] = v.stable ? 'stable' : 'unstable';
  return { default: DEFAULT_ROOM_VERSION, available };
}
