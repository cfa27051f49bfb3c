import { MatrixCapabilities } from "matrix-widget-api";
import { render, type ComponentChild } from "preact";
import { ApiError } from "./apiFetch.js";
import { ApiSession } from "./apiSession.js";
import { httpConsultApi, type ConsultApi } from "./consultApi.js";
import { httpPeopleApi, PeopleContext, PeopleCache } from "./people.js";
import { connectWidget, missingCapabilities, type RoomWatch, type WidgetSession } from "./widgetSession.js";
import { applyTheme } from "./theme.js";
import { loadValidators } from "./validators.js";
import { readWidgetParams } from "./widgetParams.js";

export interface WidgetContext {
  session: WidgetSession;
  api: ConsultApi;
  /** The signed-in API session, for widgets with their own API client (handoffs). */
  apiSession: ApiSession;
  /** The Matrix user the API verified through OpenID. */
  viewer: string;
}

export interface WidgetDefinition {
  capabilities: (roomId: string) => string[];
  /** Asked for too, but the widget works without them (a user may refuse): e.g. directory search. */
  optionalCapabilities?: readonly string[];
  watch: RoomWatch;
  app: (ctx: WidgetContext) => ComponentChild;
}

function Notice({ title, text, busy }: { title: string; text: string; busy?: boolean }) {
  return (
    <main class="notice">
      <div role={busy ? "status" : "alert"}>
        <h1>{title}</h1>
        <p>{text}</p>
      </div>
    </main>
  );
}

/**
 * Start-up shared by the widgets: read the URL, ask Element for the capabilities, wait for its
 * answer, prove who the viewer is (OpenID → API session), then render the app. The validators
 * (zod and the schemas, most of a widget's code) load beside all that, not before the first paint.
 */
export async function mountWidget(root: HTMLElement, def: WidgetDefinition): Promise<void> {
  // Marks for the cold-load benchmark's breakdown of where the time goes.
  performance.mark("rounds:start");
  const params = readWidgetParams(window.location.href, window.parent !== window);
  if (!params) {
    render(<Notice title="Rounds" text="Open this widget from a Rounds room in Element." />, root);
    return;
  }
  applyTheme(params.theme);
  const capabilities = def.capabilities(params.roomId);
  const session = connectWidget(params, [...capabilities, ...(def.optionalCapabilities ?? [])], def.watch, applyTheme);
  render(<Notice busy title="Connecting to Element…" text="If Element asks, allow the permissions this Rounds widget needs." />, root);
  // The identity proof goes beside the capability negotiation, not after it: the host answers an
  // OpenID request whatever the capabilities, so a cold load waits for one round trip, not two.
  const apiSession = new ApiSession(() => session.api.requestOpenIDConnectToken());
  const signedIn = apiSession.signIn();
  signedIn.catch(() => undefined); // awaited below, where a failure is shown

  await session.ready;
  performance.mark("rounds:ready");
  // Evaluating the validators blocks the page for tens of milliseconds, so they start once the
  // handshake is done (it would wait behind them) and load while the sign-in is on the network.
  const validatorsLoaded = loadValidators();
  validatorsLoaded.catch(() => undefined); // awaited below, where a failure is shown
  const missing = missingCapabilities(session.api, capabilities);
  if (missing.length > 0) {
    render(
      <Notice
        title="Permissions needed"
        text={`Element did not grant what this widget needs (${missing.join(", ")}). Reload the widget and allow its permissions.`}
      />,
      root,
    );
    return;
  }

  // Past events load beside the sign-in; live ones keep arriving either way.
  session.load().catch((err: unknown) => console.warn("Rounds: could not read the room's earlier events:", err instanceof Error ? err.message : err));
  let viewer: string;
  try {
    viewer = await signedIn;
  } catch (err) {
    const why = err instanceof ApiError ? err.message : "Element did not confirm your identity.";
    render(<Notice title="Could not sign in to Rounds" text={`${why} Reload the widget; if it keeps failing, contact your Rounds administrator.`} />, root);
    return;
  }
  performance.mark("rounds:signed-in");
  try {
    await validatorsLoaded;
  } catch {
    render(<Notice title="Could not load Rounds" text="Part of this widget did not download. Check the connection, then reload the widget." />, root);
    return;
  }
  performance.mark("rounds:validators");
  const clientSearch = session.api.hasCapability(MatrixCapabilities.MSC3973UserDirectorySearch)
    ? async (term: string, limit: number) => (await session.api.searchUserDirectory(term, limit)).results.map((r) => ({ userId: r.user_id, displayName: r.display_name }))
    : undefined;
  const people = new PeopleCache(httpPeopleApi(apiSession), viewer.slice(viewer.indexOf(":") + 1), clientSearch);
  render(<PeopleContext.Provider value={people}>{def.app({ session, api: httpConsultApi(apiSession), apiSession, viewer })}</PeopleContext.Provider>, root);
}
