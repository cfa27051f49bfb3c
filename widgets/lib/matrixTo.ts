/**
 * A link that opens a room in the user's Matrix client (Element opens it in place). Room ids are
 * `!opaque:server`, which matrix.to reads as is.
 */
export function roomLink(roomId: string): string {
  return `https://matrix.to/#/${roomId}`;
}
