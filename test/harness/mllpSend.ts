import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Sends HL7 v2 messages over MLLP with a tool nobody here wrote (Debian's python3-hl7
 * mllp_send, installed by scripts/ensure-hl7-tools.mjs); returns what it printed, the ACKs.
 */
export async function mllpSend(dir: string, port: number, name: string, ...messages: string[]): Promise<string> {
  const file = join(dir, `${name}.hl7`);
  writeFileSync(file, messages.join("\n"));
  const { stdout } = await run("/usr/bin/mllp_send", ["--loose", "-f", file, "-p", String(port), "127.0.0.1"], { timeout: 30_000 });
  return stdout;
}
