/** matrix-js-sdk (a real client library) uploads an avatar; another client sees it and downloads it. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import sharp from 'sharp';
import { registerUser, type TestUser } from './harness/client.js';
import { startServer, type TestServer } from './harness/server.js';

describe('matrix-js-sdk media', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let aliceClient: MatrixClient;
  let bobClient: MatrixClient;

  before(async () => {
    server = await startServer();
    alice = await registerUser(server);
    bob = await registerUser(server);
    const client = (u: TestUser) =>
      createClient({ baseUrl: server.baseUrl, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });
    aliceClient = client(alice);
    bobClient = client(bob);
  });
  after(async () => {
    aliceClient.stopClient();
    bobClient.stopClient();
    await server.stop();
    server.cleanup();
  });

  test('uploadContent + setAvatarUrl; another client reads the profile and fetches the avatar', async () => {
    const avatar = await sharp({ create: { width: 128, height: 128, channels: 3, background: '#cc3366' } }).png().toBuffer();
    const { content_uri } = await aliceClient.uploadContent(new Blob([avatar], { type: 'image/png' }), {
      name: 'avatar.png',
      type: 'image/png',
    });
    assert.match(content_uri, /^mxc:\/\/localhost\//);
    await aliceClient.setAvatarUrl(content_uri);

    const profile = await bobClient.getProfileInfo(alice.userId);
    assert.equal(profile.avatar_url, content_uri);

    const config = await bobClient.getMediaConfig(true);
    assert.equal(typeof config['m.upload.size'], 'number');

    // The SDK builds the authenticated download and thumbnail URLs; the client sends its token.
    const auth = { authorization: `Bearer ${bob.accessToken}` };
    const full = bobClient.mxcUrlToHttp(content_uri, undefined, undefined, undefined, false, false, true)!;
    assert.match(full, /\/_matrix\/client\/v1\/media\/download\//);
    const res = await fetch(full, { headers: auth });
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(avatar));

    const thumbUrl = bobClient.mxcUrlToHttp(content_uri, 32, 32, 'crop', false, false, true)!;
    const thumb = await fetch(thumbUrl, { headers: auth });
    assert.equal(thumb.status, 200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [32, 32]);
  });
});
