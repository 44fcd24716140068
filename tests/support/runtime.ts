/**
 * Test support that differs by runtime: where sibling test scripts are (.ts under Deno/Bun,
 * compiled .js under Node), stress sizes and seeds, spawning workers with a watchdog, and
 * spawning a child process of the same runtime. The runtime-neutral part (which runtime, child
 * processes) lives in scripts/lib/runtime.ts, shared with the benchmarks, and is re-exported here.
 */

import { channel } from "node:diagnostics_channel";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type ChildResult, childCommand, runCommand } from "../../scripts/lib/runtime.ts";

export { type ChildResult, childCommand, runCommand, runtime } from "../../scripts/lib/runtime.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** URL of a test script given relative to tests/, without extension: "workers/event_roles". */
export function testScript(path: string): URL {
  return new URL(`../${path}${ext}`, import.meta.url);
}

/** The file path of a test script (a URL's pathname is no path on Windows: "/Z:/…"). */
export function testScriptPath(path: string): string {
  return fileURLToPath(testScript(path));
}

/** Scale factor for stress sizes: FUTEX_TEST_SCALE (default 1). */
export const scale: number = Number(process.env.FUTEX_TEST_SCALE ?? "1") || 1;

/** Added to every chaos/PRNG seed: FUTEX_TEST_SEED (default 0); the soak varies it per run. */
export const seedBase: number = Number(process.env.FUTEX_TEST_SEED ?? "0") || 0;

/** Round count scaled, at least 1. */
export function rounds(n: number): number {
  return Math.max(1, Math.round(n * scale));
}

/** What a worker reports when it finishes. */
export interface WorkerReport {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/**
 * The diagnostics channel on which runWorkers publishes `{ workers, rounds }` after every run
 * whose workers all reported success (scripts/lib/worker_rounds.ts subscribes for the soak).
 */
export const WORKER_ROUNDS_CHANNEL = "futex-sync:worker-rounds";
const workerRounds = channel(WORKER_ROUNDS_CHANNEL);

/**
 * Start one worker per entry of `datas` on `script`, wait for each to post its report, and fail
 * if any reports an error, dies, or all have not finished within `timeoutMs`. Workers are
 * terminated in every case, so a hung worker cannot keep the test process alive.
 */
export async function runWorkers(
  script: string,
  datas: Record<string, unknown>[],
  timeoutMs: number,
  describeState?: () => string,
  stall?: { progress: () => number; ms: number },
): Promise<WorkerReport[]> {
  const workers = datas.map((d) => new Worker(testScript(script), { workerData: d }));
  const reports = workers.map((w, i) =>
    new Promise<WorkerReport>((resolve, reject) => {
      w.once("message", (m: WorkerReport) => {
        if (m.ok) resolve(m);
        else reject(new Error(`worker ${i} (${String(datas[i].role)}): ${m.error}`));
      });
      w.once("error", (e: unknown) => reject(new Error(`worker ${i} (${String(datas[i].role)}) crashed: ${String(e)}`)));
      w.once("exit", (code: number) => reject(new Error(`worker ${i} (${String(datas[i].role)}) exited with ${code} before reporting`)));
    })
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const state = (): string => (describeState ? `; ${describeState()}` : "");
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: workers did not finish within ${timeoutMs} ms${state()}`)), timeoutMs);
    if (stall) { // fail fast when shared progress stops: a lost wakeup shows as a stall long before the deadline
      let last = stall.progress();
      let since = performance.now();
      poll = setInterval(() => {
        const now = stall.progress();
        if (now !== last) {
          last = now;
          since = performance.now();
        } else if (performance.now() - since > stall.ms) {
          reject(new Error(`watchdog: no progress for ${stall.ms} ms (stuck at ${now}: lost wakeup?)${state()}`));
        }
      }, 100);
    }
  });
  try {
    const done = await Promise.race([Promise.all(reports), watchdog]);
    // Worker rounds completed, each ending in the scenario's invariant checks: published for a
    // subscriber (the soak's), silent otherwise.
    if (workerRounds.hasSubscribers) {
      workerRounds.publish({ workers: datas.length, rounds: datas.reduce((s, d) => s + (Number(d.rounds) || 0), 0) });
    }
    return done;
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    for (const r of reports) r.catch(() => {}); // the exit after a report is expected
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Run `script` (a tests/ path without extension) in a fresh process of this runtime. */
export function runChild(script: string, args: string[], timeoutMs: number): Promise<ChildResult> {
  return runChildFile(testScriptPath(script), timeoutMs, args);
}

/** Run a program file in a fresh process of this runtime; kill it after `timeoutMs`. */
export function runChildFile(file: string, timeoutMs: number, args: string[] = []): Promise<ChildResult> {
  return runCommand(childCommand(file, args), timeoutMs);
}

/** Resolve after `ms` (a macrotask turn: workers' messages get delivered meanwhile). */
export const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every millisecond; throw naming `what` if it does not hold within `limitMs`. */
export async function until(what: string, cond: () => boolean, limitMs = 5000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(1);
  }
}

/** The slice of Deno.Command that denoWithoutPermissions uses (declared here: tsc builds without Deno's types). */
interface DenoCommand {
  new (cmd: string, options: { args: string[]; stdout: "piped"; stderr: "piped"; signal: AbortSignal }): {
    output(): Promise<{ stdout: Uint8Array; stderr: Uint8Array }>;
  };
}

/**
 * Run this Deno with `args` and none of this process's permissions (Deno only); resolve with its
 * stdout and stderr, killed after `timeoutMs`. On Linux through sh, since Deno's node:child_process
 * hands its own permissions to a spawned `deno`; on Windows (no sh) through Deno.Command, which
 * starts it with only the flags given.
 */
export async function denoWithoutPermissions(args: string[], timeoutMs = 30_000): Promise<string> {
  if (process.platform !== "win32") {
    const cmd = `exec ${[process.execPath, ...args].map((a) => `"${a}"`).join(" ")}`;
    const r = await runCommand(["sh", "-c", cmd], timeoutMs);
    return r.stdout + r.stderr;
  }
  const Command = (globalThis as unknown as { Deno: { Command: DenoCommand } }).Deno.Command;
  const out = await new Command(process.execPath, { args, stdout: "piped", stderr: "piped", signal: AbortSignal.timeout(timeoutMs) }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}
