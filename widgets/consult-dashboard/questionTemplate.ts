/** A skeleton that helps state a consult question a specialist can act on. */
export const QUESTION_TEMPLATE = [
  "Question for the consultant: ",
  "Reason for asking now: ",
  "What has been done so far: ",
  "Decision this will inform: ",
].join("\n");

export function insertTemplate(question: string): string {
  return question.trim() ? `${question.trimEnd()}\n\n${QUESTION_TEMPLATE}` : QUESTION_TEMPLATE;
}

/** True while the template's prompts are all that was written. */
export function isBareTemplate(question: string): boolean {
  const filled = question
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !QUESTION_TEMPLATE.split("\n").some((prompt) => prompt.trim() === line));
  return filled.length === 0;
}
