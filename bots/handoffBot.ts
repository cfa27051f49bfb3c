export const HANDOFF_BOT = {
  name: "handoff",
  displayName: "Rounds Handoffs",
  intro: "I am the Rounds handoff bot. I run shift handoffs: the outgoing clinician presents each patient (SBAR or I-PASS), the incoming clinician reads each one back and asks questions, and both sign off. I keep the handoff tasks and remind the charge role when a handoff runs late.",
};

