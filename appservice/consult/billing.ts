import type { BillingInput } from "../shared/consultWidgetApi.js";

/** A billing code suggestion. Workflow facts only (no PHI); the billing clinician decides. */
export interface BillingSuggestion {
  code: string;
  description: string;
  rationale: string;
}

type Complexity = BillingInput["complexity"];

/** One code family: a code per MDM level, and the time (minutes, met or exceeded) that earns it, if time counts. */
interface CodeLevel {
  code: string;
  mdm: Complexity[];
  minutes: number | null;
  description: string;
}
interface Family {
  name: string;
  levels: CodeLevel[]; // lowest first
  /** Time from which a prolonged-service code may be added to the highest level. */
  prolonged?: { code: string; fromMinutes: number };
}

// CPT 2023+ E/M: a level is chosen by medical decision making or by total time, whichever is higher.
const OUTPATIENT_CONSULT: Family = {
  name: "office or other outpatient consultation (also used for consults in the emergency department)",
  levels: [
    { code: "99242", mdm: ["straightforward"], minutes: 20, description: "Outpatient consultation, straightforward MDM or 20 minutes" },
    { code: "99243", mdm: ["low"], minutes: 30, description: "Outpatient consultation, low MDM or 30 minutes" },
    { code: "99244", mdm: ["moderate"], minutes: 40, description: "Outpatient consultation, moderate MDM or 40 minutes" },
    { code: "99245", mdm: ["high"], minutes: 55, description: "Outpatient consultation, high MDM or 55 minutes" },
  ],
  prolonged: { code: "99417", fromMinutes: 70 },
};
const INPATIENT_CONSULT: Family = {
  name: "inpatient or observation consultation",
  levels: [
    { code: "99252", mdm: ["straightforward"], minutes: 35, description: "Inpatient or observation consultation, straightforward MDM or 35 minutes" },
    { code: "99253", mdm: ["low"], minutes: 45, description: "Inpatient or observation consultation, low MDM or 45 minutes" },
    { code: "99254", mdm: ["moderate"], minutes: 60, description: "Inpatient or observation consultation, moderate MDM or 60 minutes" },
    { code: "99255", mdm: ["high"], minutes: 80, description: "Inpatient or observation consultation, high MDM or 80 minutes" },
  ],
  prolonged: { code: "99418", fromMinutes: 95 },
};
const SUBSEQUENT_HOSPITAL: Family = {
  name: "subsequent hospital inpatient or observation care (a follow-up consult is reported as subsequent care)",
  levels: [
    { code: "99231", mdm: ["straightforward", "low"], minutes: 25, description: "Subsequent hospital care, straightforward or low MDM or 25 minutes" },
    { code: "99232", mdm: ["moderate"], minutes: 35, description: "Subsequent hospital care, moderate MDM or 35 minutes" },
    { code: "99233", mdm: ["high"], minutes: 50, description: "Subsequent hospital care, high MDM or 50 minutes" },
  ],
  prolonged: { code: "99418", fromMinutes: 65 },
};
const ESTABLISHED_OUTPATIENT: Family = {
  name: "established patient office or other outpatient visit (a follow-up consult is reported as a visit)",
  levels: [
    { code: "99212", mdm: ["straightforward"], minutes: 10, description: "Established patient outpatient visit, straightforward MDM or 10 minutes" },
    { code: "99213", mdm: ["low"], minutes: 20, description: "Established patient outpatient visit, low MDM or 20 minutes" },
    { code: "99214", mdm: ["moderate"], minutes: 30, description: "Established patient outpatient visit, moderate MDM or 30 minutes" },
    { code: "99215", mdm: ["high"], minutes: 40, description: "Established patient outpatient visit, high MDM or 40 minutes" },
  ],
  prolonged: { code: "99417", fromMinutes: 55 },
};
// Emergency department visits are leveled by MDM only; time does not count.
const EMERGENCY_VISIT: Family = {
  name: "emergency department visit (leveled by MDM only; time does not count)",
  levels: [
    { code: "99282", mdm: ["straightforward"], minutes: null, description: "Emergency department visit, straightforward MDM" },
    { code: "99283", mdm: ["low"], minutes: null, description: "Emergency department visit, low MDM" },
    { code: "99284", mdm: ["moderate"], minutes: null, description: "Emergency department visit, moderate MDM" },
    { code: "99285", mdm: ["high"], minutes: null, description: "Emergency department visit, high MDM" },
  ],
};

