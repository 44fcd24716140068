/**
 * The browser's stand-in for tests/support/worker_env.ts (which reads node:worker_threads): the
 * same exports — the role's data, its futex, sleepMs, fail, yieldNow, runRole — for a module Web
 * Worker. The test server serves this file at tests/support/worker_env.js, so the scenario roles
 * (tests/workers/event_roles.ts, lock_roles.ts) run unchanged in browsers. tests/browser/worker.ts
 * puts the role's data on globalThis before it imports a role module.
 */

import { atomicsFutex, type Futex } from "../../mod.ts";
import { chaosFutex } from "../../testing.ts";
import { waitHelperCount } from "../../adapters/atomics_wait_helper.ts";
import type { RoleData } from "../support/worker_env.ts";

export type { RoleData };

interface WorkerScope {
  postMessage(message: unknown): void;
  __futexRole?: RoleData;
}
const scope = globalThis as unknown as WorkerScope;

/** Throw a scenario failure. */
export function fail(msg: string): never {
  throw new Error(msg);
}

/** This worker's data (posted by the page, put on globalThis by worker.ts). */
export const data: RoleData = scope.__futexRole ?? fail("no role data: load roles through tests/browser/worker.ts");

/** The futex this worker's primitives use: Atomics, plain or wrapped in chaos. */
export const futex: Futex = data.chaos ? chaosFutex(atomicsFutex, { seed: data.seed }) : atomicsFutex;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block this worker for `ms` milliseconds (fractions allowed). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Yield to the event loop (a macrotask through a MessageChannel: browsers clamp nested timers to 4 ms). */
export function yieldNow(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    const port = ch.port1 as unknown as { onmessage: (() => void) | null; close(): void };
    port.onmessage = () => {
      port.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });
}

/** A role's report: stats, or a promise of them for async roles. */
export type RoleFn = () => Record<string, unknown> | Promise<Record<string, unknown>>;

/**
 * Run the role named by the data and post its report, as the Node harness does (a 1 ms chatter
 * timer beside async roles), adding which async path this worker had (the engine's
 * Atomics.waitAsync or the helper Worker) and how many helper Workers it started.
 */
export async function runRole(roles: Record<string, RoleFn>): Promise<void> {
  let chatter = 0;
  const timer = data.async ? setInterval(() => void chatter++, 1) : undefined;
  try {
    const fn = roles[`${data.scenario}.${data.role}`] ?? fail(`unknown role ${data.scenario}.${data.role}`);
    const report = await fn();
    if (data.async) report.chatter = chatter;
    report.waitAsync = typeof Atomics.waitAsync === "function";
    report.waitHelpers = waitHelperCount();
    scope.postMessage({ ok: true, ...report });
  } catch (e) {
    scope.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  } finally {
    clearInterval(timer);
  }
}
