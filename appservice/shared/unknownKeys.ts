import type { z } from "zod";

/**
 * Unknown keys in the files people write (schedules, handoff units) are refused by name, with the
 * nearest known key: a typo such as `overides:` must not silently drop what it was meant to hold.
 * The walk follows the zod schema beside the parsed value, so each key is checked against the
 * keys allowed where it stands. Loose objects (which tolerate extra keys on purpose) are skipped.
 */

/** Levenshtein distance, for suggesting the key that was probably meant. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function nearestWord(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function unknownKeyMessage(key: string, path: string, known: readonly string[]): string {
  const where = path ? `at ${path}` : "at top level";
  const near = nearestWord(key, known);
  const hint = near ? `did you mean '${near}'?` : `known keys here: ${known.join(", ")}`;
  return `unknown key '${key}' ${where}; ${hint}`;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  in?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);

/** Peels optional/default/transform wrappers down to the schema that shapes the value. */
function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else return s;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The object schemas a value may match here (several for a union of objects). */
function objectShapes(s: z.ZodType): Def[] {
  const d = defOf(unwrap(s));
  if (d.type === "object") return [d];
  if (d.type === "union") return (d.options ?? []).flatMap(objectShapes);
  if (d.type === "intersection") return [d.left, d.right].filter((x): x is z.ZodType => !!x).flatMap(objectShapes);
  return [];
}

/** Every key of `value` that `schema` does not name, as "unknown key ..." messages with paths. */
export function unknownKeys(schema: z.ZodType, value: unknown, path: (string | number)[] = []): string[] {
  const at = path.join(".");
  const inner = unwrap(schema);
  const d = defOf(inner);
  if (Array.isArray(value)) {
    const arrays = d.type === "array" ? [d] : d.type === "union" ? (d.options ?? []).map((o) => defOf(unwrap(o))).filter((o) => o.type === "array") : [];
    const element = arrays[0]?.element;
    return element ? value.flatMap((v, i) => unknownKeys(element, v, [...path, i])) : [];
  }
  if (!isPlainObject(value)) return [];
  if (d.type === "record" && d.valueType) return Object.entries(value).flatMap(([k, v]) => unknownKeys(d.valueType!, v, [...path, k]));
  const shapes = objectShapes(inner);
  if (shapes.length === 0) return [];
  // A loose object (catchall other than never) accepts any key on purpose.
  if (shapes.some((s) => s.catchall && defOf(s.catchall).type !== "never")) return [];
  const known = [...new Set(shapes.flatMap((s) => Object.keys(s.shape ?? {})))];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    // Own keys only: `__proto__` or `constructor` in a file must not find Object.prototype's.
    const children = shapes.map((s) => (s.shape && Object.hasOwn(s.shape, k) ? s.shape[k] : undefined)).filter((c): c is z.ZodType => !!c);
    if (children.length === 0) problems.push(unknownKeyMessage(k, at, known));
    else problems.push(...unknownKeys(children[0]!, v, [...path, k]));
  }
  return problems;
}
