/**
 * The robust mutex protocol: a lock whose holder may die (a terminated worker, a killed
 * process) without leaving every other thread waiting for ever. Used by `Mutex` with
 * `{ robust: true }` on a native futex; the C peer (tests/native/peer.c) implements the same.
 *
 * Two 32-bit words, 4-aligned, side by side:
 *   word  Linux's robust-futex format (futex(2), "Robust futexes"):
 *           bits 0–29  the owner's OS thread id (0: nobody)
 *           bit  30    OWNER_DIED — the owner died holding it; the holder now is repairing
 *           bit  31    WAITERS — sleepers may exist: unlock wakes one
 *         and one value of its own: TID_MASK (all tid bits, no flag) = NOT_RECOVERABLE.
 *   pid   the owner's process id, or 0 while not (yet) recorded.
 *
 * lock (fast):  CAS 0 → tid, then pid := my pid.
 * lock (step, one loop for lock() and lockAsync()): from the word w —
 *   0                       CAS 0 → tid (| WAITERS once we have slept: others may sleep too);
 *   NOT_RECOVERABLE         NotRecoverableError;
 *   owner tid 0 (flag only) or an owner found dead: pid := 0, CAS w → tid | OWNER_DIED |
 *                           (w & WAITERS); won: pid := mine, the caller gets OwnerDiedError;
 *   owner alive             set WAITERS (CAS), sleep while the word holds that, for at most one
 *                           slice; the owner's liveness (tgkill(pid, tid, 0) ≠ ESRCH) is asked
 *                           before the first sleep and whenever a sleep ends with the word
 *                           unchanged (an expired slice): a dead owner is seen within one slice.
 * unlock: pid := 0; with OWNER_DIED still set → word := NOT_RECOVERABLE and wake all; else CAS
 *   tid → 0, or (WAITERS) store 0 and wake one.
 * markConsistent: clear OWNER_DIED (CAS loop, keeping WAITERS).
 *
 * Why the pid is cleared before each hand-over: a nonzero pid is always the pid of the tid in
 * the word (only a winner of the word's CAS writes its own pid, after the CAS, and clears it
 * before releasing; a taker of a dead owner's word clears it before its CAS). A waiter that
 * reads pid 0 (the word changed hands a moment ago, or the owner died between its CAS and its
 * pid store) asks whether the tid exists in any process (tkill) instead — weaker against TID
 * reuse, never wrong about a live owner.
 *
 * Limits: a dead owner's tid reused by a new thread of the same process (or, while the pid is
 * 0, of any process) before a waiter looks makes it look alive until that thread exits; Linux
 * hands out ids in increasing order up to pid_max before wrapping, so this needs pid_max new
 * threads between the death and the waiter's next check (one slice). All parties must share a
 * pid namespace.
 *
 * @module
 */

