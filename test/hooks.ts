import { stopHomeserver } from "./harness/homeserver.js";
import { removeTempDirs } from "./harness/tempDir.js";

/** Root hooks: the one Synapse of the run is started on first use and stopped at the end. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopHomeserver();
    removeTempDirs();
  },
};
