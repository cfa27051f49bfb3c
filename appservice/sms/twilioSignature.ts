import twilio from "twilio";

/**
 * True when `signatureHeader` (X-Twilio-Signature) is Twilio's HMAC-SHA1 over `fullUrl` and the
 * sorted form params, keyed with our auth token. A missing header is simply not valid.
 */
export function verifyTwilioSignature(
  authToken: string,
  signatureHeader: string | undefined,
  fullUrl: string,
  params: Record<string, unknown>,
): boolean {
  if (!signatureHeader) return false;
  return twilio.validateRequest(authToken, signatureHeader, fullUrl, params);
}

/**
 * The URL Twilio signed: the one we configured in Twilio's console, built from our configured
 * public base URL. Never built from the request's Host header, which a caller chooses freely
 * and which a reverse proxy rewrites anyway.
 */
export function webhookUrl(publicBaseUrl: string, path: string): string {
  return publicBaseUrl.replace(/\/+$/, "") + (path.startsWith("/") ? path : `/${path}`);
}
