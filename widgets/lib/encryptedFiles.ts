import { decryptAttachment, encryptAttachment } from "../../appservice/shared/attachmentCrypto.js";
import type { ConsultAttachment } from "../../appservice/shared/events/index.js";

/** Uploads bytes to the media repository (through Element) and returns the mxc:// URL. */
export type Uploader = (body: Blob) => Promise<string>;
/** Fetches an mxc:// URL's bytes (through Element). */
export type Downloader = (mxcUrl: string) => Promise<Blob | ArrayBuffer | Uint8Array | string>;

/**
 * Encrypts a file in the browser and uploads only the ciphertext, as an opaque blob: the media
 * repository never sees the name, type or contents. The key travels in the encrypted event.
 */
export async function uploadEncrypted(upload: Uploader, file: File, mimetype: ConsultAttachment["mimetype"]): Promise<ConsultAttachment> {
  const { ciphertext, info } = await encryptAttachment(new Uint8Array(await file.arrayBuffer()));
  const url = await upload(new Blob([ciphertext as BlobPart], { type: "application/octet-stream" }));
  return { name: file.name, mimetype, size: file.size, file: { ...info, url } };
}

/** Downloads and decrypts an attachment; the hash check rejects an altered file. */
export async function downloadDecrypted(download: Downloader, attachment: ConsultAttachment): Promise<Blob> {
  const body = await download(attachment.file.url);
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : new Uint8Array(body instanceof Blob ? await body.arrayBuffer() : body);
  const plain = await decryptAttachment(bytes, attachment.file);
  return new Blob([plain as BlobPart], { type: attachment.mimetype });
}
