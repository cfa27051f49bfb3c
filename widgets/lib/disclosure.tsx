import type { ComponentChildren } from "preact";

/**
 * Rare or dangerous actions behind a deliberate step: closed until opened, with what they do said
 * before the controls. A native <details>, so keyboard and screen readers need nothing extra.
 */
export function Disclosure({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <details class="disclosure">
      <summary>{label}</summary>
      <div class="disclosure-body">{children}</div>
    </details>
  );
}
