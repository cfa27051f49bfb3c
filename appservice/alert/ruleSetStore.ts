import type { Db } from "../db/connect.js";
import { parseRulesFile, type AlertRuleSet } from "./alertRules.js";

const EMPTY: AlertRuleSet = { routing: { units: {}, staff: {}, quiet_hours: {} }, rules: [] };

/**
 * The alert rules as loaded by a coordinator: every version kept (the trail of what applied
 * when), the newest one in force. A file is checked whole before it is saved.
 */
export class RuleSetStore {
  private current: AlertRuleSet = EMPTY;
  private version = 0;

  constructor(private readonly db: Db) {}

  /** Reads the newest saved rules; none saved yet means no rule fires. */
  async load(): Promise<void> {
    const row = (await this.db("alert_rule_sets").orderBy("version", "desc").first("version", "yaml")) as { version: number | string; yaml: string } | undefined;
    if (!row) return;
    this.current = parseRulesFile(row.yaml);
    this.version = Number(row.version);
  }

  rules(): AlertRuleSet {
    return this.current;
  }

  info(): { version: number; rules: number } {
    return { version: this.version, rules: this.current.rules.length };
  }

  /** Checks `yaml` (throws RulesFileError naming every problem) and, unless a dry run, saves it as the rules in force. */
  async save(yaml: string, opts: { dryRun?: boolean } = {}): Promise<{ version: number | null; set: AlertRuleSet }> {
    const set = parseRulesFile(yaml);
    if (opts.dryRun) return { version: null, set };
    const [row] = (await this.db("alert_rule_sets").insert({ yaml, loaded_at: new Date() }).returning("version")) as Array<{ version: number | string }>;
    this.current = set;
    this.version = Number(row!.version);
    return { version: this.version, set };
  }
}
