/**
 * NEWS2, the Royal College of Physicians' National Early Warning Score 2 (2017): seven
 * physiological parameters, each scored 0–3, summed. The tables below are the chart's, to the
 * decimal; the thresholds for acting on the sum (and on a single parameter scoring 3) are the
 * RCP's clinical-response triggers, which a rule may tighten but not invent.
 */

export const NEWS2_PARAMETERS = ["respiration_rate", "spo2", "supplemental_oxygen", "systolic_bp", "pulse", "consciousness", "temperature"] as const;
export type News2Parameter = (typeof NEWS2_PARAMETERS)[number];

/** ACVPU: Alert, new Confusion, Voice, Pain, Unresponsive. */
export type Consciousness = "A" | "C" | "V" | "P" | "U";

export interface News2Vitals {
  /** breaths per minute */
  respiration_rate: number;
  /** % */
  spo2: number;
  /** on oxygen (true) or air (false) */
  supplemental_oxygen: boolean;
  /** mmHg */
  systolic_bp: number;
  /** beats per minute */
  pulse: number;
  consciousness: Consciousness;
  /** °C */
  temperature: number;
}

/** SpO2 scale 2 is for patients with hypercapnic respiratory failure (target 88–92 %), on a clinician's decision. */
export type Spo2Scale = 1 | 2;

export type News2Risk = "low" | "low-medium" | "medium" | "high";

export interface News2Score {
  total: number;
  /** Each parameter's 0–3, so a reader sees why. */
  parts: Record<News2Parameter, number>;
  risk: News2Risk;
}

/** Score of `v` in bands of [upper bound inclusive, score]; the last band takes the rest. */
function band(v: number, bands: ReadonlyArray<readonly [number, number]>, rest: number): number {
  for (const [upTo, score] of bands) if (v <= upTo) return score;
  return rest;
}

const scoreOf: { [K in Exclude<News2Parameter, "spo2" | "supplemental_oxygen" | "consciousness">]: (v: number) => number } = {
  respiration_rate: (v) =>
    band(
      v,
      [
        [8, 3],
        [11, 1],
        [20, 0],
        [24, 2],
      ],
      3,
    ),
  systolic_bp: (v) =>
    band(
      v,
      [
        [90, 3],
        [100, 2],
        [110, 1],
        [219, 0],
      ],
      3,
    ),
  pulse: (v) =>
    band(
      v,
      [
        [40, 3],
        [50, 1],
        [90, 0],
        [110, 1],
        [130, 2],
      ],
      3,
    ),
  // The chart reads temperature to one decimal: 35.0 scores 3 and 35.1 scores 1.
  temperature: (v) =>
    band(
      Math.round(v * 10) / 10,
      [
        [35.0, 3],
        [36.0, 1],
        [38.0, 0],
        [39.0, 1],
      ],
      2,
    ),
};

function spo2Score(spo2: number, onOxygen: boolean, scale: Spo2Scale): number {
  if (scale === 1) {
    return band(
      spo2,
      [
        [91, 3],
        [93, 2],
        [95, 1],
      ],
      0,
    );
  }
  // Scale 2: 88–92 % scores 0, as does ≥ 93 % on air; on oxygen, ≥ 93 % scores 1–3.
  if (spo2 <= 83) return 3;
  if (spo2 <= 85) return 2;
  if (spo2 <= 87) return 1;
  if (spo2 <= 92 || !onOxygen) return 0;
  return band(
    spo2,
    [
      [94, 1],
      [96, 2],
    ],
    3,
  );
}

export function news2(v: News2Vitals, scale: Spo2Scale = 1): News2Score {
  const parts: Record<News2Parameter, number> = {
    respiration_rate: scoreOf.respiration_rate(v.respiration_rate),
    spo2: spo2Score(v.spo2, v.supplemental_oxygen, scale),
    supplemental_oxygen: v.supplemental_oxygen ? 2 : 0,
    systolic_bp: scoreOf.systolic_bp(v.systolic_bp),
    pulse: scoreOf.pulse(v.pulse),
    consciousness: v.consciousness === "A" ? 0 : 3,
    temperature: scoreOf.temperature(v.temperature),
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  const risk: News2Risk = total >= 7 ? "high" : total >= 5 ? "medium" : Object.values(parts).includes(3) ? "low-medium" : "low";
  return { total, parts, risk };
}
