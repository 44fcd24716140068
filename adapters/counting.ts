/**
 * A counting futex for tests and benchmarks: forwards every call to an inner futex and counts
 * it, so a test can assert that a fast path made no wait or wake call at all.
 *
 * @module
 */

import type { Futex, WaitResult } from "../core/futex.ts";

/** Calls seen by a {@link countingFutex}. */
export interface FutexCalls {
  /** Blocking waits. */
  wait: number;
  /** Async waits. */
  waitAsync: number;
  /** Wake-one calls. */
  wakeOne: number;
  /** Wake-all calls. */
  wakeAll: number;
}

/** A futex that counts the calls it forwards. */
export interface CountingFutex extends Futex {
  /** Calls so far (a live object; reset the fields to zero to start over). */
  readonly calls: FutexCalls;
}

/**
 * Wrap `inner` so that its calls are counted.
 *
 * @example
 * ```ts
 * import { ManualResetEvent, atomicsFutex } from "@futex/sync";
 * import { countingFutex } from "@futex/sync/testing";
 * const futex = countingFutex(atomicsFutex);
 * new ManualResetEvent({ futex }).set();
 * futex.calls.wakeAll; // 0: nobody was waiting
 * ```
 */
export function countingFutex(inner: Futex): CountingFutex {
  const calls: FutexCalls = { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 };
  return {
    name: `counting(${inner.name})`,
    domain: inner.domain,
    crossProcess: inner.crossProcess,
    requiresSharedArrayBuffer: inner.requiresSharedArrayBuffer,
    calls,
    wait(view: Int32Array, index: number, expected: number, timeoutMs?: number): WaitResult {
      calls.wait++;
      return inner.wait(view, index, expected, timeoutMs);
    },
    waitAsync(view: Int32Array, index: number, expected: number, timeoutMs?: number, signal?: AbortSignal): Promise<WaitResult> {
      calls.waitAsync++;
      return inner.waitAsync(view, index, expected, timeoutMs, signal);
    },
    wakeOne(view: Int32Array, index: number): void {
      calls.wakeOne++;
      inner.wakeOne(view, index);
    },
    wakeAll(view: Int32Array, index: number): void {
      calls.wakeAll++;
      inner.wakeAll(view, index);
    },
  };
}
