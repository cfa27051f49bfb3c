import { parse } from "yaml";
import type { z } from "zod";
import { unknownKeys } from "./unknownKeys.js";

/**
 * A file people write (schedules, alert sources, rules), read whole: YAML, then unknown keys by
 * name (with the nearest known key), then the schema's own problems, each with its path, so the
 * author fixes the file in one pass. Either the value or every problem; never half a file.
 */
export function readYamlFile<S extends z.ZodType>(schema: S, text: string): { ok: true; value: z.infer<S> } | { ok: false; problems: string[] } {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    return { ok: false, problems: [`not valid YAML: ${(e as Error).message.split("\n")[0]}`] };
  }
  // Unknown keys first: `overides:` would otherwise be dropped silently, and the file would mean
  // something else than its author wrote.
  const unknown = unknownKeys(schema, raw);
  const parsed = schema.safeParse(raw);
  if (!unknown.length && parsed.success) return { ok: true, value: parsed.data };
  // zod's own report of the same keys is less helpful; a union of strict objects says only "Invalid input".
  const rest = (parsed.error?.issues ?? []).filter((i) => !(unknown.length && (i.code === "unrecognized_keys" || i.code === "invalid_union")));
  return { ok: false, problems: [...unknown, ...rest.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`)] };
}
