type Schemas = typeof import("./schemas.js");

let loaded: Schemas | undefined;
let loading: Promise<Schemas> | undefined;

/**
 * Starts loading the shared validators (zod and Rounds' schemas). mountWidget calls it first, so
 * the download and its evaluation overlap the capability handshake and the sign-in, and renders
 * the app only once they are here; a widget's first paint ("Connecting…") needs none of it.
 */
export function loadValidators(): Promise<Schemas> {
  loading ??= import("./schemas.js").then((m) => (loaded = m));
  return loading;
}

/** The shared validators, for code that runs once the app is rendered (mountWidget waits for them). */
export function validators(): Schemas {
  if (!loaded) throw new Error("Rounds: the validators were used before they loaded; render the app through mountWidget, or await loadValidators() first");
  return loaded;
}
