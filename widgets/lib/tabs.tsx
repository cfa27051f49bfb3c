import type { ComponentChildren } from "preact";

/**
 * A dashboard's tabs, as the ARIA tabs pattern has them: each tab names the panel it controls,
 * each panel the tab that labels it. The panels stay mounted (hidden), so switching tabs loses
 * nothing typed in another.
 */
export function TabList<T extends string>({ label, tabs, selected, onSelect }: { label: string; tabs: ReadonlyArray<{ id: T; label: string }>; selected: T; onSelect: (id: T) => void }) {
  return (
    <div role="tablist" aria-label={label}>
      {tabs.map((t) => (
        <button key={t.id} type="button" role="tab" id={`tab-${t.id}`} aria-selected={selected === t.id} aria-controls={`panel-${t.id}`} onClick={() => onSelect(t.id)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function TabPanel({ id, selected, children }: { id: string; selected: string; children: ComponentChildren }) {
  return (
    <section role="tabpanel" id={`panel-${id}`} aria-labelledby={`tab-${id}`} hidden={selected !== id}>
      {children}
    </section>
  );
}
