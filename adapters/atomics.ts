/**
 * The Atomics futex: `Atomics.wait` / `Atomics.notify` / `Atomics.waitAsync` on a word in a
 * SharedArrayBuffer. Works in every runtime (Node, Deno, Bun) and between workers of one
 * process; it cannot reach other processes or native code (use a native futex for those).
 *
 * Async waits hold the process open while pending (adapters/keepalive.ts). An aborted async wait
 * settles at once with "ok" and then flushes the engine's orphaned waiter with a notify on the
 * word: a spurious wake for any other waiter there, which every protocol absorbs by re-checking.
 *
 * @module
 */

import type { Futex, WaitResult } from "../core/futex.ts";
import { holdKeepAlive, releaseKeepAlive } from "./keepalive.ts";

const hasWaitAsync = typeof Atomics.waitAsync === "function";

function waitAsync(
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs?: number,
  signal?: AbortSignal,
): Promise<WaitResult> {
  if (!hasWaitAsync) {
    return Promise.reject(
      new TypeError("Atomics.waitAsync is missing in this engine; use the blocking wait() inside a worker instead"),
    );
  }
  if (signal?.aborted) return Promise.resolve("ok");
  const r = Atomics.waitAsync(view, index, expected, timeoutMs ?? Infinity);
  if (!r.async) return Promise.resolve(r.value);
  holdKeepAlive();
  return new Promise<WaitResult>((resolve) => {
    let settled = false;
    const finish = (v: WaitResult): void => {
      if (settled) return;
      settled = true;
      releaseKeepAlive();
      signal?.removeEventListener("abort", onAbort);
      resolve(v);
    };
    const onAbort = (): void => {
      finish("ok");
      Atomics.notify(view, index);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    r.value.then(finish, () => finish("ok"));
  });
}

/**
 * The futex every primitive uses unless told otherwise.
 *
 * @example
 * ```ts
 * import { atomicsFutex } from "@futex/sync";
 * const view = new Int32Array(new SharedArrayBuffer(4));
 * await atomicsFutex.waitAsync(view, 0, 0, 10); // "timed-out"
 * ```
 */
export const atomicsFutex: Futex = Object.freeze({
  name: "atomics",
  crossProcess: false,
  requiresSharedArrayBuffer: true,
  wait(view: Int32Array, index: number, expected: number, timeoutMs?: number): WaitResult {
    return Atomics.wait(view, index, expected, timeoutMs ?? Infinity);
  },
  waitAsync,
  wakeOne(view: Int32Array, index: number): void {
    Atomics.notify(view, index, 1);
  },
  wakeAll(view: Int32Array, index: number): void {
    Atomics.notify(view, index);
  },
});
