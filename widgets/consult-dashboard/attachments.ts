import { CONSULT_ATTACHMENT_TYPES } from "../../appservice/shared/events/terms.js";
import type { ConsultAttachment } from "../../appservice/shared/events/index.js";
import { formatBytes } from "../lib/format.js";

type Mimetype = ConsultAttachment["mimetype"];

/** Browsers often leave DICOM (and sometimes others) untyped, so the extension decides then. */
const BY_EXTENSION: Record<string, Mimetype> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  dcm: "application/dicom",
  dicom: "application/dicom",
};

export const ACCEPT_ATTRIBUTE = [...CONSULT_ATTACHMENT_TYPES, ...Object.keys(BY_EXTENSION).map((e) => `.${e}`)].join(",");
export const MAX_ATTACHMENTS = 10;

export function attachmentMimetype(file: { name: string; type: string }): Mimetype | null {
  if ((CONSULT_ATTACHMENT_TYPES as readonly string[]).includes(file.type)) return file.type as Mimetype;
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
  if (file.type && file.type !== "application/octet-stream") return null;
  return ext ? (BY_EXTENSION[ext] ?? null) : null;
}

/** Why a file cannot be attached, in words for the user; null when it can. */
export function attachmentProblem(file: { name: string; type: string; size: number }, maxBytes: number): string | null {
  if (!attachmentMimetype(file)) return `${file.name} is not a PDF, an image (PNG, JPEG, GIF, WebP) or a DICOM file.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > maxBytes) return `${file.name} is ${formatBytes(file.size)}; the limit is ${formatBytes(maxBytes)} per file.`;
  return null;
}
