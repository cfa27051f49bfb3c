import { createHash, randomBytes } from "node:crypto";
import { DateTime } from "luxon";
import type { z } from "zod";
import {
  HandoffItemContentSchema,
  HandoffTaskSchema,
  IpassSchema,
  SbarSchema,
  matrixUserId,
  type HandoffItemContent,
  type HandoffTask,
  type HandoffTemplate,
} from "../appservice/shared/events/index.js";

/**
 * The item sections of a `!handoff add` or `!handoff edit` message, one `Label: text` per line.
 * Pure: no I/O. Error messages name the line and the section, never the clinical text.
 */

export type Sbar = z.infer<typeof SbarSchema>;
export type Ipass = z.infer<typeof IpassSchema>;
export type Contingency = { if: string; then: string };

/**
 * The sections a message gave, validated; a subset of an item's content, assignable to
 * ItemSections (a type alias, not an interface, so that it is assignable to an index signature).
 */
export type ParsedItemSections = {
  sbar?: Sbar;
  ipass?: Ipass;
  critical_alerts?: string[];
  medication_changes?: string[];
  tasks?: HandoffTask[];
  contingencies?: Contingency[];
  code_status?: string;
  recent_events?: string;
};

export interface SectionParseOptions {
  /** "Now", for `due HH:MM` (the next such time after it). */
  now: Date;
  /** The zone `due HH:MM` is read in (the unit's); UTC by default. */
  timezone?: string;
  /** Owner of tasks that name none; unset leaves it to the service (the outgoing clinician). */
  defaultOwner?: string;
  /** "new" (default): the template's sections are all required. "edit": only the given sections are returned. */
  mode?: "new" | "edit";
  /**
   * For an edit, the current version: SBAR/I-PASS fields given are merged onto its, and a task
   * whose text is unchanged keeps its id.
   */
  current?: Pick<HandoffItemContent, "sbar" | "ipass" | "tasks">;
  /** Makes task ids a function of it (e.g. the command's event id), so a retried command sends the same item. */
  idSeed?: string;
  /** The number of the first line, for error messages (2 when line 1 is the command). */
  firstLine?: number;
}

type FieldKey = "situation" | "background" | "assessment" | "recommendation" | "illness_severity" | "patient_summary" | "action_list" | "situation_awareness";
type ListKey = "alert" | "med" | "task" | "if";
type TextKey = "code" | "events";
type Key = FieldKey | ListKey | TextKey;

const SBAR_LABELS: Readonly<Record<string, FieldKey>> = {
  s: "situation",
  situation: "situation",
  b: "background",
  background: "background",
  a: "assessment",
  assessment: "assessment",
  r: "recommendation",
  recommendation: "recommendation",
  recommendations: "recommendation",
};
const IPASS_LABELS: Readonly<Record<string, FieldKey>> = {
  severity: "illness_severity",
  "illness severity": "illness_severity",
  summary: "patient_summary",
  "patient summary": "patient_summary",
  actions: "action_list",
  "action list": "action_list",
  awareness: "situation_awareness",
  "situation awareness": "situation_awareness",
};
const COMMON_LABELS: Readonly<Record<string, ListKey | TextKey>> = {
  alert: "alert",
  alerts: "alert",
  "critical alert": "alert",
  med: "med",
  meds: "med",
  medication: "med",
  medications: "med",
  "medication change": "med",
  task: "task",
  if: "if",
  code: "code",
  "code status": "code",
  events: "events",
  "recent events": "events",
};

/** How each section is named to the clinician, and its shortest label. */
const NAMES: Record<Key, string> = {
  situation: "Situation",
  background: "Background",
  assessment: "Assessment",
  recommendation: "Recommendation",
  illness_severity: "Illness severity",
  patient_summary: "Patient summary",
  action_list: "Action list",
  situation_awareness: "Situation awareness",
  alert: "Alert",
  med: "Med",
  task: "Task",
  if: "If",
  code: "Code",
  events: "Events",
};
const SHORT: Partial<Record<Key, string>> = {
  situation: "S:",
  background: "B:",
  assessment: "A:",
  recommendation: "R:",
  illness_severity: "Severity:",
  patient_summary: "Summary:",
  action_list: "Actions:",
  situation_awareness: "Awareness:",
};
/** "Recommendation (R:)": the name and the label to write it with. */
const named = (key: Key) => (SHORT[key] ? `${NAMES[key]} (${SHORT[key]})` : `${NAMES[key]}:`);

const TEMPLATE_FIELDS = {
  sbar: ["situation", "background", "assessment", "recommendation"],
  ipass: ["illness_severity", "patient_summary", "action_list", "situation_awareness"],
} as const satisfies Record<HandoffTemplate, readonly FieldKey[]>;

const SINGLE: ReadonlySet<Key> = new Set<Key>([...TEMPLATE_FIELDS.sbar, ...TEMPLATE_FIELDS.ipass, "code", "events"]);

