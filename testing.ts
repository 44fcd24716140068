/**
 * Test helpers for code built on @futex/sync: a chaos futex that injects spurious wakes and
 * delays, and a counting futex that shows which calls a path made.
 *
 * @example
 * ```ts
 * import { atomicsFutex, ManualResetEvent } from "@futex/sync";
 * import { chaosFutex } from "@futex/sync/testing";
 * const ev = new ManualResetEvent({ futex: chaosFutex(atomicsFutex, { seed: 7 }) });
 * ```
 *
 * @module
 */

export { type ChaosOptions, chaosFutex, seededRandom } from "./adapters/chaos.ts";
export { type CountingFutex, countingFutex, type FutexCalls } from "./adapters/counting.ts";
