/** Auth rules for `m.room.member` events (rule 5 in v1–v5 and v12 numbering, 4 in v6–v11). */
import type { RoomVersion } from '../../rooms/versions.js';
import { isJsonObject } from '../json.js';
import { domainOf, type RoomEvent } from '../pdu.js';
import { namedPowerLevel, own, userPowerLevel } from './power-levels.js';
import { checkThirdPartyInvite } from './third-party-invite.js';
import {
  ALLOW,
  AUTHORISING_USER,
  type AuthResult,
  type AuthStateLookup,
  deny,
  joinRuleOf,
  membershipOf,
  show,
} from './types.js';

/** What the member rules look at, gathered once. */
interface MemberContext {
  version: RoomVersion;
  event: RoomEvent;
  state: AuthStateLookup;
  create: RoomEvent;
  sender: string;
  target: string;
  senderMembership: string | undefined;
  targetMembership: string | undefined;
}

export function checkMemberEvent(
  version: RoomVersion,
  event: RoomEvent,
  state: AuthStateLookup,
  create: RoomEvent,
): AuthResult {
  if (event.stateKey === undefined) return deny('member: event has no state_key');
  if (!Object.hasOwn(event.content, 'membership')) return deny('member: content has no membership');
  const membership = event.content.membership;

  if (version.restrictedJoinRule && Object.hasOwn(event.content, AUTHORISING_USER)) {
    // The signature itself is verified with the event's other signatures (see requiredSignatures);
    // here we insist that the authorising server's signature is at least present.
    const authoriser = event.content[AUTHORISING_USER];
    if (typeof authoriser !== 'string' || !hasSignatureFrom(event, domainOf(authoriser))) {
      return deny(`member: event is not signed by the server of ${AUTHORISING_USER} ${show(authoriser)}`);
    }
  }

  const ctx: MemberContext = {
    version,
    event,
    state,
    create,
    sender: event.sender,
    target: event.stateKey,
    senderMembership: membershipOf(state, event.sender),
    targetMembership: membershipOf(state, event.stateKey),
  };
  switch (membership) {
    case 'join':
      return checkJoin(ctx);
    case 'invite':
      return Object.hasOwn(event.content, 'third_party_invite')
        ? checkThirdPartyInvite(version, event, state)
        : checkInvite(ctx);
    case 'leave':
      return checkLeave(ctx);
    case 'ban':
      return checkBan(ctx);
    case 'knock':
      if (version.knocking) return checkKnock(ctx);
      return deny(`member: unknown membership "knock" (knocking is not supported in room version ${version.id})`);
    default:
      return deny(`member: unknown membership ${show(membership)}`);
  }
}

function hasSignatureFrom(event: RoomEvent, server: string): boolean {
  const signatures: unknown = event.pdu.signatures;
  if (server === '' || !isJsonObject(signatures)) return false;
  const byKey = own(signatures, server);
  return isJsonObject(byKey) && Object.keys(byKey).length > 0;
}

function power(ctx: MemberContext, userId: string): number {
  return userPowerLevel(ctx.version, userId, ctx.state);
}

