import type { ChildProcess } from "node:child_process";

const children = new Set<ChildProcess>();

/**
 * Child processes (Synapse, Rounds) must not outlive the test run, even when it is interrupted
 * or a test fails before its own clean-up: they would hold ports and keep writing to temp dirs.
 */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

function killAll(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
}

process.once("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}
