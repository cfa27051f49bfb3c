import { chmodSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Rounds' state (databases, crypto stores, logs) is its service account's alone: directories
 * 0700 and files 0600, whatever the umask. A directory left 0755 by an older install is
 * tightened too.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Tightens everything below `dir`, for tools that set their own modes (PGlite writes 0666). */
export function makeTreePrivate(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) continue;
    chmodSync(path, entry.isDirectory() ? 0o700 : 0o600);
    if (entry.isDirectory()) makeTreePrivate(path);
  }
}

/**
 * Runs `start` (a spawn) with the umask 0077, so the child creates private files: Synapse
 * writes its database, logs and keys itself. The parent's umask is restored at once.
 */
export function withPrivateUmask<T>(start: () => T): T {
  const previous = process.umask(0o077);
  try {
    return start();
  } finally {
    process.umask(previous);
  }
}
