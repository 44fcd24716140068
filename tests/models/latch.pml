/*
 * Latch (core/latch.ts): count in bits 0–6, WAITERS bit 7 (bit 31 in the real word).
 *   p0  thread 0  blocking wait(), untimed
 *   p1  thread 1  waitAsync(), abortable (an aborted waiter passes nothing on)
 *   p2  thread 2  countDown(); countDown()   (the latch starts at 2)
 * (A timed blocking waiter gives up like the aborted one: nothing to pass on. A third waiter
 * multiplies the states by ~20 and adds no case: the opening wake is one broadcast.)
 * Spurious wakes allowed. Checks: a wait that returns true saw the latch open (both counts
 * done); the word never holds WAITERS|0; no lost wakeup (every waiter ends).
 * Mutants: WAKE_ONE (the opening countDown wakes one: with two sleepers, one sleeps on),
 * NO_MARK (a waiter sleeps without setting WAITERS: the opening countDown wakes nobody),
 * COUNT_LOAD_STORE (countDown's CAS as a load and a store: an announce between them is
 * overwritten and not woken), COUNT_WAKE_FIRST (the opening countDown wakes, then stores 0:
 * the woken waiters re-check and sleep again), MARK_STORE (the waiter's announce CAS as a
 * store: it puts back a count a countDown has taken since the load).
 */
#include "futex.pml"

#define WBIT 128
#define CMASK 127

byte latch = 2;
byte downs = 0;   /* ghost: countDowns done */

inline count_down() {
  byte v, s, nx;
  v = latch;
#ifdef COUNT_LOAD_STORE
  /* the CAS loop as a load (above) and a plain store of the value computed from it */
  if :: (v & CMASK) == 1 -> nx = 0 :: else -> nx = v - 1 fi;
  atomic { latch = nx; downs++ };
#else
#ifdef COUNT_WAKE_FIRST
  /* the wake before the store: wake if the loaded word says waiters and this opens, then CAS */
  if :: (v & WBIT) && (v & CMASK) == 1 -> wake_all() :: else -> skip fi;
#endif
  do
  :: atomic { s = latch; if :: latch == v -> if :: (v & CMASK) == 1 -> nx = 0 :: else -> nx = v - 1 fi; latch = nx; downs++ :: else -> skip fi };
     if :: s == v -> break :: else -> v = s fi
  od;
#endif
  if
#ifdef COUNT_WAKE_FIRST
  :: false ->
#else
  :: (v & WBIT) && (v & CMASK) == 1 ->
#endif
#ifdef WAKE_ONE
     wake_one()
#else
     wake_all()
#endif
  :: else -> skip
  fi
}

/* LatchWait.step: res 1 = open, 2 = sleep while latch == exp_v. */
inline latch_step(res, exp_v) {
  byte v, s;
  v = latch;
  do
  :: v == 0 -> res = 1; break
  :: v != 0 ->
     assert(v != WBIT);
#ifdef NO_MARK
     exp_v = v; res = 2; break
#else
     if
     :: (v & WBIT) -> exp_v = v; res = 2; break
     :: else ->
#ifdef MARK_STORE
        latch = v | WBIT;                          /* the announce CAS as a plain store */
        exp_v = v | WBIT; res = 2; break
#else
        atomic { s = latch; if :: latch == v -> latch = v | WBIT :: else -> skip fi };
        if :: s == v -> exp_v = v | WBIT; res = 2; break :: else -> v = s fi
#endif
     fi
#endif
  od
}

inline waiter(t, async) {
  byte res, exp_v;
  bool got, exp, aborted, orphaned;
  thread_run(t);
  if :: async -> asyncWaits[t]++ :: else -> skip fi;
  do
  :: latch_step(res, exp_v);
     if
     :: res == 1 -> got = 1; break
     :: else ->
        if
        :: async ->
           futex_wait_async(latch, exp_v, t, 1, aborted, orphaned);
           if :: aborted -> break :: else -> skip fi
        :: else ->
           deadline_passed(exp);
           if :: exp -> break :: else -> futex_wait(latch, exp_v) fi
        fi
     fi
  od;
  if :: async -> asyncWaits[t]-- :: else -> skip fi;
  if :: got -> assert(downs == 2 && latch == 0) :: else -> skip fi;
  thread_free(t);
  orphan_forward(t, orphaned)
}

active proctype p0() { waiter(0, 0) }
active proctype p1() { waiter(1, 1) }
active proctype p2() {
  count_down();
  count_down();
  assert(latch == 0)
}
