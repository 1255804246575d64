import type { JsonObject } from '../core/json.js';

/**
 * Membership helpers shared by the membership endpoints, sync and profile propagation.
 * The auth rules have the last word on every change; these helpers only build content and
 * catch requests whose meaning would silently change (an "unban" of a joined user would be
 * a kick), so the client gets a precise error instead.
 */

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';
export type MembershipAction = 'join' | 'invite' | 'leave' | 'kick' | 'ban' | 'unban' | 'knock';

const MEMBERSHIPS = new Set<string>(['join', 'invite', 'leave', 'ban', 'knock']);

export function membershipOf(content: JsonObject | undefined): Membership | undefined {
  const m = content?.membership;
  return typeof m === 'string' && MEMBERSHIPS.has(m) ? (m as Membership) : undefined;
}

/** The membership an action produces on the target. */
export function membershipForAction(action: MembershipAction): Membership {
  switch (action) {
    case 'join':
      return 'join';
    case 'invite':
      return 'invite';
    case 'ban':
      return 'ban';
    case 'knock':
      return 'knock';
    default:
      return 'leave';
  }
}

export interface MembershipContentOptions {
  reason?: string;
  displayname?: string;
  avatarUrl?: string;
  isDirect?: boolean;
}

/** Content of the member event an action sends. Profile fields only make sense for the user's own join/knock. */
export function membershipContent(action: MembershipAction, opts: MembershipContentOptions = {}): JsonObject {
  const content: JsonObject = { membership: membershipForAction(action) };
  if (opts.reason !== undefined && opts.reason !== '') content.reason = opts.reason;
  if (action === 'join' || action === 'knock') {
    if (opts.displayname !== undefined) content.displayname = opts.displayname;
    if (opts.avatarUrl !== undefined) content.avatar_url = opts.avatarUrl;
  }
  if (action === 'invite' && opts.isDirect === true) content.is_direct = true;
  return content;
}

export type Precheck = { ok: true } | { ok: false; errcode: 'M_FORBIDDEN' | 'M_BAD_STATE' | 'M_UNKNOWN'; error: string };

/**
 * Checks a requested action against the target's current membership for the cases where
 * the auth rules would accept a different change than the one the user asked for.
 */
export function precheckMembershipAction(
  action: MembershipAction,
  sender: string,
  target: string,
  targetMembership: Membership | undefined,
): Precheck {
  switch (action) {
    case 'unban':
      if (targetMembership !== 'ban') return { ok: false, errcode: 'M_FORBIDDEN', error: `${target} is not banned` };
      return { ok: true };
    case 'kick':
      if (sender === target) return { ok: false, errcode: 'M_FORBIDDEN', error: 'use /leave to leave a room' };
      if (targetMembership === 'ban') return { ok: false, errcode: 'M_FORBIDDEN', error: `${target} is banned; use /unban` };
      if (targetMembership === undefined || targetMembership === 'leave') {
        return { ok: false, errcode: 'M_FORBIDDEN', error: `${target} is not in the room` };
      }
      return { ok: true };
    case 'invite':
      if (targetMembership === 'join') return { ok: false, errcode: 'M_FORBIDDEN', error: `${target} is already in the room` };
      if (targetMembership === 'ban') return { ok: false, errcode: 'M_FORBIDDEN', error: `${target} is banned from the room` };
      return { ok: true };
    case 'knock':
      if (targetMembership === 'join') return { ok: false, errcode: 'M_FORBIDDEN', error: 'you are already in the room' };
      if (targetMembership === 'ban') return { ok: false, errcode: 'M_FORBIDDEN', error: 'you are banned from the room' };
      return { ok: true };
    default:
      return { ok: true };
  }
}

/** `/forget` is only allowed once the user no longer belongs to the room. */
export function canForget(membership: Membership | undefined): boolean {
  return membership !== 'join' && membership !== 'invite' && membership !== 'knock';
}

export type MembershipTransition =
  | 'joined'
  | 'profile_changed'
  | 'left'
  | 'kicked'
  | 'invited'
  | 'invite_rejected'
  | 'invite_withdrawn'
  | 'banned'
  | 'unbanned'
  | 'knocked'
  | 'knock_withdrawn'
  | 'knock_rejected'
  | 'unchanged';

/** Names a membership change, from the target's previous membership to the new event. */
export function membershipTransition(
  prev: Membership | undefined,
  next: Membership,
  sender: string,
  target: string,
): MembershipTransition {
  const self = sender === target;
  if (next === 'join') return prev === 'join' ? 'profile_changed' : 'joined';
  if (next === 'invite') return prev === 'invite' ? 'unchanged' : 'invited';
  if (next === 'ban') return prev === 'ban' ? 'unchanged' : 'banned';
  if (next === 'knock') return prev === 'knock' ? 'unchanged' : 'knocked';
  // next === 'leave'
  switch (prev) {
    case 'join':
      return self ? 'left' : 'kicked';
    case 'invite':
      return self ? 'invite_rejected' : 'invite_withdrawn';
    case 'ban':
      return 'unbanned';
    case 'knock':
      return self ? 'knock_withdrawn' : 'knock_rejected';
    default:
      return 'unchanged';
  }
}
