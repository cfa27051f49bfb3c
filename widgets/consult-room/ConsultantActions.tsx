import { ActionRow, useAction } from "../lib/forms.js";
import { ReportForm, type ReportFormProps } from "./ReportForm.js";

/** The consultant starts the consult once accepted, then reports to complete it. */
export function ConsultantActions(props: ReportFormProps) {
  const { api, roomId, consult, onView } = props;
  const action = useAction();
  if (consult.status === "in_progress") return <ReportForm {...props} />;
  if (consult.status !== "accepted") return null;
  const start = () => void action.run("Starting…", async () => onView((await api.start(consult.id, { room_id: roomId })).consult));
  return (
    <section aria-label="Your consult">
      <h2>You accepted this consult</h2>
      <p>Start it when you begin working on it; the report form opens then.</p>
      <ActionRow label="Start consult" busy={action.busy} error={action.error} onClick={start} />
    </section>
  );
}
