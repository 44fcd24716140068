/**
 * The contended loop, written once. Each primitive states its protocol as a *step*: "from the
 * word as it is now, either finish (true / false) or name the value to sleep on". Two drivers
 * run the same step:
 *
 *   blocking: step → futex.wait(expected, remaining) → step → …   (spins first: inside the step,
 *             or — the event — just before it)
 *   async:    step → await futex.waitAsync(expected, remaining, signal) → step → …   (never spins)
 *
 * so a model, a mutant or a scenario of one path is a model, a mutant or a scenario of the other.
 * Both drivers own the deadline and the give-up: a caller that leaves without success after it
 * slept (timeout, abort) calls `giveUp()`, in which the protocol passes on the one wake it may
 * have consumed — at most one, never a broadcast.
 *
 * Per-thread rules (what a blocked thread can never see happen):
 *   - a blocking sleep on a word whose lock this thread holds (through any instance) could only
 *     end by this thread's own unlock: DeadlockError;
 *   - a blocking sleep beside an async wait of this same thread on the same word, for protocols
 *     that wake one: the engine may hand the only wake to the older async waiter, whose thread
 *     is the blocked one — a lost wakeup. DeadlockError naming both.
 *
 * @module
 */

import { DeadlockError } from "./errors.ts";
import { deadlineAfter, type Futex, futexTimeout, remainingMs } from "./futex.ts";
import type { WordRecord } from "./word.ts";

/** Step result: finished, without success (e.g. decIfLock found other visits). */
export const STEP_FALSE = 0;
/** Step result: finished with success (lock held, permit taken, event seen set). */
export const STEP_TRUE = 1;
/** Step result: sleep while the word still equals `expected`, then step again. */
export const STEP_SLEEP = 2;

/** One contended call in progress: the protocol's step and the state it keeps between steps. */
export abstract class ContendedWait {
  /** The value to sleep on; set by `step()` before it returns {@link STEP_SLEEP}. */
  expected = 0;
  /** Whether this call has returned from a futex wait (so it may have consumed a wake). */
  slept = false;
  /** Pause units the step may spin before sleeping (the blocking driver; 0 for async). */
  spins = 0;
  /**
   * Longest single sleep (ms): the drivers wake the step at least this often even if nobody
   * wakes the word, so it can re-check something the word cannot show (a robust lock's owner
   * dying). Infinity (the default): sleep for the whole remaining time.
   */
  sliceMs = Infinity;

  /** Advance the protocol from the word's current value: STEP_FALSE, STEP_TRUE or STEP_SLEEP. */
  abstract step(): number;

  /** Leaving without success after `slept`: pass on the wake this call may have consumed. */
  abstract giveUp(): void;
}

function besideAsync(where: string, record: WordRecord): DeadlockError {
  return new DeadlockError(
    `${where}: this thread has a pending ${record.asyncWhat} on the same word; a blocking wait here could ` +
      `take the wake meant for it (or it the one meant for us) and never return — await the async call, ` +
      "or use the async form here too",
  );
}

function holdsIt(where: string): DeadlockError {
  return new DeadlockError(
    `${where}: this thread holds the lock (through this or another instance on the same word), so a blocking ` +
      "wait for it would never end; unlock() first, or use the async form from another task",
  );
}

let mayBlock: boolean | undefined;

/**
 * Whether this thread may block in `Atomics.wait`: a browser page's main thread may not (the
 * engine throws a TypeError instead of sleeping). Probed once, after a wait threw.
 */
function atomicsWaitAllowed(): boolean {
  if (mayBlock === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // "not-equal" where waiting is allowed
      mayBlock = true;
    } catch {
      mayBlock = false;
    }
  }
  return mayBlock;
}

/** A blocking call that had to sleep on a thread where the engine refuses to: name the async form. */
function cannotBlock(where: string, cause: unknown): TypeError {
  const twin = where === "Mutex.lock" ? "Mutex.lockAsync (withLockAsync for withLock and guard)" : `${where}Async`;
  return new TypeError(
    `${where}: this thread may not block (the engine refuses Atomics.wait here, as browsers do on a page's main ` +
      `thread) and the call had to wait; use its async form, ${twin}, or make blocking calls in a Worker`,
    { cause },
  );
}

/**
 * Drive `w` with blocking futex waits until it finishes or `timeoutMs` passes (counted from its
 * first sleep). `refuseBesideAsync`: the protocol wakes one sleeper at a time (module rules).
 */
export function runBlocking(
  w: ContendedWait,
  view: Int32Array,
  futex: Futex,
  timeoutMs: number | undefined,
  record: WordRecord,
  refuseBesideAsync: boolean,
  where: string,
): boolean {
  let deadline = -1;
  for (;;) {
    const r = w.step();
    if (r !== STEP_SLEEP) return r === STEP_TRUE;
    let left: number;
    if (deadline < 0) {
      deadline = deadlineAfter(timeoutMs); // read the clock only once a sleep is near
      left = timeoutMs ?? Infinity;
    } else {
      left = remainingMs(deadline);
    }
    if (left <= 0) {
      if (w.slept) w.giveUp();
      return false;
    }
    if (record.holder !== undefined) throw holdsIt(where);
    if (refuseBesideAsync && record.asyncWaits > 0) throw besideAsync(where, record);
    try {
      futex.wait(view, 0, w.expected, futexTimeout(Math.min(left, w.sliceMs))); // any return may be spurious: step decides
    } catch (e) {
      throw e instanceof TypeError && !atomicsWaitAllowed() ? cannotBlock(where, e) : e;
    }
    w.slept = true;
  }
}

/**
 * Drive `w` with async futex waits until it finishes, `timeoutMs` passes (false), or `signal`
 * aborts (rejects with its reason). Counts as a pending async wait of this thread on the word
 * while it runs.
 */
export async function runAsync(
  w: ContendedWait,
  view: Int32Array,
  futex: Futex,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
  record: WordRecord,
  where: string,
): Promise<boolean> {
  const deadline = deadlineAfter(timeoutMs);
  record.asyncWaits++;
  record.asyncWhat = where;
  try {
    for (;;) {
      const r = w.step();
      if (r !== STEP_SLEEP) return r === STEP_TRUE;
      const left = remainingMs(deadline);
      if (left <= 0) {
        if (w.slept) w.giveUp();
        return false;
      }
      await futex.waitAsync(view, 0, w.expected, futexTimeout(Math.min(left, w.sliceMs)), signal);
      w.slept = true;
      if (signal?.aborted) {
        w.giveUp();
        throw signal.reason;
      }
    }
  } finally {
    record.asyncWaits--;
  }
}
