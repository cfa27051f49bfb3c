/** Seconds as a coordinator reads them in a report: "45 s" under two minutes, else "12 min"; "-" for none. */
export const durationText = (s: number | null) => (s === null ? "-" : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);