/** One-line reminder of a template's labels, for help and error replies. */
export function sectionHint(template: HandoffTemplate): string {
  const own = template === "sbar" ? "S:, B:, A:, R:" : "Severity: (stable, watcher or unstable), Summary:, Actions:, Awareness:";
  return `one section per line: ${own}, and as needed Alert:, Med:, Task: <text> [@owner] [due HH:MM], If: <x> then <y>, Code:, Events:`;
}

interface Block {
  key: Key;
  line: number;
  /** The text on the label's line, then continuation lines. */
  lines: string[];
}

const LABEL_LINE = /^\s*([A-Za-z][A-Za-z -]{0,29}?)\s*:(.*)$/;

function joined(b: Block): string {
  return b.lines
    .map((l) => l.trim())
    .join("\n")
    .trim();
}

/** "line 4 (Task)", or just the section's name when no line is to blame. */
function where(b: Block | undefined, name: string): string {
  return b ? `line ${b.line} (${name})` : name;
}

function and(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** A zod issue in plain words, without the text it is about. */
function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === "too_big") return `too ${issue.origin === "array" ? "many entries" : "long"} (at most ${issue.maximum}${issue.origin === "array" ? "" : " characters"})`;
  return issue.message;
}

export interface SectionParseResult {
  sections: ParsedItemSections;
  /** Plain-language problems, each naming its line or section; the sections are unusable unless empty. */
  errors: string[];
}

/**
 * Parses the section lines of an item. Labels are case-insensitive at the start of a line
 * (`R: …`, `Recommendation: …`); a line without a known label continues the previous section, so
 * `BP: 90/60` inside a section is just text. Alert:, Med:, Task: and If: may repeat; on an edit
 * each given list replaces the whole list (`Alert: none` empties it).
 */
