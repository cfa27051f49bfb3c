import type { HandoffActions, SentEvent } from "../appservice/handoff/handoffActions.js";
import { clock, indent, itemText } from "../appservice/handoff/handoffMessages.js";
import type { RoomWriter } from "../appservice/ports/roomWriter.js";
import {
  FHIR_CONTEXT_REFERENCE,
  HandoffEventType,
  INCIDENT_CATEGORIES,
  matrixUserId,
  type IncidentCategory,
} from "../appservice/shared/events/index.js";
import type { HandoffEntryView, HandoffView, MyHandoffsResponse } from "../appservice/shared/handoffApi.js";
import { CommandError, type BotCommands, type Command, type CommandContext, type EventHandler, type SubCommand } from "./commands.js";
import { parseItemSections, sectionHint, type ParsedItemSections } from "./handoffSections.js";

/** The message's lines; line 1 is the command itself. `args` follow the sub-command `verb`. */
function messageLines(ctx: CommandContext, verb: string, args: string[]): string[] {
  return (ctx.body ?? ["!handoff", verb, ...args].join(" ")).trim().split(/\r?\n/);
}

/**
 * The message's text after its first `words` words (`!handoff` and the sub-command count), line
 * breaks kept. `args` are the words after the sub-command, for a context without the body.
 */
function textAfter(ctx: CommandContext, args: string[], words: number): string {
  if (ctx.body === undefined) return args.slice(words - 2).join(" ").trim();
  const body = ctx.body.trim();
  const word = /\S+/g;
  let end = 0;
  for (let i = 0; i < words; i++) {
    const m = word.exec(body);
    if (!m) return "";
    end = m.index + m[0].length;
  }
  return body.slice(end).trim();
}

/** The key a retried command is recognised by: its event id. */
function txnKey(ctx: CommandContext): string {
  return ctx.eventId ?? `${ctx.roomId}:${ctx.sender}:${ctx.sentAt.getTime()}`;
}

