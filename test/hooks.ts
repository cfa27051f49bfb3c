import { stopHomeserver } from "./harness/homeserver.js";
import { removeTempDirs } from "./harness/tempDir.js";
import { loadValidators } from "../widgets/lib/validators.js";

/**
 * Root hooks: the one Synapse of the run is started on first use and stopped at the end. The
 * widgets' validators are loaded first, as mountWidget does before it renders an app, so the
 * component tests can render components on their own.
 */
export const mochaHooks = {
  async beforeAll() {
    await loadValidators();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopHomeserver();
    removeTempDirs();
  },
};
