export const ONCALL_BOT = {
  name: "oncall",
  displayName: "Rounds On-Call",
  intro: "I am the Rounds on-call bot. I tell you who is on call, and I page them for you, escalating until someone acknowledges.",
};

