import type { RoomEvent } from '../pdu.js';

export type AuthResult = { allowed: true } | { allowed: false; reason: string };

/** Looks up the state entry an auth rule needs: the auth events, or the room state before the event. */
export type AuthStateLookup = (type: string, stateKey: string) => RoomEvent | undefined;

export const ALLOW: AuthResult = Object.freeze({ allowed: true });

export function deny(reason: string): AuthResult {
  return { allowed: false, reason };
}

export const CREATE = 'm.room.create';
export const MEMBER = 'm.room.member';
export const JOIN_RULES = 'm.room.join_rules';
export const POWER_LEVELS = 'm.room.power_levels';
export const THIRD_PARTY_INVITE = 'm.room.third_party_invite';
export const ALIASES = 'm.room.aliases';
export const REDACTION = 'm.room.redaction';

/** The key restricted joins use to name the member who vouched for the joining user. */
export const AUTHORISING_USER = 'join_authorised_via_users_server';

/** A user's current membership, or undefined when they have no (well-formed) member event. */
export function membershipOf(state: AuthStateLookup, userId: string): string | undefined {
  const m = state(MEMBER, userId)?.content.membership;
  return typeof m === 'string' ? m : undefined;
}

/**
 * The room's join rule. A room without a join rules event (or whose event omits `join_rule`)
 * behaves as invite-only, as deployed servers have always treated it; a join rule that is
 * present but not a string matches no rule at all.
 */
export function joinRuleOf(state: AuthStateLookup): string | undefined {
  const ev = state(JOIN_RULES, '');
  if (!ev || !('join_rule' in ev.content)) return 'invite';
  const rule = ev.content.join_rule;
  return typeof rule === 'string' ? rule : undefined;
}

/** Quotes an untrusted value for a reason string without letting it grow unbounded. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
