export const CONSULT_BOT = {
  name: "consult",
  displayName: "Rounds Consults",
  intro: "I am the Rounds consult bot. I route your consult requests to the right specialist, keep track of them until they are answered, and file the report.",
};

