import { parse } from "csv-parse/sync";
import { matrixUserId } from "../shared/events/index.js";
import { nearestWord } from "../shared/unknownKeys.js";
import type { Absence } from "./schedule.js";
import type { NewOverride } from "./oncallStore.js";
import { DATE_TIME_HINT, parseDateTime } from "./timeParsing.js";
import { absenceBound } from "./scheduleFile.js";

/**
 * CSV imports for coordinators who keep rotas in a spreadsheet. A header row names the columns;
 * every bad row is reported by its line number, and nothing is imported unless every row is good.
 */
export class CsvImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`The CSV file has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "CsvImportError";
  }
}

export const OVERRIDE_COLUMNS = ["service", "level", "user", "start", "end"];
export const ABSENCE_COLUMNS = ["user", "start", "end"];
const MAX_LABEL = 60;

interface Row {
  line: number;
  cells: Record<string, string>;
}

function readCsv(text: string, required: string[], optional: string): Row[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }) as never;
  } catch (e) {
    throw new CsvImportError([`not valid CSV: ${(e as Error).message}`]);
  }
  const [header, ...rows] = records;
  const expected = [...required, optional].join(",");
  if (!header) throw new CsvImportError([`the file is empty; the first line must be the header ${expected}`]);
  const names = header.record.map((h) => h.toLowerCase());
  const missing = required.filter((c) => !names.includes(c));
  if (missing.length) throw new CsvImportError([`line ${header.info.lines}: the header must be ${expected} (missing ${missing.join(", ")})`]);
  // A misspelt optional column (`resaon`) would otherwise be dropped without a word.
  const known = [...required, optional];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    throw new CsvImportError(
      unknown.map((n) => {
        const near = nearestWord(n, known);
        return `line ${header.info.lines}: unknown column '${n}'; ${near ? `did you mean '${near}'?` : `the header must be ${expected}`}`;
      }),
    );
  }
  if (rows.length === 0) throw new CsvImportError(["the file has a header but no rows"]);
  return rows.map((r) => ({
    line: r.info.lines,
    cells: Object.fromEntries(names.map((n, i) => [n, r.record[i] ?? ""])),
  }));
}

export interface CsvServiceInfo {
  id: string;
  name: string;
  timezone: string;
  levels: string[];
}

/** `service,level,user,start,end[,reason]`; times local to the service unless they carry an offset. */
export function parseOverridesCsv(text: string, services: CsvServiceInfo[]): NewOverride[] {
  const problems: string[] = [];
  const out: NewOverride[] = [];
  for (const { line, cells } of readCsv(text, OVERRIDE_COLUMNS, "reason")) {
    const bad = (m: string) => problems.push(`line ${line}: ${m}`);
    const q = cells.service!.toLowerCase();
    const svc = services.find((s) => s.id === q || s.name.toLowerCase() === q);
    if (!svc) {
      bad(`unknown service '${cells.service}' (known: ${services.map((s) => s.id).join(", ") || "none"})`);
      continue;
    }
    const rowProblems = problems.length;
    if (!svc.levels.includes(cells.level!)) bad(`'${cells.level}' is not a level of ${svc.id} (${svc.levels.join(", ")})`);
    if (!matrixUserId.safeParse(cells.user).success) bad(`user '${cells.user}' must be a Matrix user id such as @alice:example.org`);
    const start = parseDateTime(cells.start!, svc.timezone);
    const end = parseDateTime(cells.end!, svc.timezone);
    if (!start) bad(`start '${cells.start}' must be ${DATE_TIME_HINT}`);
    if (!end) bad(`end '${cells.end}' must be ${DATE_TIME_HINT}`);
    if (start && end && end <= start) bad("end must be after start");
    const reason = cells.reason ?? "";
    if (reason.length > 200) bad("reason is too long (200 characters at most)");
    if (problems.length > rowProblems) continue;
    out.push({ serviceId: svc.id, level: cells.level!, userId: cells.user!, startsAt: start!.toJSDate(), endsAt: end!.toJSDate(), reason: reason || null });
  }
  if (problems.length) throw new CsvImportError(problems);
  return out;
}

/**
 * `user,start,end[,label]`, times local to `zone`. A bare date is a whole day and an end date is
 * inclusive. The label is a short non-clinical word such as "leave": never a diagnosis.
 */
export function parseAbsencesCsv(text: string, zone: string): Absence[] {
  const problems: string[] = [];
  const out: Absence[] = [];
  for (const { line, cells } of readCsv(text, ABSENCE_COLUMNS, "label")) {
    const bad = (m: string) => problems.push(`line ${line}: ${m}`);
    const rowProblems = problems.length;
    if (!matrixUserId.safeParse(cells.user).success) bad(`user '${cells.user}' must be a Matrix user id such as @alice:example.org`);
    const start = parseAbsenceBound(cells.start!, zone, "start");
    const end = parseAbsenceBound(cells.end!, zone, "end");
    if (!start) bad(`start '${cells.start}' must be a date YYYY-MM-DD or ${DATE_TIME_HINT}`);
    if (!end) bad(`end '${cells.end}' must be a date YYYY-MM-DD or ${DATE_TIME_HINT}`);
    if (start && end && end <= start) bad("end must be after start");
    const label = cells.label ?? "";
    if (label.length > MAX_LABEL) bad(`label is too long (${MAX_LABEL} characters at most; a word such as "leave" is enough)`);
    if (problems.length > rowProblems) continue;
    out.push({ userId: cells.user!, startsAt: start!, endsAt: end!, label: label || null });
  }
  if (problems.length) throw new CsvImportError(problems);
  return out;
}

/** A bare date is a whole day (end inclusive); anything else is a date-time. */
export function parseAbsenceBound(text: string, zone: string, edge: "start" | "end"): Date | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) {
    const d = absenceBound(text.trim(), zone, edge);
    return d.isValid ? d.toJSDate() : null;
  }
  return parseDateTime(text, zone)?.toJSDate() ?? null;
}
