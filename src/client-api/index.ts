/** Every client-server API route. Add new endpoints here (one file each under src/client-api/<area>/). */
import type { Route } from '../http/route.js';
import {
  getAccountData,
  getRoomAccountData,
  putAccountData,
  putRoomAccountData,
} from './account-data/account-data.js';
import { deleteTag, getTags, putTag } from './account-data/tags.js';
import { changePassword } from './account/change-password.js';
import { deactivateAccount } from './account/deactivate.js';
import { getPublicRooms, postPublicRooms } from './directory/public-rooms.js';
import { deleteRoomAlias, getRoomAlias, putRoomAlias } from './directory/room-alias.js';
import { getRoomVisibility, putRoomVisibility } from './directory/room-visibility.js';
import { getLocalAliases } from './rooms/aliases.js';
import { banUser } from './rooms/ban.js';
import { createRoom } from './rooms/create-room.js';
import { getEventContext } from './rooms/context.js';
import { getRoomEvent } from './rooms/event.js';
import { forgetRoom } from './rooms/forget.js';
import { inviteUser } from './rooms/invite.js';
import { joinRoomById, joinRoomByIdOrAlias } from './rooms/join.js';
import { getJoinedMembers } from './rooms/joined-members.js';
import { getJoinedRooms } from './rooms/joined-rooms.js';
import { kickUser } from './rooms/kick.js';
import { knockRoom } from './rooms/knock.js';
import { leaveRoom } from './rooms/leave.js';
import { getMembers } from './rooms/members.js';
import { getMessages } from './rooms/messages.js';
import { postReadMarkers } from './rooms/read-markers.js';
import { postReceipt } from './rooms/receipt.js';
import { redactEvent } from './rooms/redact.js';
import { sendMessage } from './rooms/send.js';
import { getRoomState } from './rooms/state.js';
import { timestampToEvent } from './rooms/timestamp-to-event.js';
import { setTyping } from './rooms/typing.js';
import { getStateEvent, getStateEventEmptyKey, putStateEvent, putStateEventEmptyKey } from './rooms/state-event.js';
import { unbanUser } from './rooms/unban.js';
import { register } from './account/register.js';
import { registerAvailable } from './account/register-available.js';
import { registrationTokenValidity } from './account/registration-token-validity.js';
import { whoami } from './account/whoami.js';
import { requestOpenIdToken } from './account/openid-token.js';
import { getLoginFlows, login } from './auth/login.js';
import { logout, logoutAll } from './auth/logout.js';
import { refresh } from './auth/refresh.js';
import { deleteDevice, deleteDevices } from './devices/delete-devices.js';
import { getDevice } from './devices/get-device.js';
import { listDevices } from './devices/list-devices.js';
import { updateDevice } from './devices/update-device.js';
import { createFilter } from './filters/create-filter.js';
import { getFilter } from './filters/get-filter.js';
import { getPresence, setPresence } from './presence/presence-status.js';
import { getProfile, getProfileField } from './profile/get-profile.js';
import { deleteProfileField, setProfileField } from './profile/set-profile-field.js';
import { deleteUserMedia, mediaUsage, quarantineMedia, unquarantineMedia } from './admin/media-admin.js';
import { mediaConfigAuthed, mediaConfigLegacy } from './media/config.js';
import { createMedia } from './media/create.js';
import { downloadAuthed, downloadAuthedFileName, downloadLegacy, downloadLegacyFileName } from './media/download.js';
import { previewUrlAuthed, previewUrlLegacy } from './media/preview-url.js';
import { thumbnailAuthed, thumbnailLegacy } from './media/thumbnail.js';
import { uploadMedia, uploadReservedMedia } from './media/upload.js';
import { getPushRules } from './push/get-push-rules.js';
import { capabilities } from './server/capabilities.js';
import { versions } from './server/versions.js';
import { wellKnownClient } from './server/well-known.js';
import { getTurnServer } from './voip/turn-server.js';
import { sync } from './sync/sync.js';
import { sendToDevice } from './to-device/send-to-device.js';

/** Room endpoints (src/client-api/rooms, src/client-api/directory). */
const roomRoutes: readonly Route[] = [
  createRoom,
  joinRoomById,
  joinRoomByIdOrAlias,
  knockRoom,
  inviteUser,
  leaveRoom,
  forgetRoom,
  kickUser,
  banUser,
  unbanUser,
  sendMessage,
  redactEvent,
  getRoomEvent,
  getRoomState,
  getStateEvent,
  getStateEventEmptyKey,
  putStateEvent,
  putStateEventEmptyKey,
  getMembers,
  getJoinedMembers,
  getJoinedRooms,
  getLocalAliases,
  putRoomAlias,
  getRoomAlias,
  deleteRoomAlias,
  getRoomVisibility,
  putRoomVisibility,
  getPublicRooms,
  postPublicRooms,
];

/** Sync and history reads (src/client-api/sync, rooms/messages, rooms/context, rooms/timestamp-to-event). */
const syncRoutes: readonly Route[] = [sync, getMessages, getEventContext, timestampToEvent];

/** Media repository (src/client-api/media). */
const mediaRoutes: readonly Route[] = [
  uploadMedia,
  uploadReservedMedia,
  createMedia,
  downloadAuthed,
  downloadAuthedFileName,
  downloadLegacy,
  downloadLegacyFileName,
  thumbnailAuthed,
  thumbnailLegacy,
  mediaConfigAuthed,
  mediaConfigLegacy,
  previewUrlAuthed,
  previewUrlLegacy,
  // admin
  quarantineMedia,
  unquarantineMedia,
  deleteUserMedia,
  mediaUsage,
];
/** Real-time data (typing, receipts, read markers, presence). */
const realtimeRoutes: readonly Route[] = [setTyping, postReceipt, postReadMarkers, getPresence, setPresence, sendToDevice];

export const clientApiRoutes: readonly Route[] = [
  // server
  versions,
  wellKnownClient,
  capabilities,
  // registration and login
  register,
  registerAvailable,
  registrationTokenValidity,
  getLoginFlows,
  login,
  logout,
  logoutAll,
  refresh,
  whoami,
  requestOpenIdToken,
  // account management
  changePassword,
  deactivateAccount,
  listDevices,
  getDevice,
  updateDevice,
  deleteDevice,
  deleteDevices,
  // profile
  getProfile,
  getProfileField,
  setProfileField,
  deleteProfileField,
  // filters, account data, tags
  createFilter,
  getFilter,
  putAccountData,
  getAccountData,
  putRoomAccountData,
  getRoomAccountData,
  getTags,
  putTag,
  deleteTag,
  // push rules (server defaults only)
  getPushRules,
  getTurnServer,
  // rooms
  ...roomRoutes,
  // sync and history
  ...syncRoutes,
  // media
  ...mediaRoutes,
  // real-time
  ...realtimeRoutes,
];