/** Interprofessional (consultant-to-clinician) codes with a verbal and written report, by minutes. */
const INTERPROFESSIONAL_VERBAL: { code: string; from: number; to: number | null }[] = [
  { code: "99446", from: 5, to: 10 },
  { code: "99447", from: 11, to: 20 },
  { code: "99448", from: 21, to: 30 },
  { code: "99449", from: 31, to: null },
];

function familyFor(input: BillingInput): Family {
  if (input.consult_type === "follow_up") {
    if (input.setting === "inpatient") return SUBSEQUENT_HOSPITAL;
    if (input.setting === "emergency") return EMERGENCY_VISIT;
    return ESTABLISHED_OUTPATIENT;
  }
  return input.setting === "inpatient" ? INPATIENT_CONSULT : OUTPATIENT_CONSULT;
}

/**
 * Suggests a CPT code for a completed consult from its type, setting, complexity and minutes.
 * The rationale names the input that decided the level, so the billing clinician can check it.
 */
export function suggestBillingCode(input: BillingInput): BillingSuggestion {
  if (input.consult_type === "interprofessional") return interprofessional(input);
  const family = familyFor(input);
  const byMdmIndex = family.levels.findIndex((l) => l.mdm.includes(input.complexity));
  let byTimeIndex = -1;
  family.levels.forEach((l, i) => {
    if (l.minutes !== null && input.minutes >= l.minutes) byTimeIndex = i;
  });
  const chosen = family.levels[Math.max(byMdmIndex, byTimeIndex)]!;
  const mdmLevel = family.levels[byMdmIndex]!;
  const timeLevel = byTimeIndex >= 0 ? family.levels[byTimeIndex]! : null;
  const timeCounts = family.levels.some((l) => l.minutes !== null);

  const parts = [`${capitalise(family.name)}.`, `Medical decision making: ${input.complexity} → ${mdmLevel.code}.`];
  if (!timeCounts) {
    parts.push(`Time (${input.minutes} min) does not count for these codes, so medical decision making decides: ${chosen.code}.`);
  } else {
    const lowest = family.levels[0]!.minutes!;
    parts.push(
      timeLevel
        ? `Time: ${input.minutes} min meets ${timeLevel.code} (at least ${timeLevel.minutes} min).`
        : `Time: ${input.minutes} min is under the ${lowest} min of the lowest level, so it does not count.`,
    );
    if (timeLevel && byTimeIndex > byMdmIndex) parts.push(`Time gives the higher level, so time decides: ${chosen.code}.`);
    else if (timeLevel && byTimeIndex === byMdmIndex) parts.push(`Time and medical decision making give the same level: ${chosen.code}.`);
    else parts.push(`Medical decision making gives the higher level, so it decides: ${chosen.code}.`);
  }
  if (family.prolonged && chosen === family.levels.at(-1) && input.minutes >= family.prolonged.fromMinutes) {
    parts.push(`At ${input.minutes} min a prolonged-service code (${family.prolonged.code}, from ${family.prolonged.fromMinutes} min) may also apply; payer rules vary.`);
  }
  return { code: chosen.code, description: chosen.description, rationale: parts.join(" ") };
}

/**
 * Interprofessional consults (no patient contact): by telehealth there is a verbal discussion,
 * so 99446–99449 by minutes; otherwise the e-consult is a written report only, 99451.
 */
function interprofessional(input: BillingInput): BillingSuggestion {
  if (input.minutes < 5) {
    return {
      code: "none",
      description: "No interprofessional consultation code applies",
      rationale: `Interprofessional consultation codes need at least 5 minutes of consultative time; ${input.minutes} min was recorded, so time decides: nothing to bill.`,
    };
  }
  if (input.setting === "telehealth") {
    const band = INTERPROFESSIONAL_VERBAL.find((b) => input.minutes >= b.from && (b.to === null || input.minutes <= b.to))!;
    const range = band.to === null ? `${band.from} min or more` : `${band.from}–${band.to} min`;
    return {
      code: band.code,
      description: `Interprofessional telephone/internet/EHR consultation with verbal and written report, ${range}`,
      rationale: `Interprofessional consultation without patient contact, discussed by telehealth (verbal and written report). These codes are chosen by time only: ${input.minutes} min falls in ${range}, so time decides: ${band.code}. Medical decision making (${input.complexity}) does not count for them.`,
    };
  }
  return {
    code: "99451",
    description: "Interprofessional telephone/internet/EHR assessment with written report only, 5 minutes or more",
    rationale: `Interprofessional e-consult without patient contact, answered by written report (${input.setting} setting). 99451 needs at least 5 minutes; ${input.minutes} min was recorded, so time decides: 99451. Medical decision making (${input.complexity}) does not count for it.`,
  };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
