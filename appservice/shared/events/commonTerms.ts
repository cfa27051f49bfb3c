/**
 * The words every Rounds event shares, without their validators: plain constants that a widget's
 * first paint can import without loading zod (the schemas are in common.ts).
 */

/** Every Rounds bot is `@rounds_<name>:<server>`; anything else in the namespace is ours too. */
export const BOT_PREFIX = "@rounds_";

export const NAMESPACE = "health.rounds";

export const URGENCIES = ["emergent", "urgent", "routine"] as const;
export type Urgency = (typeof URGENCIES)[number];

/** A FHIR Patient or Encounter reference, e.g. "Encounter/abc-123": the only patient identifier Rounds handles, and only in encrypted events. */
export const FHIR_CONTEXT_REFERENCE = /^(Patient|Encounter)\/[A-Za-z0-9\-.]{1,64}$/;

export const WidgetStateType = {
  Widget: "im.vector.modular.widgets",
  Layout: "io.element.widgets.layout",
} as const;

/**
 * A read receipt as the inbox stores it (appservice/inbox/receiptEvents.ts): type m.receipt, its
 * id made by Rounds with this prefix. A timeline event a client sends has an id its server
 * made, never this prefix, so a handler checks the prefix before taking it for a read.
 */
export const RECEIPT_EVENT_TYPE = "m.receipt";
export const RECEIPT_EVENT_ID_PREFIX = "$receipt-";
