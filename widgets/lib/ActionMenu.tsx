import type { ComponentChildren } from "preact";
import { useRef } from "preact/hooks";

/**
 * A card's rarer actions behind one control, so a card shows one button instead of five. A native
 * <details>: it closes once an action is chosen, and on Escape with focus back on its summary.
 * `context` is read by screen readers only, so that "Actions" is told apart across cards.
 */
export function ActionMenu({ label = "Actions", context, children }: { label?: string; context: string; children: ComponentChildren }) {
  const ref = useRef<HTMLDetailsElement>(null);
  const close = (focusSummary: boolean) => {
    if (!ref.current) return;
    ref.current.open = false;
    if (focusSummary) ref.current.querySelector("summary")?.focus();
  };
  return (
    <details
      class="action-menu"
      ref={ref}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest(".action-menu-items button")) close(false);
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape" && ref.current?.open) {
          e.preventDefault();
          close(true);
        }
      }}
    >
      <summary>
        {label}
        <span class="visually-hidden"> {context}</span>
      </summary>
      <div class="action-menu-items">{children}</div>
    </details>
  );
}
