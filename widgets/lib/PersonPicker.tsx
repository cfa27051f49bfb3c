import { useEffect, useRef, useState } from "preact/hooks";
import type { PersonView } from "../../appservice/shared/peopleApi.js";
import { Field, type FieldShell } from "./forms.js";
import { Person, usePeople } from "./people.js";
import { validators } from "./validators.js";

/** Wait this long after the last keystroke before asking the directory. */
const SEARCH_AFTER_MS = 200;
const MIN_TERM = 2;

interface PickerProps extends FieldShell {
  /** The chosen user id, or what is typed while nobody is chosen. */
  value: string;
  onValue: (value: string) => void;
  /** People offered before anything is typed and matched first: the room's members, the on-call. */
  nearby?: readonly string[];
  placeholder?: string;
  disabled?: boolean;
  /** Called when a person is chosen: from the list, or a full Matrix id typed and Enter pressed. */
  onChoose?: (userId: string) => void;
  /** The pause after the last keystroke before searching; tests set 0. */
  searchAfterMs?: number;
}

/**
 * A type-ahead for a person: names from the people nearby, then the staff directory, by keyboard
 * (arrows, Enter, Escape) or pointer, as the ARIA combobox pattern describes. A full Matrix id
 * typed in (a partner clinic's clinician, whom the directory does not list) is taken as it is.
 */
export function PersonPicker({ value, onValue, onChoose, nearby = [], placeholder = "Type a name or @name:server", disabled, searchAfterMs = SEARCH_AFTER_MS, ...shell }: PickerProps) {
  const people = usePeople([...nearby, value]);
  const [open, setOpen] = useState(false);
  const [options, setOptions] = useState<string[]>([]);
  const [active, setActive] = useState(-1);
  const [searching, setSearching] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const asked = useRef(0);
  const listId = `${shell.id}-options`;
  const term = value.trim();
  const chosen = validators().matrixUserId.safeParse(term).success ? term : null;

  useEffect(() => {
    if (!open) return;
    const q = term.toLowerCase();
    const near = nearby.filter((u) => !q || u.toLowerCase().includes(q) || (people?.label(u).toLowerCase().includes(q) ?? false));
    setOptions(near);
    setActive(-1);
    if (!people || term.length < MIN_TERM || chosen) return;
    const n = ++asked.current;
    const timer = setTimeout(() => {
      setSearching(true);
      people.search(term).then(
        (found: PersonView[]) => {
          if (n !== asked.current) return;
          setOptions([...near, ...found.map((p) => p.user_id).filter((u) => !near.includes(u))]);
          setProblem(null);
          setSearching(false);
        },
        (err: unknown) => {
          if (n !== asked.current) return;
          setProblem(`The directory could not be searched (${(err as Error).message}). You can still type a full Matrix id.`);
          setSearching(false);
        },
      );
    }, searchAfterMs);
    return () => clearTimeout(timer);
  }, [open, term, people, nearby.join(" "), searchAfterMs]);

  const choose = (userId: string) => {
    onValue(userId);
    onChoose?.(userId);
    setOpen(false);
    setActive(-1);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setOpen(true);
      if (options.length) setActive((i) => (e.key === "ArrowDown" ? (i + 1) % options.length : (i <= 0 ? options.length : i) - 1));
    } else if (e.key === "Enter" && open && active >= 0 && options[active]) {
      // Choosing a person, not submitting the form.
      e.preventDefault();
      choose(options[active]!);
    } else if (e.key === "Enter" && onChoose && chosen) {
      e.preventDefault();
      choose(chosen);
    } else if (e.key === "Escape" && open) {
      e.preventDefault();
      setOpen(false);
    }
  };
  const expanded = open && (options.length > 0 || searching);

  return (
    <Field {...shell}>
      {(describedBy) => (
        <div class="picker">
          <input
            type="text"
            id={shell.id}
            role="combobox"
            autocomplete="off"
            aria-autocomplete="list"
            aria-expanded={expanded ? "true" : "false"}
            aria-controls={listId}
            aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
            aria-invalid={shell.error ? "true" : undefined}
            aria-describedby={describedBy}
            placeholder={placeholder}
            value={value}
            disabled={disabled}
            onInput={(e) => {
              onValue(e.currentTarget.value);
              setOpen(true);
            }}
            onFocus={() => setOpen(true)}
            onBlur={() => setOpen(false)}
            onKeyDown={onKeyDown}
          />
          <ul id={listId} role="listbox" aria-label={`${shell.label}: suggestions`} class="picker-options" hidden={!expanded}>
            {options.map((u, i) => (
              <li
                key={u}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active ? "true" : "false"}
                class={i === active ? "active" : undefined}
                // Before the input's blur closes the list.
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(u);
                }}
              >
                <Person id={u} /> <span class="muted">{u}</span>
              </li>
            ))}
            {searching && (
              <li role="presentation" class="muted">
                Searching…
              </li>
            )}
          </ul>
          {chosen && !open && (
            <p class="hint" aria-live="polite">
              <Person id={chosen} />
            </p>
          )}
          {problem && <p class="hint">{problem}</p>}
        </div>
      )}
    </Field>
  );
}

interface PeopleFieldProps extends FieldShell {
  values: readonly string[];
  onValues: (values: string[]) => void;
  /** What is typed but not chosen yet; the form counts it too, so a typed id is never dropped. */
  pending: string;
  onPending: (text: string) => void;
  nearby?: readonly string[];
  disabled?: boolean;
  searchAfterMs?: number;
}

/** Several people: each chosen with the picker, listed with a Remove button. */
export function PeopleField({ values, onValues, pending, onPending, nearby, disabled, searchAfterMs, ...shell }: PeopleFieldProps) {
  return (
    <div class="people-field">
      {values.length > 0 && (
        <ul class="plain chosen" aria-label={`${shell.label}: chosen`}>
          {values.map((u) => (
            <li key={u}>
              <Person id={u} />{" "}
              <button type="button" class="link" disabled={disabled} onClick={() => onValues(values.filter((v) => v !== u))}>
                Remove <span class="visually-hidden">{u}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <PersonPicker
        {...shell}
        value={pending}
        onValue={onPending}
        nearby={nearby}
        disabled={disabled}
        searchAfterMs={searchAfterMs}
        onChoose={(u) => {
          if (!values.includes(u)) onValues([...values, u]);
          onPending("");
        }}
      />
    </div>
  );
}
