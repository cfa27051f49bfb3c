import { DateTime } from "luxon";
import type { RoomWidget } from "../ports/roomWriter.js";
import { quote } from "../shared/quote.js";
import type { HandoffDeps } from "./handoffDeps.js";
import { peopleNear } from "./handoffShiftChange.js";
import { HandoffError } from "./handoffErrors.js";
import type { Handoff } from "./handoffStore.js";
import { HandoffUnitSchema, type HandoffUnit } from "./handoffUnitSchema.js";

/** The units handoffs happen on: their settings, and which unit a handoff or a command belongs to. */
export class HandoffUnits {
  constructor(
    private readonly deps: HandoffDeps,
    private readonly now: () => Date,
  ) {}

  async saveUnit(input: unknown): Promise<HandoffUnit> {
    const parsed = HandoffUnitSchema.safeParse(input);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new HandoffError("invalid_input", `${i.path.join(".") || "unit"}: ${i.message}`);
    }
    const unit = parsed.data;
    if (!isValidZone(unit.timezone)) throw new HandoffError("invalid_input", `timezone: "${quote(unit.timezone)}" is not a time zone such as Europe/London`);
    for (const svc of [unit.roster?.service, unit.charge?.service].filter((s): s is string => !!s)) {
      await this.deps.oncall.whoIsOnCall(svc, this.now()).catch(() => {
        throw new HandoffError("invalid_input", `There is no on-call service "${quote(svc)}". Import the schedule first, or name users for the charge role.`);
      });
    }
    await this.deps.store.saveUnit(unit, this.now());
    if (unit.room_id) {
      // The unit room gets the dashboard widget when the bot may pin it; otherwise it is added by hand.
      await this.deps.rooms.installWidget(unit.room_id, this.unitWidget(unit)).catch((err: unknown) =>
        this.deps.log.warn({ unit: unit.id, err: (err as Error).message }, "handoff: could not pin the widget in the unit room (the bot needs to be invited, with power to change widgets)"),
      );
    }
    return unit;
  }

  listUnits(): Promise<HandoffUnit[]> {
    return this.deps.store.units();
  }

  /** The people a handoff on the unit is most likely to, for the widget's picker (see peopleNear). */
  async peopleNear(unitId: string, viewer: string): Promise<string[]> {
    const unit = await this.deps.store.unit(unitId.toLowerCase());
    if (!unit) throw await this.unknownUnit(unitId);
    return peopleNear(this.deps, unit, viewer, this.now());
  }

  /** The unit a command names, else the unit of the room it came from, else the only unit there is. */
  async findUnit(query: string | undefined, sourceRoomId: string): Promise<HandoffUnit> {
    if (query) {
      const unit = await this.deps.store.unit(query.toLowerCase());
      if (!unit) throw await this.unknownUnit(query);
      return unit;
    }
    const ofRoom = await this.deps.store.unitOfRoom(sourceRoomId);
    if (ofRoom) return ofRoom;
    const units = await this.deps.store.units();
    if (units.length === 1) return units[0]!;
    throw await this.unknownUnit(null);
  }

  async unknownUnit(query: string | null): Promise<HandoffError> {
    const units = await this.deps.store.units();
    const known = units.map((u) => `${u.name} (${u.id})`).join(", ");
    if (!units.length) return new HandoffError("unknown_unit", "No units are set up for handoffs yet. Ask your Rounds administrator to add your unit.");
    return new HandoffError("unknown_unit", query ? `There is no unit "${quote(query)}". Units: ${known}.` : `Name the unit, e.g. !handoff start ${units[0]!.id} @incoming. Units: ${known}.`);
  }

  async unitOf(h: Handoff): Promise<HandoffUnit> {
    // A unit deleted or renamed since keeps its handoffs readable.
    return (await this.deps.store.unit(h.unitId)) ?? HandoffUnitSchema.parse({ id: h.unitId, name: h.unitId });
  }

  private unitWidget(unit: HandoffUnit): RoomWidget {
    return { id: "rounds-handoffs", name: `Handoffs · ${unit.name}`, url: this.deps.options.unitWidgetUrl, data: { unit: unit.id }, heightPercent: 40 };
  }
}

function isValidZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}
