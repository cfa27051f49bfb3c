import type { ConsultAttachment, ConsultRequestContent } from "../../appservice/shared/events/index.js";
import { ErrorNote, useAction } from "../lib/forms.js";
import { formatBytes } from "../lib/format.js";
import { saveBlob } from "../lib/saveBlob.js";

const TYPE_LABEL: Record<ConsultAttachment["mimetype"], string> = {
  "application/pdf": "PDF",
  "image/png": "PNG image",
  "image/jpeg": "JPEG image",
  "image/gif": "GIF image",
  "image/webp": "WebP image",
  "application/dicom": "DICOM",
};

function Attachment({ attachment, download }: { attachment: ConsultAttachment; download?: ((a: ConsultAttachment) => Promise<Blob>) | undefined }) {
  const action = useAction();
  const fetchIt = () =>
    action.run("Downloading…", async () => {
      saveBlob(await download!(attachment), attachment.name);
    });
  return (
    <li>
      <strong>{attachment.name}</strong> <span class="muted">
        {TYPE_LABEL[attachment.mimetype]}, {formatBytes(attachment.size)}
      </span>{" "}
      {download && (
        <button type="button" aria-label={`Download ${attachment.name}`} disabled={action.busy !== null} onClick={fetchIt}>
          {action.busy ?? "Download"}
        </button>
      )}
      <ErrorNote message={action.error} />
    </li>
  );
}

/** The clinical request, from the encrypted event the client decrypted for us. */
export function RequestDetails({
  request,
  download,
}: {
  request: ConsultRequestContent | null;
  download?: ((a: ConsultAttachment) => Promise<Blob>) | undefined;
}) {
  if (!request) {
    return (
      <section aria-label="Request">
        <h2>Request</h2>
        <p class="muted">Element has not loaded the request yet, so its details cannot be shown here. It is the consult bot's first message in this room.</p>
      </section>
    );
  }
  return (
    <section aria-label="Request">
      <h2>Request</h2>
      <dl class="facts">
        <dt>Patient context</dt>
        <dd>{request.patient_ref}</dd>
      </dl>
      <h3>Clinical question</h3>
      <p class="prose">{request.question}</p>
      {request.history && (
        <>
          <h3>Relevant history</h3>
          <p class="prose">{request.history}</p>
        </>
      )}
      {request.attachments && request.attachments.length > 0 && (
        <>
          <h3>Attachments</h3>
          <ul class="plain">
            {request.attachments.map((a) => (
              <Attachment key={a.file.url} attachment={a} download={download} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
