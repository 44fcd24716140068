/**
 * What differs by runtime, for tests and benchmarks alike: which runtime runs us, the command
 * line that starts a program in this runtime, and running a child process with a time limit.
 */

import { spawn } from "node:child_process";
import process from "node:process";

const g = globalThis as Record<string, unknown>;

/** "node", "deno" or "bun". */
export const runtime: "node" | "deno" | "bun" = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";

/** Result of a child process run. */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** The command line that runs a program file in this runtime. */
export function childCommand(file: string, args: string[] = []): string[] {
  if (runtime === "deno") return [process.execPath, "run", "-A", file, ...args];
  return [process.execPath, file, ...args];
}

/**
 * Run any command (argv[0] and its arguments) without a shell; collect its output; kill it after
 * `timeoutMs`. Colour is off (NO_COLOR; FORCE_COLOR removed) and `env` adds variables.
 */
export function runCommand(argv: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<ChildResult> {
  const [cmd, ...rest] = argv;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...env };
    delete childEnv.FORCE_COLOR; // Deno colours output whenever FORCE_COLOR is set, even to "0"
    const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (b: Uint8Array) => (stdout += new TextDecoder().decode(b)));
    child.stderr.on("data", (b: Uint8Array) => (stderr += new TextDecoder().decode(b)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, ms: performance.now() - t0 });
    });
  });
}
