/**
 * A futex for single-thread unit tests whose waits are scripted: each wait (blocking or async)
 * calls a hook that may change words (playing another thread) and says what the wait returns.
 * Async waits can also be left pending and settled by the test. Every call is counted.
 */

import type { Futex, WaitResult } from "../../mod.ts";
import type { FutexCalls } from "../../testing.ts";

/** What the hook of one wait decides: return this result now (blocking; async settles at once), or "pending". */
export type Script = (view: Int32Array, expected: number, async: boolean) => WaitResult | "pending";

/** A scripted futex: `hook` runs at every wait; pending async waits are kept in `pending`. */
export interface ScriptedFutex extends Futex {
  calls: FutexCalls;
  hook: Script;
  /** Settle every pending async wait with "ok" (as a wake would). */
  settleAll(): void;
  pending: number;
}

/** A futex of the "atomics" domain whose waits follow `hook` (default: time out at once). */
export function scriptedFutex(hook: Script = () => "timed-out"): ScriptedFutex {
  const waiting: ((r: WaitResult) => void)[] = [];
  const f: ScriptedFutex = {
    name: "scripted",
    domain: "atomics",
    crossProcess: false,
    requiresSharedArrayBuffer: true,
    calls: { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 },
    hook,
    pending: 0,
    wait(view, _index, expected) {
      f.calls.wait++;
      if (Atomics.load(view, 0) !== expected) return "not-equal";
      const r = f.hook(view, expected, false);
      return r === "pending" ? "timed-out" : r;
    },
    waitAsync(view, _index, expected, _timeout, signal) {
      f.calls.waitAsync++;
      if (Atomics.load(view, 0) !== expected) return Promise.resolve("not-equal");
      const r = f.hook(view, expected, true);
      if (r !== "pending") return Promise.resolve(r);
      f.pending++;
      return new Promise<WaitResult>((resolve) => {
        let done = false;
        const settle = (v: WaitResult): void => {
          if (done) return;
          done = true;
          f.pending--;
          resolve(v);
        };
        waiting.push(settle);
        signal?.addEventListener("abort", () => settle("ok"), { once: true });
      });
    },
    wakeOne() {
      f.calls.wakeOne++;
    },
    wakeAll() {
      f.calls.wakeAll++;
    },
    settleAll() {
      for (const s of waiting.splice(0)) s("ok");
    },
  };
  return f;
}
