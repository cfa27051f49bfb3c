import { spawn } from "node:child_process";
import { once } from "node:events";
import { expect } from "chai";
import { exited, stopChild, Supervisor, type SupervisorOptions } from "../../appservice/setup/supervisor.js";
import { waitUntil } from "../harness/waitUntil.js";

/** A node child that runs `code`; it prints "up" on stdout once its handlers are in place. */
const node = (code: string) => spawn(process.execPath, ["-e", `${code}; console.log("up"); setInterval(() => {}, 1000)`], { stdio: ["ignore", "pipe", "pipe"] });
const up = async (child: ReturnType<typeof node>) => {
  const [d] = (await once(child.stdout!, "data")) as [Buffer];
  expect(d.toString()).to.contain("up");
};

describe("the npm start supervisor", function () {
  const running: Supervisor[] = [];
  const supervise = (opts: Partial<SupervisorOptions> & Pick<SupervisorOptions, "spawn">) => {
    const lines: string[] = [];
    const fatal: { code: number | null; tail: string }[] = [];
    const s = new Supervisor({
      name: "Rounds",
      say: (l) => lines.push(l),
      isFatal: (code) => code === 2,
      onFatal: (code, tail) => fatal.push({ code, tail }),
      backoff: { firstMs: 50, maxMs: 150, healthyResetMs: 100 },
      graceMs: 2_000,
      ...opts,
    });
    running.push(s);
    return { s, lines, fatal };
  };

  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  it("restarts a child killed with SIGKILL, with doubling delays up to the cap, and shows its stderr", async function () {
    const { s, lines } = supervise({ spawn: () => node(`console.error("boom at start")`) });
    s.start();
    for (let i = 1; i <= 4; i++) {
      await up(s.child as ReturnType<typeof node>);
      s.child!.kill("SIGKILL");
      await waitUntil(async () => s.run > i, `restart ${i}`, 5_000);
    }
    const restarts = lines.filter((l) => l.includes("restarting in"));
    expect(restarts).to.deep.equal([
      "[start] Rounds exited (signal SIGKILL); restarting in 0.05 s (restart 1)",
      "[start] Rounds exited (signal SIGKILL); restarting in 0.1 s (restart 2)",
      "[start] Rounds exited (signal SIGKILL); restarting in 0.15 s (restart 3)",
      "[start] Rounds exited (signal SIGKILL); restarting in 0.15 s (restart 4)",
    ]);
    expect(lines).to.include("[start] the end of its stderr:\nboom at start");
  });

  it("starts the delays over once a run has stayed healthy", async function () {
    const { s, lines } = supervise({ spawn: () => node("") });
    s.start();
    for (let i = 1; i <= 2; i++) {
      await up(s.child as ReturnType<typeof node>);
      s.child!.kill("SIGKILL");
      await waitUntil(async () => s.run > i, `restart ${i}`, 5_000);
    }
    await up(s.child as ReturnType<typeof node>);
    s.markHealthy(s.run);
    await new Promise((r) => setTimeout(r, 150)); // past healthyResetMs (100 ms), the policy under test
    s.child!.kill("SIGKILL");
    await waitUntil(async () => s.run > 3, "restart 3", 5_000);
    expect(lines.filter((l) => l.includes("restarting in")).map((l) => /in ([\d.]+) s/.exec(l)![1])).to.deep.equal(["0.05", "0.1", "0.05"]);
  });

  it("retries with backoff a child that could not be started at all, and says why", async function () {
    let spawns = 0;
    const { s, lines } = supervise({ spawn: () => (spawns++, spawn("/nonexistent/rounds-binary", [], { stdio: ["ignore", "pipe", "pipe"] })) });
    s.start();
    await waitUntil(async () => spawns >= 2 || null, "a second attempt after the failed spawn");
    expect(lines.join("\n")).to.contain("ENOENT");
  });

  it("gives up at once on a configuration error (exit code 2) instead of restarting in a loop", async function () {
    const { s, lines, fatal } = supervise({ spawn: () => spawn(process.execPath, ["-e", `console.error("ROUNDS_X: must be a number"); process.exit(2)`], { stdio: ["ignore", "pipe", "pipe"] }) });
    s.start();
    await waitUntil(async () => fatal.length > 0, "the supervisor to give up", 5_000);
    expect(fatal).to.deep.equal([{ code: 2, tail: "ROUNDS_X: must be a number" }]);
    expect(lines.filter((l) => l.includes("restarting"))).to.deep.equal([]);
    expect(s.run).to.equal(1);
  });

  it("kills a child that does not stop within the grace period, and does not restart it", async function () {
    const { s } = supervise({ spawn: () => node(`process.on("SIGTERM", () => {})`), graceMs: 200 });
    s.start();
    await up(s.child as ReturnType<typeof node>);
    const child = s.child!;
    expect(await s.stop()).to.equal("killed");
    expect(child.signalCode).to.equal("SIGKILL");
    expect(s.run).to.equal(1);
  });

  it("stops a child that already died from a signal without waiting for an exit that has passed", async function () {
    const child = node("");
    await up(child);
    child.kill("SIGKILL");
    await once(child, "exit");
    await exited(child);
    expect(await stopChild(child, 60_000)).to.equal("stopped");
  });
});
