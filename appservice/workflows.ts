import type { ConfigSection } from "./shared/config.js";
import { alert } from "./alert/index.js";
import { consult } from "./consult/index.js";
import { handoff } from "./handoff/index.js";
import { paging } from "./paging/index.js";
import type { CliCommand, WorkflowDeclaration } from "./workflow.js";

/**
 * Every workflow Rounds runs, in the order their bots start: paging first, as an overdue
 * escalation after a crash needs only the on-call bot. Adding a workflow is one line here
 * (README, "Adding a workflow").
 */
export const WORKFLOWS: readonly WorkflowDeclaration[] = [paging, consult, handoff, alert];

/** The workflows' settings, for loadConfig. */
export function configSections(workflows: readonly WorkflowDeclaration[]): ConfigSection[] {
  return workflows.map((w) => ({ name: w.name, bot: w.bot.name, env: w.config.env, read: (e, core) => w.config.read(e, core) }));
}

/** Every widget the workflows ship: what the file server serves and Vite builds. */
export function widgetNames(workflows: readonly WorkflowDeclaration[]): string[] {
  return workflows.flatMap((w) => w.widgets);
}

/** Every workflow's CLI commands, in the registry's order. */
export async function cliCommands(workflows: readonly WorkflowDeclaration[], coreOptions: readonly string[] = []): Promise<CliCommand[]> {
  const commands = (await Promise.all(workflows.map((w) => w.cli?.() ?? []))).flat();
  // One parser reads every option: two meanings of one name would silently become one.
  const types = new Map<string, string>();
  for (const c of commands) {
    for (const [name, { type }] of Object.entries(c.options ?? {})) {
      if (coreOptions.includes(name)) throw new Error(`CLI command '${c.words.join(" ")}' declares --${name}, which the core CLI already has`);
      if ((types.get(name) ?? type) !== type) throw new Error(`CLI option --${name} is declared as both ${types.get(name)} and ${type}`);
      types.set(name, type);
    }
  }
  return commands;
}

/** Every renamed widget's former name → its current one, for the file server's redirects. */
export function renamedWidgets(workflows: readonly WorkflowDeclaration[]): Record<string, string> {
  return Object.assign({}, ...workflows.map((w) => w.renamedWidgets ?? {}));
}
