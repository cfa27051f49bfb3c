import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseScheduleFile, scheduleUsers } from "../oncall/scheduleFile.js";
import { repoRoot } from "./synapseConfig.js";
import { HandoffUnitSchema } from "../handoff/handoffUnitSchema.js";

/** The example files the README imports; `rounds user create-examples` creates the people they name. */
export const EXAMPLE_FILES = [join(repoRoot, "appservice", "oncall", "example-schedule.yaml"), join(repoRoot, "appservice", "handoff", "example-unit.yaml")];

export interface NamedUser {
  userId: string;
  displayName?: string;
}

/**
 * The Matrix users a schedule file or a handoff unit file names, with the display name the
 * schedule gives them. Throws with the file's problems when it is neither.
 */
export function usersNamedIn(text: string): NamedUser[] {
  const raw = parse(text) as Record<string, unknown> | null;
  if (raw && typeof raw === "object" && "services" in raw) {
    const schedule = parseScheduleFile(text);
    const names = new Map(schedule.clinicians.map((c) => [c.userId, c.displayName]));
    return scheduleUsers(schedule).map((userId) => ({ userId, ...(names.has(userId) ? { displayName: names.get(userId) } : {}) }));
  }
  const unit = HandoffUnitSchema.safeParse(raw);
  if (!unit.success) throw new Error("is neither a schedule file (with services:) nor a handoff unit file (with id: and name:)");
  return [...new Set([...(unit.data.charge?.users ?? []), ...unit.data.incident_reviewers])].map((userId) => ({ userId }));
}

export function readUsersNamedIn(files: string[]): NamedUser[] {
  const seen = new Map<string, NamedUser>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new Error(`cannot read '${file}'`);
    }
    let users: NamedUser[];
    try {
      users = usersNamedIn(text);
    } catch (err) {
      throw new Error(`'${file}' ${(err as Error).message}`);
    }
    for (const u of users) if (!seen.has(u.userId) || u.displayName) seen.set(u.userId, u);
  }
  return [...seen.values()];
}