import { ContendedWait, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import { NotHeldError, NotRecoverableError, OwnerDiedError } from "./errors.ts";
import type { Futex, OwnerLiveness } from "./futex.ts";
import { spinBackoff } from "./spin.ts";

/** Bits 0–29: the owner's thread id. */
export const ROBUST_TID_MASK = 0x3fffffff;
/** Bit 30: the owner died holding the lock (FUTEX_OWNER_DIED). */
export const ROBUST_OWNER_DIED = 0x40000000;
/** Bit 31: sleepers may exist (FUTEX_WAITERS); as an Int32 value, negative. */
export const ROBUST_WAITERS = 0x80000000 | 0;
/** The word of a mutex whose owner died and was unlocked without markConsistent(). */
export const ROBUST_NOT_RECOVERABLE: number = ROBUST_TID_MASK;

/** What a robust mutex instance keeps: its two words and this thread's identity. */
export interface RobustState {
  /** [word, pid] */
  readonly view: Int32Array;
  readonly live: OwnerLiveness;
  readonly tid: number;
  readonly pid: number;
}

/** The refusal for futexes that cannot name OS threads. */
export function robustLiveness(where: string, futex: Futex): OwnerLiveness {
  if (typeof futex.ownerLiveness !== "function") {
    throw new TypeError(
      `${where}: { robust: true } needs a native futex (nativeFutex() or a shared region's futex from @futex/sync/deno or /bun): ` +
        `the ${futex.name} futex cannot name the OS thread that holds the lock, so it cannot tell a dead holder from a slow one`,
    );
  }
  const live = futex.ownerLiveness();
  if (!(live.tid > 0 && live.tid < ROBUST_TID_MASK)) {
    throw new RangeError(`${where}: this thread's id ${live.tid} does not fit the robust word's 30 tid bits`);
  }
  return live;
}

/** The two-word view of a robust mutex at `view`'s position. */
export function robustState(view: Int32Array, live: OwnerLiveness): RobustState {
  return { view: new Int32Array(view.buffer, view.byteOffset, 2), live, tid: live.tid, pid: live.pid };
}

function notRecoverable(where: string): NotRecoverableError {
  return new NotRecoverableError(
    `${where}: the mutex is not recoverable — a holder that took it from a dead owner unlocked it without markConsistent(), ` +
      "declaring the data it guards lost; re-create the mutex (and the data) to use it again",
  );
}

/** The OwnerDiedError a caller gets, holding the lock. */
export function ownerDied(where: string, pid: number, tid: number): OwnerDiedError {
  const who = tid === 0 ? "its previous holder" : `its previous holder (thread ${tid}${pid === 0 ? "" : ` of process ${pid}`})`;
  const e = new OwnerDiedError(
    `${where}: ${who} died holding the lock; this caller holds it now. Repair what it guards, then call markConsistent() ` +
      "and unlock() — an unlock() without markConsistent() makes the mutex unrecoverable everywhere",
  );
  e.ownerPid = pid;
  e.ownerTid = tid;
  return e;
}

/**
 * The word `w` (held by a tid) belongs to a dead owner? Asked with the recorded pid; when the
 * pid is 0 (not recorded) the tid is looked up in every process.
 */
function ownerGone(s: RobustState, tid: number): boolean {
  return !s.live.isAlive(Atomics.load(s.view, 1), tid);
}

/**
 * Take the word `w` of a dead owner: pid := 0, CAS w → ours | OWNER_DIED | WAITERS bits.
 * Returns the word's value before the CAS (=== w when taken).
 */
function takeDead(s: RobustState, w: number, extra: number): number {
  const view = s.view;
  Atomics.store(view, 1, 0);
  const old = Atomics.compareExchange(view, 0, w, s.tid | ROBUST_OWNER_DIED | (w & ROBUST_WAITERS) | extra);
  if (old === w) Atomics.store(view, 1, s.pid);
  return old;
}

/** The contended robust lock loop (lock() and lockAsync() alike). */
export class RobustWait extends ContendedWait {
  /** Set when the lock was taken from a dead owner: the caller throws OwnerDiedError. */
  diedPid = 0;
  diedTid = -1;
  #checked = false;
  #lastSlept = 0;

  readonly s: RobustState;
  readonly futex: Futex;
  readonly where: string;

  constructor(s: RobustState, futex: Futex, where: string) {
    super();
    this.s = s;
    this.futex = futex;
    this.where = where;
    this.sliceMs = s.live.sliceMs;
  }

  /** Reset for reuse by a blocking lock(). */
  reset(spins: number): void {
    this.slept = false;
    this.spins = spins;
    this.diedTid = -1;
    this.#checked = false;
  }

  step(): number {
    const s = this.s;
    const view = s.view;
    let w = Atomics.load(view, 0);
    if (this.spins > 0 && !this.slept && w > 0 && w !== ROBUST_NOT_RECOVERABLE && (w & ROBUST_OWNER_DIED) === 0) {
      w = spinBackoff(view, 0, w, this.spins); // held, nobody announced: stop on any change
    }
    for (;;) {
      if (w === 0) {
        const old = Atomics.compareExchange(view, 0, 0, this.slept ? s.tid | ROBUST_WAITERS : s.tid);
        if (old === 0) {
          Atomics.store(view, 1, s.pid);
          return STEP_TRUE;
        }
        w = old;
        continue;
      }
      const tid = w & ROBUST_TID_MASK;
      if (tid === ROBUST_NOT_RECOVERABLE) throw notRecoverable(this.where);
      // Ask about the owner before the first sleep, and after a sleep that ended on the same word.
      if (tid === 0 || ((!this.#checked || w === this.#lastSlept) && this.#check(tid))) {
        const pid = tid === 0 ? 0 : Atomics.load(view, 1);
        const old = takeDead(s, w, this.slept ? ROBUST_WAITERS : 0);
        if (old === w) {
          this.diedPid = pid;
          this.diedTid = tid;
          return STEP_TRUE;
        }
        w = old;
        continue;
      }
      if ((w & ROBUST_WAITERS) === 0) {
        const old = Atomics.compareExchange(view, 0, w, w | ROBUST_WAITERS); // announce: unlock will wake
        if (old !== w) {
          w = old;
          continue;
        }
        w |= ROBUST_WAITERS;
      }
      this.expected = w;
      this.#lastSlept = w;
      return STEP_SLEEP;
    }
  }

  /** One liveness check: true when the owner `tid` is gone. */
  #check(tid: number): boolean {
    this.#checked = true;
    return ownerGone(this.s, tid);
  }

  giveUp(): void {
    // We may have consumed an unlock's wake. With WAITERS set the holder's unlock wakes again;
    // otherwise (free, or taken by a fast-path locker whose unlock will not wake) pass it on.
    if ((Atomics.load(this.s.view, 0) & ROBUST_WAITERS) === 0) this.futex.wakeOne(this.s.view, 0);
  }
}

/**
 * tryLock's slow half (the CAS 0 → tid failed): false if held by a live owner or not
 * recoverable; takes a dead owner's lock and returns its [pid, tid] (the caller throws
 * OwnerDiedError). One liveness check, no wait.
 */
export function robustTryTakeDead(s: RobustState): [number, number] | undefined {
  const view = s.view;
  for (;;) {
    const w = Atomics.load(view, 0);
    if (w === 0) {
      if (Atomics.compareExchange(view, 0, 0, s.tid) === 0) {
        Atomics.store(view, 1, s.pid);
        return [-1, -1];
      }
      continue;
    }
    const tid = w & ROBUST_TID_MASK;
    if (tid === ROBUST_NOT_RECOVERABLE) return undefined;
    const pid = tid === 0 ? 0 : Atomics.load(view, 1);
    if (tid !== 0 && !ownerGone(s, tid)) return undefined;
    if (takeDead(s, w, 0) === w) return [pid, tid];
  }
}

/** Whether the word says the mutex is not recoverable. */
export function isNotRecoverable(s: RobustState): boolean {
  return Atomics.load(s.view, 0) === ROBUST_NOT_RECOVERABLE;
}

/** Throw NotRecoverableError (lock() on a not-recoverable mutex, fast check). */
export function throwNotRecoverable(where: string): never {
  throw notRecoverable(where);
}

/**
 * Release: returns normally, having released; with OWNER_DIED still set the word becomes
 * NOT_RECOVERABLE and every sleeper is woken to see it.
 */
export function robustUnlock(s: RobustState, futex: Futex, where: string): void {
  const view = s.view;
  view[1] = 0; // before the release: a nonzero pid always belongs to the tid in the word
  const old = Atomics.compareExchange(view, 0, s.tid, 0);
  if (old === s.tid) return; // no flag set: nobody sleeps, no futex call
  if ((old & ROBUST_TID_MASK) !== s.tid) {
    throw new NotHeldError(
      old === 0
        ? `${where}: the word was already 0 (unlocked elsewhere while this instance held it)`
        : `${where}: the word names thread ${old & ROBUST_TID_MASK}, not this thread (${s.tid}): something else wrote it, ` +
          "or a waiter wrongly took this thread for dead",
    );
  }
  if ((old & ROBUST_OWNER_DIED) !== 0) { // unlocked without markConsistent(): the data is declared lost
    Atomics.store(view, 0, ROBUST_NOT_RECOVERABLE);
    futex.wakeAll(view, 0);
    return;
  }
  Atomics.store(view, 0, 0); // WAITERS: only we change the tid bits, lockers only add WAITERS
  futex.wakeOne(view, 0);
}

/** Clear OWNER_DIED on a word this thread holds; false if it was not set. */
export function robustMarkConsistent(s: RobustState): boolean {
  const view = s.view;
  let w = Atomics.load(view, 0);
  for (;;) {
    if ((w & ROBUST_OWNER_DIED) === 0) return false;
    const old = Atomics.compareExchange(view, 0, w, w & ~ROBUST_OWNER_DIED);
    if (old === w) return true;
    w = old;
  }
}
