
/**
 * Matrix encrypted attachments (spec: "Sending encrypted attachments", v2): AES-256-CTR with a
 * random key and a 64-bit counter, and the SHA-256 of the ciphertext. Uses WebCrypto, so the
 * widgets (browser) and the appservice (Node) share it.
 */
const subtle = globalThis.crypto.subtle;

/** An EncryptedFile without its mxc URL (known only after the upload). */
export interface EncryptedFileInfo {
  key: { kty: "oct"; alg: "A256CTR"; k: string; key_ops: string[]; ext: true };
  iv: string;
  hashes: { sha256: string };
  v: "v2";
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/=+$/, "");
}
function fromBase64(text: string): Uint8Array {
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(std + "=".repeat((4 - (std.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export async function encryptAttachment(plain: Uint8Array): Promise<{ ciphertext: Uint8Array; info: EncryptedFileInfo }> {
  const iv = new Uint8Array(16);
  // Only the high 8 bytes are random: the low 8 are the block counter, which must not wrap.
  globalThis.crypto.getRandomValues(iv.subarray(0, 8));
  const key = await subtle.generateKey({ name: "AES-CTR", length: 256 }, true, ["encrypt", "decrypt"]);
  const jwk = await subtle.exportKey("jwk", key);
  const ciphertext = new Uint8Array(await subtle.encrypt({ name: "AES-CTR", counter: iv, length: 64 }, key, plain as BufferSource));
  const digest = new Uint8Array(await subtle.digest("SHA-256", ciphertext));
  return {
    ciphertext,
    info: {
      key: { kty: "oct", alg: "A256CTR", k: jwk.k!, key_ops: ["encrypt", "decrypt"], ext: true },
      iv: toBase64(iv),
      hashes: { sha256: toBase64(digest) },
      v: "v2",
    },
  };
}

export async function decryptAttachment(ciphertext: Uint8Array, info: EncryptedFileInfo): Promise<Uint8Array> {
  const digest = new Uint8Array(await subtle.digest("SHA-256", ciphertext as BufferSource));
  if (toBase64(digest) !== info.hashes.sha256.replace(/=+$/, "")) throw new Error("attachment hash mismatch: the file was altered or truncated");
  const key = await subtle.importKey("jwk", { kty: "oct", alg: "A256CTR", k: info.key.k, ext: true }, { name: "AES-CTR" }, false, ["decrypt"]);
  return new Uint8Array(await subtle.decrypt({ name: "AES-CTR", counter: fromBase64(info.iv) as BufferSource, length: 64 }, key, ciphertext as BufferSource));
}
