import { expect } from "chai";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { consultCapabilities, consultWatch } from "../../widgets/consult-room/capabilities.js";
import { mountWidget } from "../../widgets/lib/mountWidget.js";
import { TOKEN_CLASS } from "../../widgets/lib/theme.js";
import { themeFrom, type Theme } from "../../widgets/lib/widgetParams.js";
import { setUrl, settle } from "./dom.js";
import { FakeElement, embedIn, installFrame } from "./fakeElement.js";
import { ROOM } from "./fixtures.js";

const css = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8");

describe("Element's themes", function () {
  it("shows each of Element's theme names in one of the four themes the tokens have", function () {
    const names: [string | null | undefined, Theme][] = [
      ["light", "light"],
      ["dark", "dark"],
      ["light-high-contrast", "light-high-contrast"],
      ["dark-high-contrast", "dark-high-contrast"],
      ["custom-Night (dark)", "dark"],
      ["custom-Ink (dark, high contrast)", "dark-high-contrast"],
      ["custom-Paper", "light"],
      ["", "light"],
      [null, "light"],
      [undefined, "light"],
    ];
    expect(names.map(([name]) => themeFrom(name))).to.deep.equal(names.map(([, theme]) => theme));
  });

  it("imports a palette for each theme, and defines every token the widgets' CSS uses", function () {
    // A new version of the tokens that renames a class or token would otherwise leave colours unset.
    const ours = ["../../widgets/lib/tokens.css", "../../widgets/lib/widget.css", "../../widgets/handoff-room/handoff.css"].map(css).join("\n");
    const imported = [...css("../../widgets/lib/tokens.css").matchAll(/@import "(@vector-im\/[^"]+)"/g)]
      .map(([, spec]) => readFileSync(createRequire(import.meta.url).resolve(spec!), "utf8"))
      .join("\n");
    const palettes = Object.values(TOKEN_CLASS).filter((cls) => new RegExp(`\\.${cls}(?![\\w-])`).test(imported));
    expect(palettes).to.deep.equal(Object.values(TOKEN_CLASS));
    const used = new Set([...ours.matchAll(/var\((--cpd-[\w-]+)\)/g)].map(([, token]) => token!));
    expect([...used].filter((token) => !imported.includes(`${token}:`))).to.deep.equal([]);
  });

  describe("in Element", function () {
    let restore: () => Promise<void>;
    const fetchBefore = globalThis.fetch;
    before(() => (restore = installFrame()));
    after(async function () {
      globalThis.fetch = fetchBefore;
      await restore();
    });

    it("follows Element's live theme changes on the whole document", async function () {
      const creds = { state: "allowed", access_token: "oid", matrix_server_name: "rounds.test", token_type: "Bearer", expires_in: 3600 };
      globalThis.fetch = async () => new Response(JSON.stringify({ token: "t", userId: "@a:rounds.test" }), { status: 200 });
      const host = new FakeElement(["org.matrix.msc2871"], [], creds);
      embedIn(host);
      setUrl(`https://rounds.example/_rounds/widgets/consult-room/index.html?roomId=${encodeURIComponent(ROOM)}&theme=dark&widgetId=rounds-consult&parentUrl=${encodeURIComponent("https://element.example/")}`);
      const app = document.body.appendChild(document.createElement("div"));
      const started = mountWidget(app, { capabilities: consultCapabilities, watch: consultWatch, app: () => <p>Signed in</p> });
      const html = document.documentElement;
      const shown = () => ({ classes: [...html.classList], theme: html.dataset.theme });
      expect(shown(), "from the URL, before Element answers").to.deep.equal({ classes: ["cpd-theme-dark"], theme: "dark" });
      await host.approveAll();
      await started;
      expect(app.textContent).to.equal("Signed in");

      for (const [name, theme] of [["light-high-contrast", "light-high-contrast"], ["custom-Night (dark)", "dark"], ["light", "light"]] as const) {
        expect(await host.request("theme_change", { name })).to.deep.equal({});
        await settle();
        expect(shown(), name).to.deep.equal({ classes: [TOKEN_CLASS[theme]], theme });
      }
      expect(app.textContent, "the app stays as it was").to.equal("Signed in");
      app.remove();
    });
  });
});