function checkJoin(ctx: MemberContext): AuthResult {
  const { version, event, create } = ctx;
  // The creator's own join straight after the create event, before any join rules exist.
  const creator = version.creatorIsSender ? create.sender : own(create.content, 'creator');
  if (event.prevEventIds.length === 1 && event.prevEventIds[0] === create.eventId && ctx.target === creator) {
    return ALLOW;
  }
  if (ctx.sender !== ctx.target) return deny('member: join: sender does not match state_key');
  if (ctx.senderMembership === 'ban') return deny('member: join: sender is banned');

  const rule = joinRuleOf(ctx.state);
  const invitedOrJoined = ctx.senderMembership === 'invite' || ctx.senderMembership === 'join';
  if (rule === 'invite' || (version.knocking && rule === 'knock')) {
    return invitedOrJoined ? ALLOW : deny(`member: join: join rule is ${rule} and sender is not invited`);
  }
  if (
    (version.restrictedJoinRule && rule === 'restricted') ||
    (version.knockRestrictedJoinRule && rule === 'knock_restricted')
  ) {
    if (invitedOrJoined) return ALLOW;
    const authoriser = own(event.content, AUTHORISING_USER);
    if (typeof authoriser !== 'string') {
      return deny(`member: join: join rule is ${rule} and there is no ${AUTHORISING_USER}`);
    }
    if (membershipOf(ctx.state, authoriser) !== 'join') {
      return deny(`member: join: ${AUTHORISING_USER} ${authoriser} is not joined to the room`);
    }
    const inviteLevel = namedPowerLevel(version, 'invite', ctx.state);
    if (power(ctx, authoriser) < inviteLevel) {
      return deny(`member: join: ${AUTHORISING_USER} ${authoriser} lacks the power to invite`);
    }
    return ALLOW;
  }
  if (rule === 'public') return ALLOW;
  return deny(`member: join: join rule ${show(rule)} does not allow joining`);
}

function checkInvite(ctx: MemberContext): AuthResult {
  if (ctx.senderMembership !== 'join') return deny('member: invite: sender is not joined and cannot invite');
  if (ctx.targetMembership === 'join') return deny(`member: invite: target ${ctx.target} is already joined`);
  if (ctx.targetMembership === 'ban') return deny(`member: invite: target ${ctx.target} is banned`);
  const level = power(ctx, ctx.sender);
  const inviteLevel = namedPowerLevel(ctx.version, 'invite', ctx.state);
  if (level >= inviteLevel) return ALLOW;
  return deny(`member: invite: sender's level ${level} is below the invite level ${inviteLevel}`);
}

function checkLeave(ctx: MemberContext): AuthResult {
  const { version, state } = ctx;
  if (ctx.sender === ctx.target) {
    const m = ctx.senderMembership;
    if (m === 'invite' || m === 'join' || (version.knocking && m === 'knock')) return ALLOW;
    return deny(`member: leave: sender's membership ${show(m ?? null)} cannot be left`);
  }
  if (ctx.senderMembership !== 'join') return deny('member: leave: sender is not joined and cannot kick');
  const level = power(ctx, ctx.sender);
  const banLevel = namedPowerLevel(version, 'ban', state);
  if (ctx.targetMembership === 'ban' && level < banLevel) {
    return deny(`member: leave: sender's level ${level} is below the ban level ${banLevel} needed to unban`);
  }
  const kickLevel = namedPowerLevel(version, 'kick', state);
  const targetLevel = power(ctx, ctx.target);
  if (level >= kickLevel && targetLevel < level) return ALLOW;
  return deny(
    `member: leave: cannot kick ${ctx.target} (sender level ${level}, kick level ${kickLevel}, target level ${targetLevel})`,
  );
}

function checkBan(ctx: MemberContext): AuthResult {
  if (ctx.senderMembership !== 'join') return deny('member: ban: sender is not joined and cannot ban');
  const level = power(ctx, ctx.sender);
  const banLevel = namedPowerLevel(ctx.version, 'ban', ctx.state);
  const targetLevel = power(ctx, ctx.target);
  if (level >= banLevel && targetLevel < level) return ALLOW;
  return deny(
    `member: ban: cannot ban ${ctx.target} (sender level ${level}, ban level ${banLevel}, target level ${targetLevel})`,
  );
}

function checkKnock(ctx: MemberContext): AuthResult {
  const rule = joinRuleOf(ctx.state);
  if (!(rule === 'knock' || (ctx.version.knockRestrictedJoinRule && rule === 'knock_restricted'))) {
    return deny(`member: knock: join rule ${show(rule)} does not allow knocking`);
  }
  if (ctx.sender !== ctx.target) return deny('member: knock: sender does not match state_key');
  const m = ctx.senderMembership;
  if (m === 'ban' || m === 'invite' || m === 'join') {
    return deny(`member: knock: sender's membership is already ${m}`);
  }
  return ALLOW;
}
