import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { z } from "zod";
import { ApiError } from "./apiFetch.js";
import { sentence } from "./format.js";

/** Field errors by the first segment of each zod issue path ("care_team.2" → "care_team"). */
export type FieldErrors = Record<string, string>;

/** `wording` replaces zod's generic messages for fields whose schema has none of its own. */
export function fieldErrors(error: z.ZodError, wording: FieldErrors = {}): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? "form");
    out[key] ??= wording[key] ?? sentence(issue.message);
  }
  return out;
}

/** A whole number typed into a field, or NaN (which the schema then rejects). */
export function wholeNumber(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

export interface FieldShell {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
}

/** A label, the control, and the hint and error the control is described by. */
export function Field({ id, label, error, hint, children }: FieldShell & { children: (describedBy: string | undefined) => ComponentChildren }) {
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={error ? "field invalid" : "field"}>
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children(describedBy)}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

interface TextProps extends FieldShell {
  value: string;
  onValue: (value: string) => void;
  placeholder?: string;
  type?: "text" | "number" | "datetime-local";
  /** Rows of a multi-line field; a single line when absent. */
  rows?: number;
  disabled?: boolean;
}

export function TextField({ value, onValue, placeholder, type = "text", rows, disabled, ...shell }: TextProps) {
  return (
    <Field {...shell}>
      {(describedBy) => {
        const common = {
          id: shell.id,
          value,
          placeholder,
          disabled,
          "aria-invalid": shell.error ? ("true" as const) : undefined,
          "aria-describedby": describedBy,
          onInput: (e: Event) => onValue((e.currentTarget as HTMLInputElement | HTMLTextAreaElement).value),
        };
        if (rows) return <textarea rows={rows} {...common} />;
        if (type === "number") return <input type="number" inputMode="numeric" {...common} />;
        return type === "datetime-local" ? <input type="datetime-local" {...common} /> : <input type="text" {...common} />;
      }}
    </Field>
  );
}

interface SelectProps extends FieldShell {
  value: string;
  onValue: (value: string) => void;
  options: readonly { value: string; label: string }[];
  /** A first, empty choice such as "Choose…"; the schema then reports a missing choice. */
  placeholder?: string;
  disabled?: boolean;
}

export function SelectField({ value, onValue, options, placeholder, disabled, ...shell }: SelectProps) {
  return (
    <Field {...shell}>
      {(describedBy) => (
        <select
          id={shell.id}
          value={value}
          disabled={disabled}
          aria-invalid={shell.error ? "true" : undefined}
          aria-describedby={describedBy}
          onChange={(e) => onValue(e.currentTarget.value)}
        >
          {placeholder !== undefined && <option value="">{placeholder}</option>}
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function ErrorNote({ message }: { message: string | null | undefined }) {
  return message ? (
    <p class="error-note" role="alert">
      {message}
    </p>
  ) : null;
}

/** A load that failed, said as the API said it, with a way to try again. */
export function RetryNote({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div>
      <ErrorNote message={message} />
      <button type="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}

/** The user-facing text of a failure: the API's message as is, or what Element said. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  return `Element could not do that: ${message}`;
}

/**
 * One running call at a time per form: `busy` holds its progress text (buttons disable while it
 * is set), `error` the last failure as the user should read it.
 */
export function useAction() {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A ref, not `busy`: a double click lands before the re-render that disables the button.
  const running = useRef(false);
  async function run(progress: string, work: (step: (text: string) => void) => Promise<void>): Promise<boolean> {
    if (running.current) return false;
    running.current = true;
    setBusy(progress);
    setError(null);
    try {
      await work(setBusy);
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      running.current = false;
      setBusy(null);
    }
  }
  return { busy, error, setError, run };
}

/** What a running call is doing ("Sending the encrypted report…"), announced politely. */
export function Progress({ text }: { text: string | null }) {
  return text ? (
    <span class="progress" role="status">
      {text}
    </span>
  ) : null;
}

/** A form's action button with what the running call is doing and, below, how it failed. */
export function ActionRow({
  label,
  busy,
  error,
  kind = "primary",
  onClick,
}: {
  label: string;
  busy: string | null;
  error: string | null;
  kind?: "primary" | "danger";
  /** For a button outside a form; without it the button submits its form. */
  onClick?: () => void;
}) {
  return (
    <>
      <div class="buttons">
        <button type={onClick ? "button" : "submit"} class={kind} disabled={busy !== null} onClick={onClick}>
          {label}
        </button>
        <Progress text={busy} />
      </div>
      <ErrorNote message={error} />
    </>
  );
}

interface InvalidField {
  id: string;
  label: string;
  message: string;
}

/**
 * A long form's failed submission: a summary of what to fix at the top, each line a link to its
 * field, and focus moved to the first invalid field, so nobody scrolls to find what went wrong.
 * The fields are read from the rendered form (the controls marked aria-invalid), so every form
 * built from Field gets it without naming its fields twice.
 */
export function useErrorSummary() {
  const formRef = useRef<HTMLFormElement>(null);
  const [attempt, setAttempt] = useState(0);
  const [fields, setFields] = useState<InvalidField[]>([]);
  useLayoutEffect(() => {
    if (attempt === 0 || !formRef.current) return;
    // A link needs an id to go to, and focus an enabled control to land on.
    const invalid = [...formRef.current.querySelectorAll<HTMLElement>('[aria-invalid="true"]')].filter((el) => el.id);
    setFields(invalid.map((el) => ({ id: el.id, label: labelOf(el), message: errorOf(el) })));
    invalid.find((el) => !(el as HTMLInputElement).disabled)?.focus();
  }, [attempt]);
  return {
    formRef,
    /** After the form's errors are set: summarise them and move focus, once rendered. */
    show: () => setAttempt((n) => n + 1),
    clear: () => setFields([]),
    summary: fields.length > 0 ? <ErrorSummary fields={fields} /> : null,
  };
}

function labelOf(el: HTMLElement): string {
  const label = [...(el.closest("form")?.querySelectorAll("label") ?? [])].find((l) => l.htmlFor === el.id);
  return (label?.textContent ?? el.getAttribute("aria-label") ?? "").replace(/\s*\(optional\)$/, "").trim();
}

function errorOf(el: HTMLElement): string {
  const errorId = (el.getAttribute("aria-describedby") ?? "").split(" ").find((id) => id.endsWith("-error"));
  return (errorId ? el.ownerDocument.getElementById(errorId)?.textContent : null) ?? "Check this field.";
}

function ErrorSummary({ fields }: { fields: InvalidField[] }) {
  return (
    <div class="error-summary" role="alert">
      <p>
        <strong>{fields.length === 1 ? "One thing to fix before sending:" : `${fields.length} things to fix before sending:`}</strong>
      </p>
      <ul>
        {fields.map((f) => (
          <li key={f.id}>
            <a
              href={`#${f.id}`}
              onClick={(e) => {
                // Focus, not just scroll: the link's target is the control itself.
                e.preventDefault();
                e.currentTarget.ownerDocument.getElementById(f.id)?.focus();
              }}
            >
              {f.label ? `${f.label}: ` : ""}
              {f.message}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
