/** A schedule whose names exist only in Rounds' database, never in Synapse's. */
export function testSchedule(serverName: string) {
  const primary = { user: `@quinn:${serverName}`, name: "Dr Quinn Marlowe-Vasquez" };
  const backup = { user: `@rhys:${serverName}`, name: "Dr Rhys Oakhampton" };
  // ICU has its own clinician: one person on two services at once is a double-booking.
  const intensivist = { user: `@ines:${serverName}`, name: "Dr Ines Halvorsen" };
  const yaml = `
clinicians:
  - { user: "${primary.user}", name: "${primary.name}" }
  - { user: "${backup.user}", name: "${backup.name}" }
  - { user: "${intensivist.user}", name: "${intensivist.name}" }
services:
  - id: cardiology
    name: Cardiology
    timezone: Europe/London
    levels:
      - level: primary
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${primary.user}"] }
      - level: backup
        rotation: { kind: daily, handover: "08:00", start: "2020-01-01", members: ["${backup.user}"] }
  - id: icu
    name: Intensive Care
    timezone: Europe/London
    levels:
      - level: primary
        rotation: { kind: weekly, handover: "07:30", start: "2020-01-06", members: ["${intensivist.user}"] }
`;
  return { yaml, primary, backup, intensivist };
}
