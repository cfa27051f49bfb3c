import type { ConsultAttachment } from "../../appservice/shared/events/index.js";
import { formatBytes } from "../lib/format.js";
import { ACCEPT_ATTRIBUTE, MAX_ATTACHMENTS, attachmentMimetype, attachmentProblem } from "./attachments.js";

export interface PickedFile {
  file: File;
  mimetype: ConsultAttachment["mimetype"];
}

interface Props {
  files: PickedFile[];
  onFiles: (files: PickedFile[]) => void;
  problems: string[];
  onProblems: (problems: string[]) => void;
  maxBytes: number;
  disabled?: boolean;
}

/** Picks files to attach; a wrong type or an oversized file is refused at once, with the reason. */
export function AttachmentsField({ files, onFiles, problems, onProblems, maxBytes, disabled }: Props) {
  const pick = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const next = [...files];
    const found: string[] = [];
    for (const file of Array.from(input.files ?? [])) {
      const problem = attachmentProblem(file, maxBytes);
      if (problem) found.push(problem);
      else if (next.length >= MAX_ATTACHMENTS) found.push(`${file.name} was not added: at most ${MAX_ATTACHMENTS} attachments.`);
      else next.push({ file, mimetype: attachmentMimetype(file)! });
    }
    // Cleared so the same file can be picked again after removing it.
    input.value = "";
    onFiles(next);
    onProblems(found);
  };
  const describedBy = problems.length ? "attachments-hint attachments-error" : "attachments-hint";
  return (
    <div class={problems.length ? "field invalid" : "field"}>
      <label for="attachments">Attachments (optional)</label>
      <p class="hint" id="attachments-hint">
        PDF, images (PNG, JPEG, GIF, WebP) or DICOM, up to {formatBytes(maxBytes)} each. Files are encrypted before they leave this device.
      </p>
      <input id="attachments" type="file" multiple accept={ACCEPT_ATTRIBUTE} disabled={disabled} aria-describedby={describedBy} onChange={pick} />
      {problems.length > 0 && (
        <div class="field-error" id="attachments-error">
          {problems.map((p) => (
            <p key={p}>{p}</p>
          ))}
        </div>
      )}
      {files.length > 0 && (
        <ul class="plain" aria-label="Attached files">
          {files.map(({ file }, i) => (
            <li key={`${file.name}-${i}`}>
              {file.name} <span class="muted">{formatBytes(file.size)}</span>{" "}
              <button type="button" aria-label={`Remove ${file.name}`} disabled={disabled} onClick={() => onFiles(files.filter((_, j) => j !== i))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
