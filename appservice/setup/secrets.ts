import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { writeFileAtomic } from "../shared/writeFileAtomic.js";

/** Secrets generated once per installation and kept out of git (mode 0600). */
export const SecretsSchema = z.object({
  asToken: z.string().min(32),
  hsToken: z.string().min(32),
  registrationSharedSecret: z.string().min(32),
  macaroonSecret: z.string().min(32),
  formSecret: z.string().min(32),
  cryptoStorePassphrase: z.string().min(32),
  adminToken: z.string().min(32),
});
export type Secrets = z.infer<typeof SecretsSchema>;

const token = () => randomBytes(32).toString("base64url");

export function generateSecrets(): Secrets {
  return {
    asToken: token(),
    hsToken: token(),
    registrationSharedSecret: token(),
    macaroonSecret: token(),
    formSecret: token(),
    cryptoStorePassphrase: token(),
    adminToken: token(),
  };
}

export function loadOrCreateSecrets(file: string): { secrets: Secrets; created: boolean } {
  if (existsSync(file)) {
    const parsed = SecretsSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) {
      throw new Error(`${file} is damaged (${parsed.error.issues[0]?.path.join(".")}); delete it to generate new secrets`);
    }
    return { secrets: parsed.data, created: false };
  }
  const secrets = generateSecrets();
  writeFileAtomic(file, JSON.stringify(secrets, null, 2), 0o600);
  return { secrets, created: true };
}

