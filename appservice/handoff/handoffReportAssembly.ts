import type { HandoffItemContent, IncidentCategory } from "../shared/events/index.js";
import type { TimerRow } from "../timers/timerStore.js";
import { handoffReportSummary, renderHandoffReport, type HandoffReportInput } from "./handoffReport.js";
import { HandoffPart, type HandoffSteps } from "./handoffSteps.js";
import type { Handoff } from "./handoffStore.js";
import type { HandoffUnits } from "./handoffUnits.js";

/** A completed handoff's report: gathered from the rows and the encrypted events, then written to its room. */
export class HandoffReportAssembly extends HandoffPart {
  constructor(steps: HandoffSteps, private readonly units: HandoffUnits) {
    super(steps);
  }

  /** Writes the completion report: an encrypted message and an encrypted Markdown attachment. */
  async onReport(timer: TimerRow): Promise<void> {
    await this.steps.lock.run(timer.ref, async () => {
      const { store } = this.deps;
      const h = await store.get(timer.ref);
      if (!h || h.status !== "completed" || h.reportEventId || !h.roomId) return;
      const input = await this.reportInput(h);
      const markdown = renderHandoffReport(input);
      const eventId = await this.deps.rooms.send(h.roomId, { body: handoffReportSummary(input), mentions: [h.outgoing, h.incoming] }, `handoff:${h.id}:report`);
      await this.deps.rooms.sendFile(
        h.roomId,
        { name: `handoff-${h.number}-report.md`, mimetype: "text/markdown", bytes: new TextEncoder().encode(markdown), body: `Handoff #${h.number} report` },
        `handoff:${h.id}:report-file`,
      );
      await store.update(h.id, { report_event_id: eventId });
      await store.audit(h.id, "report", "rounds", this.steps.now(), { event_id: eventId });
      await this.read.mirror((await store.get(h.id))!);
    });
  }

  private async reportInput(h: Handoff): Promise<HandoffReportInput> {
    const { store } = this.deps;
    const { read } = this;
    const unit = await this.units.unitOf(h);
    const entries = await store.entries(h.id);
    const questions = await read.activeQuestions(h.id, entries);
    const patients = [];
    const items = new Map<string, HandoffItemContent | null>();
    for (const e of entries) {
      const item = await read.itemContent(h, e.itemEventId);
      items.set(e.entryId, item);
      const qs = [];
      for (const q of questions.filter((x) => x.entryId === e.entryId)) {
        qs.push({
          number: q.number,
          text: await read.textOf(h, q.eventId, "text"),
          askedBy: q.askedBy,
          askedAt: q.askedAt,
          answer: q.answerEventId ? { text: await read.textOf(h, q.answerEventId, "text"), by: q.answeredBy!, at: q.answeredAt! } : null,
        });
      }
      patients.push({
        number: e.number,
        version: e.version,
        item,
        presentedBy: e.presentedBy,
        presentedAt: e.presentedAt,
        readBack: e.readbackVersion === e.version && e.readbackBy ? { summary: await read.textOf(h, e.readbackEventId, "summary"), by: e.readbackBy, at: e.readbackAt! } : null,
        questions: qs,
      });
    }
    const position = new Map(entries.map((e) => [e.entryId, e.number]));
    const tasks = (await store.tasks(h.id))
      .filter((t) => t.status !== "removed" && position.has(t.entryId))
      .map((t) => ({
        patientNumber: position.get(t.entryId)!,
        text: items.get(t.entryId)?.tasks.find((x) => x.id === t.taskId)?.text ?? null,
        owner: t.owner,
        previousOwner: t.transferredFrom,
        due: t.dueAt,
        status: t.status as "open" | "done",
      }));
    const signOffs = [];
    for (const s of await store.signOffs(h.id)) {
      signOffs.push({ user: s.userId, at: s.signedAt, override: s.overrideEventId ? { reason: await read.textOf(h, s.overrideEventId, "text"), outstanding: s.outstanding! } : null });
    }
    const incidents = [];
    for (const i of await store.incidents(h.id)) {
      // A patient removed after the report keeps their number (rows are never deleted).
      const patientNumber = position.get(i.entryId) ?? (await store.entry(h.id, i.entryId))?.number ?? 0;
      incidents.push({ number: i.number, patientNumber, category: i.category as IncidentCategory, by: i.reportedBy, at: i.reportedAt });
    }
    return {
      number: h.number,
      unitName: unit.name,
      template: h.template,
      mode: h.mode,
      outgoing: h.outgoing,
      incoming: h.incoming,
      timezone: unit.timezone,
      startedAt: h.createdAt,
      deadline: h.deadline,
      completedAt: h.completedAt ?? this.steps.now(),
      scheduledFor: h.scheduledFor,
      overdue: h.overdue,
      escalatedTo: h.escalatedTo,
      patients,
      tasks,
      signOffs,
      checklist: h.checklist,
      incidents,
    };
  }
}
