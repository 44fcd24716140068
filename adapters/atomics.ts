/**
 * The Atomics futex: `Atomics.wait` / `Atomics.notify` / `Atomics.waitAsync` on a word in a
 * SharedArrayBuffer. Works in every runtime (Node, Deno, Bun) and between workers of one
 * process; it cannot reach other processes or native code (use a native futex for those).
 *
 * Async waits hold the process open while pending (adapters/keepalive.ts). An async wait cannot
 * be withdrawn from the engine, so an aborted one settles at once ("ok") and leaves an *orphan*
 * behind in the engine's queue. The orphan must not swallow a wake: if a wake reaches it, it
 * passes exactly one wake on (Atomics.notify(…, 1)) when this thread next runs — never a
 * broadcast, so aborts beside many waiters cost O(aborts), not O(aborts × waiters). A blocking
 * wait by this thread on a word where it has orphans sleeps in short slices (a spurious "ok"
 * at each, as the contract allows), since the orphan cannot forward while its thread is blocked.
 *
 * Where the engine has no `Atomics.waitAsync` (checked once, at load), async waits go through
 * one helper Worker per thread that blocks for them (adapters/atomics_wait_helper.ts); an aborted one
 * is withdrawn from the helper, or forwards the wake the helper had already taken.
 *
 * @module
 */

import type { Futex, WaitResult } from "../core/futex.ts";
import { holdKeepAlive, releaseKeepAlive } from "./keepalive.ts";
import { helperAvailable, type HelperWait, helperWaitAsync } from "./atomics_wait_helper.ts";

const hasWaitAsync = typeof Atomics.waitAsync === "function";

/** Longest blocking sleep on a word where this thread has orphans (ms). */
const ORPHAN_SLICE_MS = 10;
/** This thread's orphans: WeakMap(buffer → byte index of the word → count), and their total. */
const orphans = new WeakMap<object, Map<number, number>>();
let orphanTotal = 0;

function orphansAt(view: Int32Array, index: number): number {
  return orphans.get(view.buffer)?.get(view.byteOffset + 4 * index) ?? 0;
}

function addOrphan(view: Int32Array, index: number, delta: number): void {
  let words = orphans.get(view.buffer);
  if (words === undefined) orphans.set(view.buffer, (words = new Map()));
  const at = view.byteOffset + 4 * index;
  const n = (words.get(at) ?? 0) + delta;
  if (n === 0) words.delete(at);
  else words.set(at, n);
  orphanTotal += delta;
}

function wait(view: Int32Array, index: number, expected: number, timeoutMs?: number): WaitResult {
  const limit = timeoutMs ?? Infinity;
  if (orphanTotal === 0 || limit <= ORPHAN_SLICE_MS || orphansAt(view, index) === 0) {
    return Atomics.wait(view, index, expected, limit);
  }
  const r = Atomics.wait(view, index, expected, ORPHAN_SLICE_MS);
  return r === "timed-out" ? "ok" : r; // the slice, not the caller's timeout, ran out: re-check
}

function waitAsync(
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs?: number,
  signal?: AbortSignal,
): Promise<WaitResult> {
  if (!hasWaitAsync && !helperAvailable()) {
    return Promise.reject(
      new TypeError("Atomics.waitAsync is missing in this engine, and there is no Worker to wait for it; use the blocking wait() inside a worker instead"),
    );
  }
  if (signal?.aborted) return Promise.resolve("ok");
  // Without the engine's waitAsync, this thread's helper Worker blocks for it (adapters/atomics_wait_helper.ts).
  const r: HelperWait | ReturnType<typeof Atomics.waitAsync> = hasWaitAsync
    ? Atomics.waitAsync(view, index, expected, timeoutMs ?? Infinity)
    : helperWaitAsync(view, index, expected, timeoutMs);
  if (!r.async) return Promise.resolve(r.value);
  const cancel = "cancel" in r ? r.cancel : undefined;
  holdKeepAlive();
  return new Promise<WaitResult>((resolve, reject) => {
    let orphaned = false;
    let settled = false;
    const settle = (v: WaitResult | Error): void => {
      settled = true;
      if (typeof v === "string") resolve(v);
      else reject(v);
      releaseKeepAlive();
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      if (settled) return;
      orphaned = true;
      addOrphan(view, index, 1);
      settle("ok"); // the caller re-checks the word and the signal
      cancel?.(); // the helper withdraws it (the engine's waitAsync cannot)
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    r.value.then((v) => {
      if (!orphaned) {
        settle(v);
        return;
      }
      addOrphan(view, index, -1);
      if (v === "ok") Atomics.notify(view, index, 1); // the orphan took a wake: pass exactly one on
    }, (e: Error) => { // only the helper fails (it could not start)
      if (orphaned) addOrphan(view, index, -1);
      else settle(e);
    });
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
  domain: "atomics",
  crossProcess: false,
  requiresSharedArrayBuffer: true,
  wait,
  waitAsync,
  wakeOne(view: Int32Array, index: number): void {
    Atomics.notify(view, index, 1);
  },
  wakeAll(view: Int32Array, index: number): void {
    Atomics.notify(view, index);
  },
});
