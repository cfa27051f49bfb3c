import { CONSULT_OUTCOMES } from "../../appservice/shared/events/terms.js";
import { CONSULT_COMPLEXITIES, CONSULT_SETTINGS, CONSULT_TYPES } from "../../appservice/shared/consultWidgetApiTerms.js";

const options = <T extends string>(values: readonly T[], label: Record<T, string>) => values.map((value) => ({ value, label: label[value] }));

export const CONSULT_TYPE_OPTIONS = options(CONSULT_TYPES, {
  initial: "Initial consult",
  follow_up: "Follow-up consult",
  interprofessional: "Interprofessional (advice without seeing the patient)",
});
export const SETTING_OPTIONS = options(CONSULT_SETTINGS, {
  inpatient: "Inpatient",
  outpatient: "Outpatient",
  emergency: "Emergency department",
  telehealth: "Telehealth",
});
export const COMPLEXITY_OPTIONS = options(CONSULT_COMPLEXITIES, {
  straightforward: "Straightforward",
  low: "Low",
  moderate: "Moderate",
  high: "High",
});
export const OUTCOME_OPTIONS = options(CONSULT_OUTCOMES, {
  advice_followed: "Advice followed",
  patient_seen: "Consultant saw the patient",
  transferred: "Patient transferred",
  no_change: "No change to care",
  other: "Other",
});
export const RATING_OPTIONS = [
  { value: "5", label: "5 (excellent)" },
  { value: "4", label: "4 (good)" },
  { value: "3", label: "3 (fair)" },
  { value: "2", label: "2 (poor)" },
  { value: "1", label: "1 (not helpful)" },
];
