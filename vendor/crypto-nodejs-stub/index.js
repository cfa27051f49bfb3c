// Rounds does E2EE through matrix-js-sdk's rust crypto (WASM). This stub only lets
// matrix-appservice-bridge load; any use of the native crypto is a bug, so fail loudly.
function unavailable() {
  throw new Error(
    "@matrix-org/matrix-sdk-crypto-nodejs is not available in Rounds: use the bots' matrix-js-sdk rust crypto (WASM) instead",
  );
}
module.exports = new Proxy({}, {
  get(_t, prop) {
    if (prop === "__esModule") return false;
    if (prop === "then") return undefined;
    return unavailable;
  },
});
