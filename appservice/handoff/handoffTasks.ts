import type { Db } from "../db/connect.js";
import type { HandoffItemContent } from "../shared/events/index.js";
import type { HandoffView } from "../shared/handoffApi.js";
import type { TimerRow, TimerStore } from "../timers/timerStore.js";
import { TIMER_HANDOFF_TASK } from "./handoffDeps.js";
import { HandoffError } from "./handoffErrors.js";
import { taskDueElsewhere, taskDueInRoom } from "./handoffMessages.js";
import { effectKey, HandoffPart, splitEffectKey } from "./handoffSteps.js";

/** The tasks an item hands over: marked done by their owner, and their owner reminded when one falls due. */
export class HandoffTasks extends HandoffPart {

  async completeTask(handoffId: string, actor: string, taskId: string, requestId?: string): Promise<HandoffView> {
    const { store } = this.deps;
    const { effects } = this.steps;
    const h = await this.read.load(handoffId);
    const task = await store.task(h.id, taskId);
    if (!task || task.status === "removed") throw new HandoffError("not_found", "There is no such task. Send !handoff tasks to list yours.");
    if (task.owner !== actor) throw new HandoffError("forbidden", `That task belongs to ${task.owner}; only they can mark it done.`);
    const key = effectKey(h.id, taskId);
    // This request's own completion, retried: nothing is left to do but answer.
    if (task.status === "done" && (await effects.made(requestId, key, "task_done"))) return this.read.view(h);
    if (task.status === "done") throw new HandoffError("invalid_transition", "That task is already done.");
    const at = this.steps.now();
    const done = await store.db.transaction(async (trx) => {
      if (!(await store.completeTask(h.id, taskId, actor, at, trx))) return false;
      await store.audit(h.id, "task_done", actor, at, { task_id: taskId }, trx);
      await effects.record(requestId, key, "task_done", trx);
      return true;
    });
    if (!done) throw new HandoffError("invalid_transition", "That task changed at the same moment. Send !handoff tasks to see where it stands.");
    return this.read.view((await store.get(h.id))!);
  }

  async taskDoneBy(actor: string, requestId: string | undefined): Promise<{ handoff_id: string; handoff_number: number; task_id: string } | null> {
    const key = await this.steps.effects.objectOf(requestId, "task_done");
    const [handoffId, taskId] = key ? splitEffectKey(key) : [];
    if (!handoffId || !taskId) return null;
    const task = await this.deps.store.task(handoffId, taskId);
    const h = await this.deps.store.get(handoffId);
    return task && h && task.owner === actor ? { handoff_id: h.id, handoff_number: h.number, task_id: taskId } : null;
  }

  async taskText(handoffId: string, taskId: string): Promise<string | null> {
    const h = await this.read.load(handoffId);
    const task = await this.deps.store.task(h.id, taskId);
    if (!task) return null;
    const item = await this.read.itemContent(h, task.itemEventId);
    return item?.tasks.find((t) => t.id === taskId)?.text ?? null;
  }

  /** A pending task fell due: its owner is reminded in the handoff room. */
  async onTaskDue(timer: TimerRow): Promise<void> {
    const { store } = this.deps;
    const [taskId, due] = timer.step.split("@");
    const h = await store.get(timer.ref);
    const task = h && taskId ? await store.task(h.id, taskId) : null;
    if (!h?.roomId || !task || task.status !== "open" || task.dueAt?.getTime() !== Number(due)) return;
    if (task.owner !== h.outgoing && task.owner !== h.incoming) {
      // Someone outside the handoff room (pharmacy, say): a direct message with a link, no clinical text.
      const entry = await store.entry(h.id, task.entryId);
      await this.deps.notifier.tellUser(task.owner, taskDueElsewhere(h.number, entry?.number, h.incoming), `handoff-task:${h.id}:${timer.step}`);
      return;
    }
    const text = await this.taskText(h.id, task.taskId);
    await this.deps.rooms.send(h.roomId, { body: taskDueInRoom(task.owner, text), mentions: [task.owner] }, `handoff-task:${h.id}:${timer.step}`);
  }
}

/** One timer per task with a due time; the step names the time too, so a changed due time arms a new one. */
export async function armTaskTimers(timers: TimerStore, handoffId: string, content: HandoffItemContent, trx: Db): Promise<void> {
  for (const t of content.tasks) {
    if (t.due_ts) await timers.schedule(TIMER_HANDOFF_TASK, handoffId, `${t.id}@${t.due_ts}`, new Date(t.due_ts), trx);
  }
}
