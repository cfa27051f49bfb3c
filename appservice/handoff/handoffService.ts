import type { HandoffActions } from "./handoffActions.js";
import type { HandoffDeps } from "./handoffDeps.js";
import { HandoffItems } from "./handoffItems.js";
import { HandoffLifecycle } from "./handoffLifecycle.js";
import { HandoffReadBacks } from "./handoffReadBacks.js";
import { HandoffReadSide } from "./handoffReadSide.js";
import { HandoffReportAssembly } from "./handoffReportAssembly.js";
import { HandoffShiftChange } from "./handoffShiftChange.js";
import { HandoffSignOff } from "./handoffSignOff.js";
import { HandoffSteps } from "./handoffSteps.js";
import { HandoffTasks } from "./handoffTasks.js";
import { HandoffUnits } from "./handoffUnits.js";

export { HandoffError } from "./handoffErrors.js";
export { TIMER_HANDOFF_DEADLINE, TIMER_HANDOFF_ESCALATE, TIMER_HANDOFF_REPORT, TIMER_HANDOFF_SETTLE, TIMER_HANDOFF_TASK, type HandoffDeps, type HandoffDirectory, type HandoffOptions } from "./handoffDeps.js";
export { lastOccurrence } from "./handoffShiftChange.js";

/**
 * The handoff domain service. Every step of a shift handoff (start, items, read-backs, questions,
 * checklist, sign-off, deadlines, report) goes through here, whatever the adapter. Transitions are
 * guarded in the database and serialised per handoff in process; the state event is rewritten from
 * the rows after each one. Clinical content stays in encrypted room events: the rows hold their ids.
 *
 * This class only composes the parts, which share one read side and one set of steps (and so one
 * lock per handoff); each method is answered by the part named beside it.
 */
export class HandoffService implements HandoffActions {
  private readonly units: HandoffUnits;
  private readonly read: HandoffReadSide;
  private readonly life: HandoffLifecycle;
  private readonly items: HandoffItems;
  private readonly readBacks: HandoffReadBacks;
  private readonly signOffs: HandoffSignOff;
  private readonly tasks: HandoffTasks;
  private readonly report: HandoffReportAssembly;
  private readonly shifts: HandoffShiftChange;

  constructor(deps: HandoffDeps) {
    const now = deps.now ?? (() => new Date());
    this.units = new HandoffUnits(deps, now);
    this.read = new HandoffReadSide(deps, this.units);
    const steps = new HandoffSteps(deps, this.read, now);
    this.life = new HandoffLifecycle(steps, this.units);
    this.items = new HandoffItems(steps, this.life, this.units);
    this.readBacks = new HandoffReadBacks(steps, this.life);
    this.signOffs = new HandoffSignOff(steps, this.life, this.units);
    this.tasks = new HandoffTasks(steps);
    this.report = new HandoffReportAssembly(steps, this.units);
    this.shifts = new HandoffShiftChange(deps, this.life, now);
  }

  // Units
  readonly saveUnit: HandoffUnits["saveUnit"] = (...a) => this.units.saveUnit(...a);
  readonly listUnits: HandoffUnits["listUnits"] = () => this.units.listUnits();
  readonly peopleNear: HandoffUnits["peopleNear"] = (...a) => this.units.peopleNear(...a);

  // Reading
  readonly get: HandoffReadSide["get"] = (...a) => this.read.get(...a);
  readonly inRoom: HandoffReadSide["inRoom"] = (...a) => this.read.inRoom(...a);
  readonly readItem: HandoffReadSide["readItem"] = (...a) => this.read.readItem(...a);
  readonly byNumber: HandoffReadSide["byNumber"] = (...a) => this.read.byNumber(...a);
  readonly audit: HandoffReadSide["audit"] = (...a) => this.read.audit(...a);
  readonly quality: HandoffReadSide["quality"] = (...a) => this.read.quality(...a);
  readonly forUser: HandoffReadSide["forUser"] = (...a) => this.read.forUser(...a);

  // Lifecycle and its timers
  readonly start: HandoffLifecycle["start"] = (...a) => this.life.start(...a);
  readonly cancel: HandoffLifecycle["cancel"] = (...a) => this.life.cancel(...a);
  readonly onDeadline: HandoffLifecycle["onDeadline"] = (...a) => this.life.onDeadline(...a);
  readonly onEscalate: HandoffLifecycle["onEscalate"] = (...a) => this.life.onEscalate(...a);
  readonly onSettle: HandoffLifecycle["onSettle"] = (...a) => this.life.onSettle(...a);

  // The outgoing clinician's list
  readonly recordItem: HandoffItems["recordItem"] = (...a) => this.items.recordItem(...a);
  readonly presentItem: HandoffItems["presentItem"] = (...a) => this.items.presentItem(...a);
  readonly removeEntry: HandoffItems["removeEntry"] = (...a) => this.items.removeEntry(...a);
  readonly removedBy: HandoffItems["removedBy"] = (...a) => this.items.removedBy(...a);
  readonly reorder: HandoffItems["reorder"] = (...a) => this.items.reorder(...a);

  // Read-backs, questions and answers
  readonly recordReadBack: HandoffReadBacks["recordReadBack"] = (...a) => this.readBacks.recordReadBack(...a);
  readonly readBack: HandoffReadBacks["readBack"] = (...a) => this.readBacks.readBack(...a);
  readonly recordQuestion: HandoffReadBacks["recordQuestion"] = (...a) => this.readBacks.recordQuestion(...a);
  readonly ask: HandoffReadBacks["ask"] = (...a) => this.readBacks.ask(...a);
  readonly recordAnswer: HandoffReadBacks["recordAnswer"] = (...a) => this.readBacks.recordAnswer(...a);
  readonly answer: HandoffReadBacks["answer"] = (...a) => this.readBacks.answer(...a);

  // Checklist, sign-off, incidents
  readonly setChecklist: HandoffSignOff["setChecklist"] = (...a) => this.signOffs.setChecklist(...a);
  readonly signOff: HandoffSignOff["signOff"] = (...a) => this.signOffs.signOff(...a);
  readonly reportIncident: HandoffSignOff["reportIncident"] = (...a) => this.signOffs.reportIncident(...a);

  // Tasks
  readonly completeTask: HandoffTasks["completeTask"] = (...a) => this.tasks.completeTask(...a);
  readonly taskDoneBy: HandoffTasks["taskDoneBy"] = (...a) => this.tasks.taskDoneBy(...a);
  readonly taskText: HandoffTasks["taskText"] = (...a) => this.tasks.taskText(...a);
  readonly onTaskDue: HandoffTasks["onTaskDue"] = (...a) => this.tasks.onTaskDue(...a);

  // The report, and scheduled handoffs
  readonly onReport: HandoffReportAssembly["onReport"] = (...a) => this.report.onReport(...a);
  readonly checkShiftChanges: HandoffShiftChange["checkShiftChanges"] = (...a) => this.shifts.checkShiftChanges(...a);
  readonly onShiftChange: HandoffShiftChange["onShiftChange"] = (...a) => this.shifts.onShiftChange(...a);
}
