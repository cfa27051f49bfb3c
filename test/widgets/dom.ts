import { Window } from "happy-dom";
import { render, type ComponentChild } from "preact";
import { act } from "preact/test-utils";

/**
 * A happy-dom window registered as the globals Preact and the widgets use, plus the few queries
 * the tests need: fields by their label and buttons by their visible name, as a browser test would.
 */
const GLOBALS = ["window", "document", "HTMLElement", "Element", "Node", "Text", "Event", "CustomEvent"] as const;

let current: Window | null = null;

/** Moves the page to another URL, as Element opening the widget with its query string would. */
export function setUrl(url: string): void {
  current!.happyDOM.setURL(url);
}

export function installDom(url = "https://rounds.example/_rounds/widgets/consult-room/index.html"): () => Promise<void> {
  const window = new Window({ url });
  current = window;
  const g = globalThis as Record<string, unknown>;
  const saved = GLOBALS.map((k) => [k, Object.getOwnPropertyDescriptor(g, k)] as const);
  for (const k of GLOBALS) Object.defineProperty(g, k, { value: window[k as keyof Window], configurable: true, writable: true });
  return async () => {
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(g, k, d);
      else delete g[k];
    }
    await window.happyDOM.abort();
    await window.happyDOM.close();
  };
}

/** The DOM for a describe block; whatever a test mounted is unmounted after it. */
export function useDom(url?: string): void {
  let restore: () => Promise<void>;
  before(() => (restore = installDom(url)));
  afterEach(async () => {
    for (const container of mounted.splice(0)) await unmount(container);
  });
  after(() => restore());
}

const mounted: HTMLElement[] = [];

export async function mount(vnode: ComponentChild): Promise<HTMLElement> {
  const container = document.createElement("div");
  document.body.append(container);
  mounted.push(container);
  await act(() => render(vnode, container));
  await settle();
  return container;
}

export async function unmount(container: HTMLElement): Promise<void> {
  await act(() => render(null, container));
  container.remove();
}

/** Lets pending promises (fake API answers) resolve and Preact re-render. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await act(() => new Promise<void>((r) => setTimeout(r, 0)));
}

const clean = (s: string | null | undefined) => (s ?? "").replace(/\s+/g, " ").trim();

export function field<T extends HTMLElement = HTMLInputElement>(root: HTMLElement, label: string): T {
  const found = [...root.querySelectorAll("label")].find((l) => clean(l.textContent) === label);
  const control = found && root.querySelector(`#${found.htmlFor}`);
  if (!control) throw new Error(`no field labelled "${label}"; labels: ${[...root.querySelectorAll("label")].map((l) => clean(l.textContent)).join(" | ")}`);
  return control as T;
}

export function queryButton(root: HTMLElement, name: string): HTMLButtonElement | null {
  return [...root.querySelectorAll("button")].find((b) => clean(b.getAttribute("aria-label") ?? b.textContent) === name) ?? null;
}

export function button(root: HTMLElement, name: string): HTMLButtonElement {
  const b = queryButton(root, name);
  if (!b) throw new Error(`no button "${name}"; buttons: ${[...root.querySelectorAll("button")].map((x) => clean(x.textContent)).join(" | ")}`);
  return b;
}

export async function fill(control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): Promise<void> {
  await act(() => {
    control.value = value;
    control.dispatchEvent(new window.Event("input", { bubbles: true }));
    control.dispatchEvent(new window.Event("change", { bubbles: true }));
  });
}

export async function click(el: HTMLElement): Promise<void> {
  await act(() => el.click());
  await settle();
}

export function text(root: HTMLElement): string {
  return clean(root.textContent);
}

/** A promise the test resolves or rejects when it chooses, to look at the UI mid-call. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
