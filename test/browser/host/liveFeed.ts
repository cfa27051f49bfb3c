// Feeds the clinician's sync into the host page the way Element feeds its widgets: every new
// event once decrypted, every state change, and the rooms the user is in. ClientWidgetApi itself
// drops what the widget has no capability for.
import { ClientEvent, KnownMembership, MatrixEventEvent, RoomStateEvent, type MatrixClient, type MatrixEvent } from "matrix-js-sdk";
import type { IRoomEvent } from "matrix-widget-api";
import type { HostUpdate } from "./protocol.js";

export function knownRooms(client: MatrixClient): string[] {
  const member: string[] = [KnownMembership.Join, KnownMembership.Invite];
  return client
    .getRooms()
    .filter((r) => member.includes(r.getMyMembership()))
    .map((r) => r.roomId);
}

/** Starts feeding; returns the function that stops it. */
export function startLiveFeed(client: MatrixClient, push: (update: HostUpdate) => void): () => void {
  // Per room, the newest event the widget has been given or could already have seen. Events at or
  // before it (initial sync, backfill) are not fed: the widget reads those if it wants them.
  const readUpTo = new Map<string, string>();
  for (const room of client.getRooms()) {
    const last = room.getLiveTimeline().getEvents().at(-1)?.getId();
    if (last) readUpTo.set(room.roomId, last);
  }
  // Events to feed once their decryption succeeds (keys can arrive after the event).
  const awaitingKeys = new WeakSet<MatrixEvent>();

  const isNew = (ev: MatrixEvent): boolean => {
    const roomId = ev.getRoomId();
    const id = ev.getId();
    const room = roomId ? client.getRoom(roomId) : null;
    if (!roomId || !id || !room) return false;
    const upTo = readUpTo.get(roomId);
    if (upTo === id) return false;
    if (upTo !== undefined) {
      // Newest first: the event must come before the marker does (as Element, within 100 events).
      const recent = room.getLiveTimeline().getEvents().slice(-100).reverse();
      const at = recent.findIndex((e) => e.getId() === id);
      const marker = recent.findIndex((e) => e.getId() === upTo);
      if (at === -1 || (marker !== -1 && marker < at)) return false;
    }
    readUpTo.set(roomId, id);
    return true;
  };

  const feed = (ev: MatrixEvent): void => {
    if (!awaitingKeys.has(ev) && !isNew(ev)) return;
    if (ev.isBeingDecrypted() || ev.isDecryptionFailure()) {
      awaitingKeys.add(ev);
      return;
    }
    awaitingKeys.delete(ev);
    push({ kind: "event", event: ev.getEffectiveEvent() as IRoomEvent });
  };

  const onEvent = (ev: MatrixEvent): void => {
    // Starts decryption now, so `feed` sees it in progress rather than the ciphertext.
    void client.decryptEventIfNeeded(ev);
    feed(ev);
  };
  const onDecrypted = (ev: MatrixEvent): void => {
    if (awaitingKeys.has(ev)) feed(ev);
  };
  const onState = (ev: MatrixEvent): void => push({ kind: "state", event: ev.getEffectiveEvent() as IRoomEvent });
  const onRooms = (): void => push({ kind: "knownRooms", roomIds: knownRooms(client) });

  client.on(ClientEvent.Event, onEvent);
  client.on(MatrixEventEvent.Decrypted, onDecrypted);
  client.on(RoomStateEvent.Events, onState);
  client.on(ClientEvent.Room, onRooms);
  client.on(ClientEvent.DeleteRoom, onRooms);
  return () => {
    client.off(ClientEvent.Event, onEvent);
    client.off(MatrixEventEvent.Decrypted, onDecrypted);
    client.off(RoomStateEvent.Events, onState);
    client.off(ClientEvent.Room, onRooms);
    client.off(ClientEvent.DeleteRoom, onRooms);
  };
}
