import type { HandoffItemContent } from "../../appservice/shared/events/index.js";
import type { HandoffTaskView } from "../../appservice/shared/handoffApi.js";
import { SEVERITY_LABEL } from "../lib/handoffLabels.js";
import { TaskLine } from "./TaskLine.js";

function Section({ title, text }: { title: string; text: string }) {
  if (!text) return null;
  return (
    <>
      <dt>{title}</dt>
      <dd class="prose">{text}</dd>
    </>
  );
}

/** Lines that must not be missed, each in bold, under their title; nothing when there are none. */
function Emphasised({ title, class: cls, lines }: { title: string; class: string; lines: readonly string[] }) {
  if (lines.length === 0) return null;
  return (
    <div role="group" class={cls} aria-label={title}>
      <strong>{title}</strong>
      <ul>
        {lines.map((line, i) => (
          <li key={i}>
            <strong>{line}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * One version of a patient's item, decrypted by the client. Critical alerts come first and stand
 * out; medication changes are emphasised, because both are what a handoff most often loses.
 */
export function ItemDetails({ item, outgoing, tasks = [], now }: { item: HandoffItemContent; outgoing: string; tasks?: HandoffTaskView[]; now: number }) {
  return (
    <div class="item">
      <Emphasised title="Critical alerts" class="critical-alerts" lines={item.critical_alerts} />
      <Emphasised title="Medication changes" class="med-changes" lines={item.medication_changes} />
      <dl class="sections">
        {item.sbar && (
          <>
            <Section title="Situation" text={item.sbar.situation} />
            <Section title="Background" text={item.sbar.background} />
            <Section title="Assessment" text={item.sbar.assessment} />
            <Section title="Recommendation" text={item.sbar.recommendation} />
          </>
        )}
        {item.ipass && (
          <>
            <dt>Illness severity</dt>
            <dd>
              <span class={`badge severity-${item.ipass.illness_severity}`}>{SEVERITY_LABEL[item.ipass.illness_severity]}</span>
            </dd>
            <Section title="Patient summary" text={item.ipass.patient_summary} />
            <Section title="Action list" text={item.ipass.action_list} />
            <Section title="Situation awareness" text={item.ipass.situation_awareness} />
          </>
        )}
        <Section title="Code status" text={item.code_status} />
        <Section title="Recent events" text={item.recent_events} />
      </dl>
      {item.tasks.length > 0 && (
        <div role="group" aria-label="Pending tasks">
          <strong>Pending tasks</strong>
          <ul class="tasks">
            {item.tasks.map((t) => (
              <TaskLine key={t.id} task={t} view={tasks.find((v) => v.task_id === t.id)} outgoing={outgoing} now={now} />
            ))}
          </ul>
        </div>
      )}
      {item.contingencies.length > 0 && (
        <div role="group" aria-label="Contingency plans">
          <strong>Contingency plans</strong>
          <ul>
            {item.contingencies.map((c, i) => (
              <li key={i}>
                <strong>If</strong> {c.if} <strong>then</strong> {c.then}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