export function parseItemSections(lines: string[], template: HandoffTemplate, opts: SectionParseOptions): SectionParseResult {
  const mode = opts.mode ?? "new";
  const first = opts.firstLine ?? 1;
  // A Map, so that a line such as "constructor: …" is text, not a label found on Object.prototype.
  const labels = new Map<string, Key>(Object.entries({ ...(template === "sbar" ? SBAR_LABELS : IPASS_LABELS), ...COMMON_LABELS }));
  const errors: string[] = [];
  const blocks: Block[] = [];
  let current: Block | null = null;

  lines.forEach((raw, i) => {
    const n = first + i;
    const m = LABEL_LINE.exec(raw);
    const key = m ? labels.get(m[1]!.toLowerCase().replace(/\s+/g, " ").trim()) : undefined;
    if (m && key) {
      current = { key, line: n, lines: [m[2]!] };
      blocks.push(current);
    } else if (current) {
      current.lines.push(raw);
    } else if (raw.trim()) {
      errors.push(`line ${n}: start with a section label (${template === "sbar" ? "S:, B:, A: or R:" : "Severity:, Summary:, Actions: or Awareness:"})`);
    }
  });

  for (const key of SINGLE) {
    const given = blocks.filter((b) => b.key === key);
    if (given.length > 1) errors.push(`${named(key)} is given twice (lines ${and(given.map((b) => String(b.line)))}); write it once`);
  }
  const single = (key: Key) => blocks.find((b) => b.key === key);
  const list = (key: ListKey) => {
    const all = blocks.filter((b) => b.key === key);
    // "Alert: none" (alone) gives the section as empty, to clear it on an edit.
    return { given: all.length > 0, blocks: all.filter((b) => !/^none\.?$/i.test(joined(b))) };
  };
  const sections: ParsedItemSections = {};

  // The template's own fields: all four for a new patient; for an edit, the given ones merged onto the current.
  const fields = TEMPLATE_FIELDS[template];
  const givenFields = fields.filter((f) => single(f));
  if (mode === "new" || givenFields.length > 0) {
    const base: Record<string, unknown> = mode === "edit" ? { ...(opts.current?.[template] ?? {}) } : {};
    for (const f of givenFields) {
      const text = joined(single(f)!);
      base[f] = f === "illness_severity" ? text.toLowerCase() : text;
    }
    const missing = fields.filter((f) => base[f] === undefined || base[f] === "");
    if (missing.length) {
      const more = mode === "edit" ? ` (I could not read the current version, so give every ${template === "sbar" ? "SBAR" : "I-PASS"} section)` : "";
      errors.push(`missing ${and(missing.map(named))}${more}`);
    } else {
      const schema = template === "sbar" ? SbarSchema : IpassSchema;
      const parsed = schema.safeParse(base);
      if (parsed.success) (sections as Record<string, unknown>)[template] = parsed.data;
      for (const issue of parsed.error?.issues ?? []) {
        const f = issue.path[0] as FieldKey;
        const b = single(f);
        errors.push(`${where(b, NAMES[f] ?? String(f))}: ${issueText(issue)}`);
      }
    }
  }

  const shape = HandoffItemContentSchema.shape;
  const checkList = <T>(key: ListKey, field: keyof typeof shape, values: T[], from: Block[]): T[] | undefined => {
    const parsed = shape[field].safeParse(values);
    if (parsed.success) return parsed.data as T[];
    for (const issue of parsed.error.issues) {
      const b = typeof issue.path[0] === "number" ? from[issue.path[0]] : undefined;
      errors.push(`${where(b, NAMES[key])}: ${issueText(issue)}`);
    }
    return undefined;
  };

  const alerts = list("alert");
  if (alerts.given) sections.critical_alerts = checkList("alert", "critical_alerts", alerts.blocks.map(joined), alerts.blocks);
  const meds = list("med");
  if (meds.given) sections.medication_changes = checkList("med", "medication_changes", meds.blocks.map(joined), meds.blocks);

  const ifs = list("if");
  if (ifs.given) {
    const values: Contingency[] = [];
    const from: Block[] = [];
    for (const b of ifs.blocks) {
      const m = /^(.*?)(?:^|[\s,;])then\b(.*)$/is.exec(joined(b));
      const cond = m?.[1]!.replace(/[\s,;]+$/, "").replace(/^if\s+/i, "").trim();
      const then = m?.[2]!.trim();
      if (!m || !cond || !then) {
        errors.push(`line ${b.line} (If): write it as If: <what might happen> then <what to do>`);
        continue;
      }
      values.push({ if: cond, then });
      from.push(b);
    }
    sections.contingencies = checkList("if", "contingencies", values, from);
  }

  const tasks = list("task");
  if (tasks.given) {
    const zone = opts.timezone ?? "UTC";
    const now = DateTime.fromJSDate(opts.now, { zone });
    const reusable = [...(opts.current?.tasks ?? [])];
    const values: HandoffTask[] = [];
    const from: Block[] = [];
    tasks.blocks.forEach((b, index) => {
      const where = `line ${b.line} (Task)`;
      let head = b.lines[0]!.trim();
      let owner: string | undefined;
      let due: number | undefined;
      let bad = false;
      for (let k = 0; k < 2; k++) {
        const d = due === undefined ? /(?:^|\s)due\s+(\d{1,2}):(\d{2})$/i.exec(head) : null;
        if (d) {
          head = head.slice(0, d.index).trim();
          const hour = Number(d[1]);
          const minute = Number(d[2]);
          if (hour > 23 || minute > 59 || !now.isValid) {
            errors.push(`${where}: the due time must be a time like 07:00 or 19:30`);
            bad = true;
            break;
          }
          let at = now.set({ hour, minute, second: 0, millisecond: 0 });
          if (at <= now) at = now.plus({ days: 1 }).set({ hour, minute, second: 0, millisecond: 0 });
          if (at.hour !== hour || at.minute !== minute) {
            errors.push(`${where}: the due time does not exist on that day (the clocks change); pick another time`);
            bad = true;
            break;
          }
          due = at.toMillis();
          continue;
        }
        const o = owner === undefined ? /(?:^|\s)(@\S+)$/.exec(head) : null;
        if (o) {
          head = head.slice(0, o.index).trim();
          owner = o[1]!;
          if (!matrixUserId.safeParse(owner).success) {
            errors.push(`${where}: the owner must be a Matrix user id such as @alice:example.org`);
            bad = true;
            break;
          }
          continue;
        }
        break;
      }
      if (bad) return;
      const text = [head, ...b.lines.slice(1).map((l) => l.trim())].join("\n").trim();
      const same = reusable.findIndex((t) => t.text.trim() === text);
      const id = same >= 0 ? reusable.splice(same, 1)[0]!.id : taskId(opts.idSeed, index);
      const parsed = HandoffTaskSchema.safeParse({ id, text, owner: owner ?? opts.defaultOwner, due_ts: due });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) errors.push(`${where}: ${issueText(issue)}`);
        return;
      }
      values.push(parsed.data);
      from.push(b);
    });
    sections.tasks = checkList("task", "tasks", values, from);
  }

  const code = single("code");
  if (code) {
    const parsed = shape.code_status.safeParse(joined(code));
    if (parsed.success) sections.code_status = parsed.data;
    else errors.push(`line ${code.line} (Code): ${issueText(parsed.error.issues[0]!)}`);
  }
  const events = single("events");
  if (events) {
    const parsed = shape.recent_events.safeParse(joined(events));
    if (parsed.success) sections.recent_events = parsed.data;
    else errors.push(`line ${events.line} (Events): ${issueText(parsed.error.issues[0]!)}`);
  }

  for (const k of Object.keys(sections) as (keyof ParsedItemSections)[]) if (sections[k] === undefined) delete sections[k];
  return { sections, errors };
}

/** A task id (clientId: 6-40 of A-Z a-z 0-9 _ -), derived from the seed when there is one. */
function taskId(seed: string | undefined, index: number): string {
  if (seed === undefined) return `t${randomBytes(12).toString("base64url")}`;
  return `t${createHash("sha256").update(`${seed}\u0000task\u0000${index}`).digest("base64url").slice(0, 20)}`;
}
