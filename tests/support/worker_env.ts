/**
 * What every scenario worker shares: its workerData shape, the futex it drives (plain Atomics or
 * seeded chaos), a sleep, and the report protocol ({ ok, ...stats } or { ok: false, error }).
 */

import { parentPort, workerData } from "node:worker_threads";
import { atomicsFutex, type Futex } from "../../mod.ts";
import { chaosFutex } from "../../testing.ts";
import { loadNative } from "../../scripts/lib/native.ts";

/** workerData of a scenario worker. */
export interface RoleData {
  scenario: string;
  role: string;
  id: number;
  sab: SharedArrayBuffer;
  chaos: boolean;
  /** Drive the words with this runtime's native (OS) futex instead of Atomics (Deno/Bun only). */
  native?: boolean;
  /** With `native`: the OS wait slice (long in stress tests, so a lost wakeup shows as an expired slice). */
  sliceMs?: number;
  seed: number;
  spin: number | undefined;
  rounds: number;
  waiters?: number;
  /**
   * Use the async forms (waitAsync, lockAsync, acquireAsync, incAsync, …) on this worker's own
   * event loop, with other async work interleaved (a chatter timer and yields).
   */
  async?: boolean;
}

/** This worker's data. */
export const data: RoleData = workerData as RoleData;

const nativeBase = data.native ? (await loadNative()).nativeFutex({ sliceMs: data.sliceMs }) : undefined;
const base: Futex = nativeBase ?? atomicsFutex;

/** The futex this worker's primitives use: Atomics or native, plain or wrapped in chaos. */
export const futex: Futex = data.chaos ? chaosFutex(base, { seed: data.seed }) : base;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block this worker for `ms` milliseconds (fractions allowed). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Throw a scenario failure. */
export function fail(msg: string): never {
  throw new Error(msg);
}

/** Yield to the event loop (a macrotask), so other async work of this worker runs. */
export function yieldNow(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

/** A role's report: stats, or a promise of them for async roles. */
export type RoleFn = () => Record<string, unknown> | Promise<Record<string, unknown>>;

/**
 * Run the role named by workerData and post its report. Async workers (`data.async`) run a
 * chatter timer beside the role — other async work on the same event loop, whose callbacks the
 * role's awaits must interleave with — and report how often it ran.
 */
export async function runRole(roles: Record<string, RoleFn>): Promise<void> {
  let chatter = 0;
  const timer = data.async ? setInterval(() => void chatter++, 1) : undefined;
  try {
    const fn = roles[`${data.scenario}.${data.role}`] ?? fail(`unknown role ${data.scenario}.${data.role}`);
    const report = await fn();
    if (data.async) report.chatter = chatter;
    // Native runs: slices that expired with the word unchanged (a lost wakeup, with a long slice).
    if (nativeBase) report.expiredSlices = nativeBase.expiredSlices;
    parentPort!.postMessage({ ok: true, ...report });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  } finally {
    clearInterval(timer);
  }
}
