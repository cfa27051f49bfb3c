import type { IRoomEvent } from "matrix-widget-api";

/**
 * The room data a widget has seen: current state by (type, state_key) and timeline events by id,
 * for its own room only. Components read it through selectors; the widget session fills it.
 */
export class RoomFeed {
  private readonly state = new Map<string, IRoomEvent>();
  private readonly events = new Map<string, IRoomEvent>();
  private readonly listeners = new Set<() => void>();
  /** Counts the changes, so a reader can tell it missed one (see useFeedVersion). */
  private changes = 0;

  constructor(readonly roomId: string) {}

  get version(): number {
    return this.changes;
  }

  addState(events: readonly IRoomEvent[]): void {
    let changed = false;
    for (const ev of events) {
      if (ev.room_id !== this.roomId || ev.state_key === undefined) continue;
      this.state.set(`${ev.type}\u0000${ev.state_key}`, ev);
      changed = true;
    }
    if (changed) this.notify();
  }

  addEvents(events: readonly IRoomEvent[]): void {
    let changed = false;
    for (const ev of events) {
      if (ev.room_id !== this.roomId || ev.state_key !== undefined || this.events.has(ev.event_id)) continue;
      this.events.set(ev.event_id, ev);
      changed = true;
    }
    if (changed) this.notify();
  }

  /** Current state events of a type; content `{}` means removed and is left out. */
  stateOf(type: string): IRoomEvent[] {
    return [...this.state.values()].filter((ev) => ev.type === type && Object.keys(ev.content).length > 0);
  }

  /** Timeline events of a type, oldest first. */
  eventsOf(type: string): IRoomEvent[] {
    return [...this.events.values()].filter((ev) => ev.type === type).sort((a, b) => a.origin_server_ts - b.origin_server_ts);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    this.changes++;
    for (const listener of this.listeners) listener();
  }
}
