import { useState } from "preact/hooks";
import type { HandoffEntryView } from "../../appservice/shared/handoffApi.js";
import { ItemDetails } from "./ItemDetails.js";
import type { HandoffContent } from "./roomData.js";

/** The earlier versions of an edited patient, newest first, so both can see what changed. */
export function ItemHistory({ entry, content, outgoing, now }: { entry: HandoffEntryView; content: HandoffContent; outgoing: string; now: number }) {
  const [open, setOpen] = useState(false);
  if (entry.history.length === 0) return null;
  return (
    <div class="history">
      <button type="button" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        {open ? "Hide earlier versions" : "Show earlier versions"}
      </button>
      {open && (
        <ol class="plain">
          {entry.history.map((eventId, i) => {
            const item = content.items.get(eventId);
            return (
              <li key={eventId}>
                <h4>Version {item?.version ?? entry.version - 1 - i}</h4>
                {item ? (
                  <>
                    <p class="muted">
                      {item.label ? `${item.label} · ` : ""}
                      {item.patient_ref}
                    </p>
                    <ItemDetails item={item} outgoing={outgoing} now={now} />
                  </>
                ) : (
                  <p class="muted">Element has not loaded this version, so it cannot be shown here.</p>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
