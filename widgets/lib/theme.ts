import type { Theme } from "./widgetParams.js";

/** Element's Compound tokens define each theme's palette under one class on <html> (lib/tokens.css). */
export const TOKEN_CLASS: Record<Theme, string> = {
  light: "cpd-theme-light",
  dark: "cpd-theme-dark",
  "light-high-contrast": "cpd-theme-light-hc",
  "dark-high-contrast": "cpd-theme-dark-hc",
};

/** Shows the page in Element's theme; called at start-up and on each of Element's theme changes. */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  root.classList.remove(...Object.values(TOKEN_CLASS));
  root.classList.add(TOKEN_CLASS[theme]);
  root.dataset.theme = theme;
}
