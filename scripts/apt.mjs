// apt-get for the setup scripts: plain JS with no dependencies, run on whatever Node the machine has.
import { spawn } from "node:child_process";

/** Runs apt-get quietly; `onLine` turns its output into progress lines, all of it is shown on failure. */
export async function aptGet(args, onLine, fail) {
  const child = spawn("apt-get", args, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  let output = "";
  let pending = "";
  const collect = (d) => {
    output += d;
    pending += d;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const code = await new Promise((resolve) => child.on("close", resolve));
  if (code !== 0) {
    process.stderr.write(`${output}\n`);
    fail(`apt-get ${args.join(" ")} failed (exit ${code}, output above).`);
  }
}
