// The recovery benchmark's floor: the least any E2EE client process does before it can say
// something. Starts cold, logs in as a new device, loads the crypto, syncs once, sends one
// encrypted message. Plain JavaScript, so no compile step is counted that Rounds does not have.
// Env: HS_URL, USER_ID, PASSWORD, ROOM_ID, BODY.
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";

logger.setLevel("error");
const { HS_URL, USER_ID, PASSWORD, ROOM_ID, BODY } = process.env;
const login = await fetch(`${HS_URL}/_matrix/client/v3/login`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: USER_ID }, password: PASSWORD }),
});
if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
const { access_token: accessToken, device_id: deviceId } = await login.json();
const client = sdk.createClient({ baseUrl: HS_URL, userId: USER_ID, accessToken, deviceId });
await client.initRustCrypto({ useIndexedDB: false });
const prepared = new Promise((resolve) => {
  const onSync = (state) => {
    if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) resolve();
  };
  client.on(sdk.ClientEvent.Sync, onSync);
});
await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true });
await prepared;
await client.sendMessage(ROOM_ID, { msgtype: "m.text", body: BODY });
client.stopClient();
await fetch(`${HS_URL}/_matrix/client/v3/logout`, { method: "POST", headers: { authorization: `Bearer ${accessToken}` } });
process.exit(0);
