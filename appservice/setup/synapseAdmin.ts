import { createHmac } from "node:crypto";

export interface RegisteredUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

/**
 * Creates an account through Synapse's shared-secret registration API, the only way in while
 * public registration is off.
 */
export async function registerUser(
  homeserverUrl: string,
  sharedSecret: string,
  user: { localpart: string; password: string; displayname?: string; admin?: boolean },
): Promise<RegisteredUser> {
  const endpoint = `${homeserverUrl}/_synapse/admin/v1/register`;
  const nonceRes = await fetch(endpoint);
  if (!nonceRes.ok) throw new Error(`homeserver refused the registration nonce request (HTTP ${nonceRes.status})`);
  const { nonce } = (await nonceRes.json()) as { nonce: string };
  const admin = user.admin ?? false;
  const mac = createHmac("sha1", sharedSecret)
    .update(`${nonce}\0${user.localpart}\0${user.password}\0${admin ? "admin" : "notadmin"}`)
    .digest("hex");
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      nonce,
      username: user.localpart,
      password: user.password,
      displayname: user.displayname,
      admin,
      mac,
    }),
  });
  const body = (await res.json()) as { user_id?: string; access_token?: string; device_id?: string; errcode?: string; error?: string };
  if (!res.ok || !body.user_id) {
    throw new Error(`registering @${user.localpart} failed: ${body.errcode ?? res.status} ${body.error ?? ""}`.trim());
  }
  return { userId: body.user_id, accessToken: body.access_token ?? "", deviceId: body.device_id ?? "" };
}
