import { defineRoute } from '../../http/route.js';
import { roomVersionsCapability } from '../../rooms/versions.js';

export const capabilities = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/capabilities',
  auth: 'required',
  handler: async () => ({
    body: {
      capabilities: {
        'm.change_password': { enabled: true },
        'm.room_versions': roomVersionsCapability(),
        'm.set_displayname': { enabled: true },
        'm.set_avatar_url': { enabled: true },
        'm.profile_fields': { enabled: true },
        'm.3pid_changes': { enabled: false },
        'm.get_login_token': { enabled: false },
      },
    },
  }),
});
