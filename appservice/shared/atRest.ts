import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

/**
 * Encryption at rest for the little the appservice must keep that could open PHI (e.g. the key of
 * an attachment it is about to send): AES-256-GCM with a key derived from configuration.
 */
export class AtRest {
  private readonly key: Buffer;
  private readonly lookupKey: Buffer;

  constructor(passphrase: string, purpose: string) {
    this.key = Buffer.from(hkdfSync("sha256", passphrase, purpose, "rounds at-rest v1", 32));
    this.lookupKey = Buffer.from(hkdfSync("sha256", passphrase, purpose, "rounds lookup v1", 32));
  }

  /**
   * A keyed digest to find rows by an identifier (a patient's MRN, an order number) without
   * storing it: the same text always gives the same digest, which reveals nothing without the key.
   */
  digest(text: string): string {
    return createHmac("sha256", this.lookupKey).update(text, "utf8").digest("base64url");
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(".");
  }

  open(sealed: string): string {
    const [v, iv, tag, body] = sealed.split(".");
    if (v !== "v1" || !iv || !tag || body === undefined) throw new Error("not a sealed value");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  }
}
