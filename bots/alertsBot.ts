export const ALERTS_BOT = {
  name: "alerts",
  displayName: "Rounds Alerts",
  intro: "I am the Rounds alerts bot. I bring you critical lab results and deterioration warnings for your patients, and I keep asking until someone acknowledges them.",
};