function positiveNumber(word: string | undefined): number | undefined {
  const m = word?.match(/^#?(\d{1,6})$/);
  return m && Number(m[1]) > 0 ? Number(m[1]) : undefined;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const STEP_HINT = "Use !handoff readback <n> …, !handoff answer <q> … and !handoff check <i>.";

/** What stands between the handoff and its sign-off, as next steps. */
function nextSteps(v: HandoffView): string {
  if (v.status === "completed") return `Handoff #${v.number} is complete.`;
  if (v.status === "cancelled") return `Handoff #${v.number} was cancelled.`;
  if (v.entries.length === 0) return "Next: present the first patient (!handoff add Patient/… or the widget).";
  const o = v.outstanding;
  const todo = [
    ...(o.missing_read_back.length ? [`read back patient${o.missing_read_back.length > 1 ? "s" : ""} ${o.missing_read_back.join(", ")} (!handoff readback <n> …)`] : []),
    ...(o.open_questions.length ? [`answer question${o.open_questions.length > 1 ? "s" : ""} ${o.open_questions.map((q) => `#${q}`).join(", ")} (!handoff answer <q> …)`] : []),
    ...(o.checklist.length ? [`tick ${plural(o.checklist.length, "checklist item")} (!handoff check <i>; !handoff status lists them)`] : []),
  ];
  if (todo.length) return `Before sign-off: ${todo.join("; ")}.`;
  const waiting = [v.outgoing, v.incoming].filter((u) => !v.signed_off_by.includes(u));
  return `Ready for sign-off: ${waiting.join(" and ")} (!handoff signoff).`;
}

/** The n-th patient of the handoff, or a plain refusal. */
function entry(v: HandoffView, word: string | undefined, usage: string): HandoffEntryView {
  const n = positiveNumber(word);
  if (n === undefined) throw new CommandError("missing patient number", `Which patient? Give their number from !handoff list, e.g. ${usage}.`);
  const e = v.entries.find((x) => x.number === n);
  if (!e) {
    throw new CommandError(
      "no such patient",
      v.entries.length ? `Handoff #${v.number} has no patient ${n}; its patients are ${v.entries.map((x) => x.number).join(", ")} (!handoff list).` : `Handoff #${v.number} has no patients yet.`,
    );
  }
  return e;
}

function openQuestions(v: HandoffView, entryId: string): number[] {
  return v.questions.filter((q) => q.entry_id === entryId && !q.answer_event_id).map((q) => q.number);
}

/** The user's open tasks in the order `!handoff tasks` numbers them: by due time (none last), then handoff. */
function sortedTasks(mine: MyHandoffsResponse): MyHandoffsResponse["tasks"] {
  return [...mine.tasks].sort((a, b) => (a.due_ts ?? Infinity) - (b.due_ts ?? Infinity) || a.handoff_number - b.handoff_number);
}

const RECORDERS = [
  { type: HandoffEventType.Item, method: "recordItem" },
  { type: HandoffEventType.ReadBack, method: "recordReadBack" },
  { type: HandoffEventType.Question, method: "recordQuestion" },
  { type: HandoffEventType.Answer, method: "recordAnswer" },
] as const;

/**
 * The handoff bot's commands, for clinicians without the widget, and the handlers for the
 * encrypted events the widget sends: thin translations onto HandoffActions.
 */
export function handoffCommands(handoffs: HandoffActions, rooms: RoomWriter, opts: { dashboardWidgetUrl: string }): BotCommands {
  const zoneOf = async (unit: string): Promise<string> => (await handoffs.listUnits()).find((u) => u.id === unit)?.timezone ?? "UTC";

  /** The clinician's own encrypted room with the handoff bot, with the dashboard pinned. */
  const handoffsRoom = (userId: string): Promise<string> => {
    const widget = { id: "rounds-handoffs", name: "Handoffs", url: opts.dashboardWidgetUrl, heightPercent: 60 };
    return rooms.openRoom(`handoffs:${userId}`, { name: "Handoffs", members: [userId], direct: true, initialState: rooms.widgetState(widget) });
  };

  const openDashboard = async (ctx: CommandContext): Promise<string> => {
    const roomId = await handoffsRoom(ctx.sender);
    return `Your Handoffs room is ready: https://matrix.to/#/${roomId}. The Handoffs widget pinned there starts handoffs and lists yours and your tasks.`;
  };

  const subcommands: SubCommand<HandoffView>[] = [
    {
      name: "start",
      args: "[unit] @incoming",
      summary: "start a handoff to the incoming clinician; its room opens with the widget pinned",
      async run(ctx, args) {
        const example = "e.g. !handoff start @bob:example.org, or !handoff start 4west @bob:example.org to name the unit";
        if (args.length === 0 || args.length > 2) throw new CommandError("bad start", `Name the incoming clinician by Matrix id, ${example}.`);
        // Either order: "start 4west @bob:x.org" or "start @bob:x.org 4west".
        const i = args.length === 2 && args[0]!.startsWith("@") && !args[1]!.startsWith("@") ? 0 : args.length - 1;
        const incoming = args[i]!;
        if (!matrixUserId.safeParse(incoming).success) {
          throw new CommandError("bad incoming user", `The incoming clinician must be a Matrix user id such as @bob:example.org (${example}).`);
        }
        const unit = args.length === 2 ? args[1 - i]!.toLowerCase() : undefined;
        const v = await handoffs.start({ actor: ctx.sender, incoming, unit, sourceRoomId: ctx.roomId }, ctx.eventId);
        const zone = await zoneOf(v.unit);
        return (
          `Handoff #${v.number} (${v.unit_name || v.unit}) started: ${v.outgoing} hands over to ${v.incoming}. Complete it by ${clock(v.deadline_ts, zone, ctx.sentAt)}.\n` +
          `The handoff room is open, with the handoff widget pinned: https://matrix.to/#/${v.room_id}. Present each patient there (the widget, or !handoff add), then both sign off.`
        );
      },
    },
    {
      name: "add",
      args: "<Patient/…|Encounter/…> [label, e.g. bed 4], then one section per line (S:, B:, A:, R: or Severity:, Summary:, Actions:, Awareness:; and Alert:, Med:, Task: <text> [@owner] [due HH:MM], If: <x> then <y>, Code:, Events:)",
      summary: "present a patient",
      inRoom: true,
      encrypted: { what: "added the patient" },
      async run(ctx, args, v) {
        const [first = "", ...rest] = messageLines(ctx, "add", args);
        const [, , ref, ...label] = first.trim().split(/\s+/);
        const hint = `!handoff add Patient/123 bed 4, then ${sectionHint(v.template)}`;
        if (!ref || !FHIR_CONTEXT_REFERENCE.test(ref)) {
          throw new CommandError("missing patient reference", `Start with the patient's FHIR reference (Patient/… or Encounter/…): ${hint}.`);
        }
        const labelText = label.join(" ");
        if (labelText.length > 100) throw new CommandError("label too long", "The label after the patient reference is too long (at most 100 characters); use a short one such as the bed.");
        const parsed = parseItemSections(rest, v.template, { now: ctx.sentAt, timezone: await zoneOf(v.unit), idSeed: txnKey(ctx), firstLine: 2 });
        if (parsed.errors.length) throw new CommandError("bad item sections", `I have not added the patient: ${parsed.errors.join("; ")}. Write ${hint}.`);
        const sections: ParsedItemSections & { patient_ref: string; label?: string } = { patient_ref: ref, ...(labelText ? { label: labelText } : {}), ...parsed.sections };
        const after = await handoffs.presentItem(v.id, ctx.sender, { sections }, txnKey(ctx));
        const added = after.entries.find((e) => !v.entries.some((b) => b.entry_id === e.entry_id)) ?? after.entries.at(-1);
        return `Patient ${added?.number ?? after.entries.length} added to handoff #${after.number} (${plural(after.entries.length, "patient")}). ${after.incoming} reads it back: !handoff readback ${added?.number ?? "<n>"} <summary in your own words>, or in the widget.`;
      },
    },
    {
      name: "edit",
      args: "<n>, then the sections to replace, one per line",
      summary: "change patient n",
      inRoom: true,
      encrypted: { what: "changed the patient" },
      async run(ctx, args, v) {
        const [first = "", ...rest] = messageLines(ctx, "edit", args);
        const e = entry(v, first.trim().split(/\s+/)[2], "!handoff edit 2, then R: … on a new line");
        const current = await handoffs.readItem(v.id, e.number);
        const parsed = parseItemSections(rest, v.template, { mode: "edit", current: current ?? undefined, now: ctx.sentAt, timezone: await zoneOf(v.unit), idSeed: txnKey(ctx), firstLine: 2 });
        if (parsed.errors.length) throw new CommandError("bad item sections", `I have not changed patient ${e.number}: ${parsed.errors.join("; ")}.`);
        if (Object.keys(parsed.sections).length === 0) {
          throw new CommandError("nothing to edit", `Nothing to change: after !handoff edit ${e.number}, write the sections to replace on new lines (${sectionHint(v.template)}).`);
        }
        const after = await handoffs.presentItem(v.id, ctx.sender, { entryNumber: e.number, sections: parsed.sections }, txnKey(ctx));
        const now = after.entries.find((x) => x.entry_id === e.entry_id);
        return `Patient ${now?.number ?? e.number} changed (version ${now?.version ?? e.version + 1}).${now && !now.read_back ? ` ${after.incoming} reads the new version back: !handoff readback ${now.number} <summary>.` : ""}`;
      },
    },
    {
      name: "remove",
      args: "<n>",
      summary: "take patient n off the list",
      inRoom: true,
      async run(ctx, args, v) {
        // A retry finds its patient gone from the list: it finishes the removal it made.
        const e = (await handoffs.removedBy(v.id, ctx.eventId)) ?? entry(v, args[0], "!handoff remove 3");
        const after = await handoffs.removeEntry(v.id, ctx.sender, e.entry_id, ctx.eventId);
        return `Patient ${e.number} is off handoff #${after.number}; ${plural(after.entries.length, "patient")} left, keeping their numbers (!handoff list). Any sign-offs so far are withdrawn.`;
      },
    },
    {
      name: "move",
      args: "<n> <position>",
      summary: "reorder the list",
      inRoom: true,
      async run(ctx, args, v) {
        const e = entry(v, args[0], "!handoff move 3 1");
        const to = positiveNumber(args[1]);
        if (to === undefined || to > v.entries.length) {
          throw new CommandError("bad position", `Say where patient ${e.number} goes: a position from 1 to ${v.entries.length}, e.g. !handoff move ${e.number} 1.`);
        }
        // The server lists entries in their handoff order; numbers stay with the patients.
        const order = v.entries.map((x) => x.entry_id);
        order.splice(order.indexOf(e.entry_id), 1);
        order.splice(to - 1, 0, e.entry_id);
        await handoffs.reorder(v.id, ctx.sender, order);
        return `Patient ${e.number} is now at position ${to} on the list (still patient ${e.number}); !handoff list shows the order.`;
      },
    },
    {
      name: "list",
      summary: "the patients, read-backs and open questions",
      inRoom: true,
      async run(ctx, _args, v) {
        const head = `Handoff #${v.number} (${v.unit_name || v.unit}, ${v.status}): ${v.outgoing} → ${v.incoming}.`;
        if (v.entries.length === 0) return `${head}\nNo patients yet. Present one with !handoff add Patient/… or in the widget.`;
        const lines = v.entries.map((e) => {
            const open = openQuestions(v, e.entry_id);
            return `${e.number}. ${e.read_back ? "✓ read back" : "✗ not read back"}${open.length ? `, open question${open.length > 1 ? "s" : ""} ${open.map((q) => `#${q}`).join(", ")}` : ""}`;
          });
        return `${head}\n${lines.join("\n")}\nSend !handoff show <n> for a patient's handoff. ${nextSteps(v)}`;
      },
    },
    {
      name: "show",
      args: "<n>",
      summary: "patient n's handoff in full",
      inRoom: true,
      encrypted: { what: "shown the patient (my reply would not be private)" },
      async run(ctx, args, v) {
        const e = entry(v, args[0], "!handoff show 2");
        const item = await handoffs.readItem(v.id, e.number, ctx.sender);
        if (!item) throw new CommandError("item unreadable", `I could not read patient ${e.number}'s handoff just now. Try again in a moment, or open it in the handoff widget.`);
        return itemText(item, {
          number: e.number,
          version: e.version,
          presentedBy: item.presented_by ?? e.presented_by,
          outgoing: v.outgoing,
          zone: await zoneOf(v.unit),
          now: ctx.sentAt,
          tracked: v.tasks,
          standing: { readBack: e.read_back, readbackBy: e.readback_by, readbackTs: e.readback_ts, openQuestions: openQuestions(v, e.entry_id) },
        });
      },
    },
    {
      name: "readback",
      args: "<n> <summary in your own words>",
      summary: "read back patient n",
      inRoom: true,
      encrypted: { what: "recorded the read-back" },
      async run(ctx, args, v) {
        const e = entry(v, args[0], "!handoff readback 2 <summary in your own words>");
        const summary = textAfter(ctx, args, 3);
        if (!summary) throw new CommandError("missing read-back", `Read patient ${e.number} back in your own words: !handoff readback ${e.number} <summary>.`);
        const after = await handoffs.readBack(v.id, ctx.sender, e.number, summary, txnKey(ctx));
        const done = after.entries.filter((x) => x.read_back).length;
        return `Patient ${e.number} read back (${done} of ${after.entries.length}). ${nextSteps(after)}`;
      },
    },
    {
      name: "question",
      args: "<n> <question>",
      summary: "ask about patient n",
      inRoom: true,
      encrypted: { what: "asked the question" },
      async run(ctx, args, v) {
        const e = entry(v, args[0], "!handoff question 2 <your question>");
        const text = textAfter(ctx, args, 3);
        if (!text) throw new CommandError("missing question", `Write the question after the patient number: !handoff question ${e.number} <your question>.`);
        const after = await handoffs.ask(v.id, ctx.sender, e.number, text, txnKey(ctx));
        const q = after.questions.find((x) => !v.questions.some((b) => b.number === x.number)) ?? after.questions.at(-1);
        const who = ctx.sender === after.outgoing ? after.incoming : after.outgoing;
        return `Question ${q ? `#${q.number} ` : ""}on patient ${e.number} asked. ${who} answers with !handoff answer ${q?.number ?? "<q>"} <answer>.`;
      },
    },
    {
      name: "answer",
      args: "<q> <answer>",
      summary: "answer question q",
      inRoom: true,
      encrypted: { what: "recorded the answer" },
      async run(ctx, args, v) {
        const q = positiveNumber(args[0]);
        if (q === undefined) throw new CommandError("missing question number", "Which question? Give its number, e.g. !handoff answer 1 <answer> (!handoff list shows the open ones).");
        const text = textAfter(ctx, args, 3);
        if (!text) throw new CommandError("missing answer", `Write the answer after the question number: !handoff answer ${q} <answer>.`);
        const after = await handoffs.answer(v.id, ctx.sender, q, text, txnKey(ctx));
        return `Question #${q} answered. ${nextSteps(after)}`;
      },
    },
    {
      name: "check",
      args: "<i>",
      summary: "tick checklist item i",
      inRoom: true,
      run: (ctx, args, v) => checklist(ctx, args, v, true),
    },
    {
      name: "uncheck",
      args: "<i>",
      summary: "untick checklist item i",
      inRoom: true,
      run: (ctx, args, v) => checklist(ctx, args, v, false),
    },
    {
      name: "status",
      summary: "what is done and what is left",
      inRoom: true,
      async run(ctx, _args, v) {
        const zone = await zoneOf(v.unit);
        const read = v.entries.filter((e) => e.read_back).length;
        const open = v.questions.filter((q) => !q.answer_event_id).length;
        const ticked = v.checklist.filter((c) => c.done).length;
        const o = v.outstanding;
        const lines = [
          `Handoff #${v.number} (${v.unit_name || v.unit}) is ${v.status}: ${v.outgoing} hands over to ${v.incoming}.`,
          `Patients: ${v.entries.length}, read back ${read} of ${v.entries.length}. Questions: ${open} open of ${v.questions.length}. Checklist: ${ticked} of ${v.checklist.length} ticked.`,
          `Signed off: ${v.signed_off_by.length ? v.signed_off_by.join(", ") : "nobody yet"}.`,
        ];
        if (v.status !== "completed" && v.status !== "cancelled") {
          lines.push(`Deadline: ${clock(v.deadline_ts, zone, ctx.sentAt)}${v.overdue ? " — overdue" : ""}${v.escalated_to.length ? `; the charge role was told (${v.escalated_to.join(", ")})` : ""}.`);
          const left = [
            ...(o.missing_read_back.length ? [`patient${o.missing_read_back.length > 1 ? "s" : ""} ${o.missing_read_back.join(", ")} not read back`] : []),
            ...(o.open_questions.length ? [`question${o.open_questions.length > 1 ? "s" : ""} ${o.open_questions.map((q) => `#${q}`).join(", ")} not answered`] : []),
            ...o.checklist.map((label) => `checklist item ${v.checklist.findIndex((c) => c.label === label) + 1} "${label}" not ticked`),
          ];
          // What is left, with the checklist named; else who still signs off.
          lines.push(left.length ? `Still to do: ${left.join("; ")}. ${STEP_HINT}` : nextSteps(v));
        } else lines.push(nextSteps(v));
        return lines.join("\n");
      },
    },
    {
      name: "signoff",
      args: "[override <reason>]",
      summary: "sign off; with override and a reason, sign off with items outstanding",
      inRoom: true,
      encrypted: { what: "signed off", when: (args) => args[0]?.toLowerCase() === "override" && args.length > 1 },
      async run(ctx, args, v) {
        let override: { reason: string; txnKey: string } | undefined;
        if (args[0]?.toLowerCase() === "override") {
          const reason = textAfter(ctx, args, 3);
          if (!reason) throw new CommandError("missing override reason", "Say why you sign off with items outstanding: !handoff signoff override <reason>.");
          override = { reason, txnKey: txnKey(ctx) };
        } else if (args.length) {
          throw new CommandError("bad signoff", "Send !handoff signoff, or !handoff signoff override <reason> to sign off with items outstanding.");
        }
        const after = await handoffs.signOff(v.id, ctx.sender, override, ctx.eventId);
        if (after.status === "completed") return `Handoff #${after.number} is complete: both of you signed off${after.overridden ? " (with an override)" : ""}.`;
        const waiting = [after.outgoing, after.incoming].filter((u) => !after.signed_off_by.includes(u));
        // With nothing outstanding the service records a plain sign-off, whatever was asked.
        const overrode = after.sign_offs.some((x) => x.user_id === ctx.sender && x.override_event_id);
        return `You signed off handoff #${after.number}${overrode ? " with an override" : ""}. Waiting for ${waiting.join(" and ") || "the other clinician"} to sign off (!handoff signoff).`;
      },
    },
    {
      name: "cancel",
      args: "[reason]",
      summary: "cancel the handoff",
      inRoom: true,
      encrypted: { what: "cancelled the handoff", when: (args) => args.length > 0 },
      async run(ctx, args, v) {
        const reason = textAfter(ctx, args, 2);
        const after = await handoffs.cancel(v.id, ctx.sender, reason ? { reason, txnKey: txnKey(ctx) } : undefined, ctx.eventId);
        return `Handoff #${after.number} is cancelled.`;
      },
    },
    {
      name: "incident",
      args: `<n> <${INCIDENT_CATEGORIES.join("|")}> [what happened]`,
      summary: "report a handoff problem with patient n",
      inRoom: true,
      encrypted: { what: "reported the incident", when: (args) => args.length > 2 },
      async run(ctx, args, v) {
        const e = entry(v, args[0], `!handoff incident 2 omission <what happened>`);
        const category = args[1]?.toLowerCase().replace(/-/g, "_");
        if (!category || !(INCIDENT_CATEGORIES as readonly string[]).includes(category)) {
          throw new CommandError("bad incident category", `Name the kind of problem, one of: ${INCIDENT_CATEGORIES.join(", ")}. For example: !handoff incident ${e.number} omission <what happened>.`);
        }
        const description = textAfter(ctx, args, 4);
        const done = await handoffs.reportIncident(v.id, ctx.sender, {
            entryId: e.entry_id,
            category: category as IncidentCategory,
            requestKey: txnKey(ctx),
            ...(description ? { note: { description, txnKey: txnKey(ctx) } } : {}),
          });
        return `Thank you: incident ${done.incident} (${category.replace(/_/g, " ")}) recorded for patient ${e.number} of handoff #${done.handoff.number}.`;
      },
    },
    {
      name: "tasks",
      summary: "your open handoff tasks",
      async run(ctx) {
        const mine = await handoffs.forUser(ctx.sender);
        const tasks = sortedTasks(mine);
        if (tasks.length === 0) return "You have no open handoff tasks.";
        const handoffsById = new Map([...mine.active, ...mine.recent].map((h) => [h.id, h]));
        const zones = new Map((await handoffs.listUnits()).map((u) => [u.id, u.timezone]));
        const lines: string[] = [];
        // Task texts are clinical: shown only in the clinician's own Handoffs room, or in the task's
        // own handoff room, never in a shared ward room, and never unencrypted.
        const own = ctx.encrypted ? await handoffsRoom(ctx.sender) : null;
        let withheld = false;
        for (const [i, t] of tasks.entries()) {
          const h = handoffsById.get(t.handoff_id);
          const zone = (h && zones.get(h.unit)) ?? "UTC";
          const patient = h?.entries.find((e) => e.entry_id === t.entry_id)?.number;
          const private_ = ctx.encrypted && (ctx.roomId === own || ctx.roomId === t.room_id);
          withheld ||= !private_;
          const text = private_ ? await handoffs.taskText(t.handoff_id, t.task_id) : null;
          const what = private_ ? (text === null ? " — (I could not read its text; it is in the handoff room)" : ` — ${indent(text, "     ")}`) : "";
          lines.push(`${i + 1}. Handoff #${t.handoff_number}${patient ? `, patient ${patient}` : ""}, ${t.due_ts ? `due ${clock(t.due_ts, zone, ctx.sentAt)}` : "no due time"}${what}`);
        }
        const footer = !withheld
          ? "Mark one done with !handoff done <n>."
          : !ctx.encrypted
            ? "I left out the task texts: this room is not end-to-end encrypted. Send !handoff tasks in your Handoffs room (send !handoff) to see them. Mark one done with !handoff done <n>."
            : `I left out the task texts here, as others may read this room. Send !handoff tasks in your Handoffs room to see them: https://matrix.to/#/${own}. Mark one done with !handoff done <n>.`;
        return `Your open handoff tasks:\n${lines.join("\n")}\n${footer}`;
      },
    },
    {
      name: "done",
      args: "<n>",
      summary: "mark task n of that list done",
      async run(ctx, args) {
        const n = positiveNumber(args[0]);
        if (n === undefined) throw new CommandError("missing task number", "Which task? Give its number from !handoff tasks, e.g. !handoff done 1.");
        // A retry first takes the task its first attempt marked done: the list has shifted since, and
        // task n is now another one.
        const t = (await handoffs.taskDoneBy(ctx.sender, ctx.eventId)) ?? (await nthOpenTask(ctx.sender, n));
        await handoffs.completeTask(t.handoff_id, ctx.sender, t.task_id, ctx.eventId);
        return `Task ${n} (handoff #${t.handoff_number}) is done. Send !handoff tasks for the ones left.`;
      },
    },
  ];

  async function nthOpenTask(userId: string, n: number): Promise<{ handoff_id: string; handoff_number: number; task_id: string }> {
    const tasks = sortedTasks(await handoffs.forUser(userId));
    const t = tasks[n - 1];
    if (!t) {
      throw new CommandError("no such task", tasks.length ? `You have ${plural(tasks.length, "open task")}; send !handoff tasks to see their numbers.` : "You have no open handoff tasks.");
    }
    return t;
  }

  async function checklist(ctx: CommandContext, args: string[], v: HandoffView, done: boolean): Promise<string> {
    if (v.checklist.length === 0) return `Handoff #${v.number} has no checklist.`;
    const i = positiveNumber(args[0]);
    const items = v.checklist.map((c, k) => `${k + 1}. ${c.done ? "☑" : "☐"} ${c.label}`).join("\n");
    if (i === undefined || i > v.checklist.length) {
      throw new CommandError("bad checklist item", `Give the number of a checklist item, e.g. !handoff ${done ? "check" : "uncheck"} 1. The checklist:\n${items}`);
    }
    const after = await handoffs.setChecklist(v.id, ctx.sender, i - 1, done);
    const ticked = after.checklist.filter((c) => c.done).length;
    return `${done ? "☑ Ticked" : "☐ Unticked"} "${after.checklist[i - 1]?.label ?? v.checklist[i - 1]!.label}" (${ticked} of ${after.checklist.length} done). ${nextSteps(after)}`;
  }

  const handoff: Command = {
    verb: "handoff",
    // A presented patient or a read-back must not be lost to a passing failure: the inbox retries
    // the whole event, and each step is keyed by the command's event id, so it happens once.
    retryOnError: true,
    subcommands: {
      title: "Shift handoffs (SBAR or I-PASS)",
      bare: { summary: "open your Handoffs room, with the handoff widget pinned", run: openDashboard },
      room: {
        name: "the handoff room",
        lookup: (ctx) => handoffs.inRoom(ctx.roomId),
        refusal: "Send this in the handoff room (the room with the handoff widget pinned). To begin a handoff, send !handoff start @incoming (the incoming clinician's Matrix id).",
      },
      privateHint: "Use the handoff room (Rounds opens it encrypted) or the handoff widget.",
      unknownHint: "Send !handoff help to see how to use them.",
      commands: subcommands,
    },
  };

  // The widget's encrypted events: the same path as its API calls, so a closed widget loses nothing.
  // Recording is idempotent (a duplicate is quiet); the widget shows the result, so no reply, unless refused.
  const eventHandlers: EventHandler[] = RECORDERS.map(({ type, method }) => ({
    type,
    async handle(ctx, content) {
      if (!ctx.eventId) return null;
      const event: SentEvent = { roomId: ctx.roomId, eventId: ctx.eventId, type, sender: ctx.sender, content, encrypted: !!ctx.encrypted };
      await handoffs[method](ctx.sender, event);
      return null;
    },
  }));

  return { commands: [handoff], eventHandlers };
}
