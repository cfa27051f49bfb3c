import type { Notifier } from "../../appservice/ports/notifier.js";

/** A notifier that remembers what it was asked to send. */
export class RecordingNotifier implements Notifier {
  sent: { userId: string; text: string }[] = [];
  async tellUser(userId: string, text: string): Promise<void> {
    this.sent.push({ userId, text });
  }
  to(userId: string): string[] {
    return this.sent.filter((s) => s.userId === userId).map((s) => s.text);
  }
}

export const NOW = new Date("2026-01-05T09:00:00Z"); // Monday, after the 08:00 hand-over

// Daily primary alternates @a/@b from Mon 5 Jan; weekly backup is @c (cardiology); ICU is @d/@e.
export const SCHEDULE = `
coordinators: ["@chief:x.org"]
holidays: ["2026-01-06"]
chains: { seniors: ["@s1:x.org", "@s2:x.org"] }
clinicians:
  - { user: "@a:x.org", name: "Dr A" }
  - { user: "@b:x.org", name: "Dr B" }
services:
  - id: cardiology
    name: Cardiology
    timezone: Europe/London
    coordinator: "@coord:x.org"
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2026-01-05", members: ["@a:x.org", "@b:x.org"] }
      - level: backup
        rotation: { kind: weekly, handover: "08:00", start: "2026-01-05", members: ["@c:x.org"] }
    escalation:
      steps: [{ level: primary }, { chain: seniors }]
      fallback: { user: "@switch:x.org" }
      delays: { urgent: 120 }
  - id: icu
    name: ICU
    timezone: Europe/London
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2026-01-05", members: ["@d:x.org", "@e:x.org"] }
`;
