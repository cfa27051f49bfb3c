/**
 * What Element tells a widget through its URL. The bot installs
 * `…/<widget>/index.html?roomId=$matrix_room_id&userId=$matrix_user_id&theme=$org.matrix.msc2873.client_theme`
 * and Element substitutes the variables and appends `widgetId` and `parentUrl`.
 */
export type Theme = "light" | "dark" | "light-high-contrast" | "dark-high-contrast";

export interface WidgetParams {
  widgetId: string;
  /** Only messages from this origin are trusted; it is the Element that embeds us. */
  parentOrigin: string;
  roomId: string;
  /** Element's claim only: the viewer is who the OpenID exchange says. */
  userId: string | null;
  theme: Theme;
}

/**
 * Element theme names are "light", "dark", "light-high-contrast" or custom ones like
 * "custom-Night (dark)"; a name that says neither dark nor high contrast is shown light.
 */
export function themeFrom(name: string | null | undefined): Theme {
  const base = name && /dark/i.test(name) ? "dark" : "light";
  return name && /high[-_ ]?contrast/i.test(name) ? `${base}-high-contrast` : base;
}

/** The widget's parameters, or null when the page was not opened by Element inside a room. */
export function readWidgetParams(href: string, framed: boolean): WidgetParams | null {
  const query = new URL(href).searchParams;
  const widgetId = query.get("widgetId");
  const parentUrl = query.get("parentUrl");
  const roomId = query.get("roomId");
  // An unsubstituted "$matrix_room_id" means something other than Element opened the URL.
  if (!framed || !widgetId || !parentUrl || !roomId?.startsWith("!")) return null;
  let parentOrigin: string;
  try {
    parentOrigin = new URL(parentUrl).origin;
  } catch {
    return null;
  }
  const userId = query.get("userId");
  return { widgetId, parentOrigin, roomId, userId: userId?.startsWith("@") ? userId : null, theme: themeFrom(query.get("theme")) };
}
