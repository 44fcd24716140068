/*
 * AutoResetEvent (core/autoreset.ts): P (sets not yet taken) in bits 0–3, W (announced
 * waiters) in bits 4–6 (bits 0–15 / 16–30 in the real word). Invariant P ≤ W + 1.
 *   p0  thread 0  blocking wait() with a timeout; after a give-up it waits again, untimed
 *   p1  thread 1  waitAsync(), abortable; an aborted waiter leaves (its registration an orphan)
 *   p2  thread 2  the setter: until every waiter has passed or left, whenever the event is
 *                 not set (P ≤ W), set()
 * Each waiter passes once (p1 may leave instead). (A third waiter, untimed, makes the search
 * too large for the suite — over 10⁷ states — without adding a case the two do not reach.) Spurious wakes allowed. Checks: passes never exceed
 * effective sets (a set releases one waiter, never two); P ≤ W + 1 always; no lost wakeup:
 * a sleeper whose set exists is woken (else the setter, seeing the event set, waits for a
 * taker that never comes — every process blocked: an invalid end state).
 * Mutants: SET_NO_WAKE (a set wakes nobody), NO_BATON (a give-up withdraws without passing
 * on the wake it may have consumed), NO_WITHDRAW (a give-up leaves its announcement: a
 * phantom waiter keeps later sets spoken for). Ordering mutants: SET_LOAD_STORE (set's CAS as a
 * store of load + 1), SET_WAKE_FIRST (set wakes, then adds its P), TAKE_LOAD_STORE (the waiter's
 * take CAS as a store), ANNOUNCE_STORE (the waiter's announce CAS as a store). GIVEUP_WAKE_FIRST
 * (a give-up wakes, then withdraws) is accepted by spin and is harmless: the wake is sent only
 * when P > 0, which the withdrawing CAS keeps, so the woken waiter takes a set whichever side of
 * the CAS it looks.
 */
#include "futex.pml"

#define PM 15
#define WONE 16

byte ev = 0;
byte passes = 0;   /* ghost */
byte sets = 0;     /* ghost: sets that returned true */
byte left = 0;     /* ghost: waiters that left without passing (aborted) */
byte real = 0;     /* ghost: waiters really announced (the phantom check of NO_WITHDRAW) */

inline ev_set() {
  byte v, s;
  v = ev;
  do
  :: (v & PM) > (v >> 4) -> break                 /* already set: returns false */
  :: else ->
#ifdef SET_WAKE_FIRST
     if :: (v & PM) < (v >> 4) -> wake_one() :: else -> skip fi;   /* the wake before the CAS */
#endif
#ifdef SET_LOAD_STORE
     atomic { s = v; ev = v + 1; sets++; assert((ev & PM) <= real + 1) };   /* a plain store of load + 1 */
#else
     atomic { s = ev; if :: ev == v -> ev = v + 1; sets++; assert((ev & PM) <= real + 1) :: else -> skip fi };   /* sets never outnumber real waiters + 1 */
#endif
     if
     :: s == v ->
#if !defined(SET_NO_WAKE) && !defined(SET_WAKE_FIRST)
        if :: (v & PM) < (v >> 4) -> wake_one() :: else -> skip fi;
#endif
        break
     :: else -> v = s
     fi
  od;
  v = 0; s = 0   /* temporaries cleared: stale values would only multiply the states */
}

/* AutoResetWait.step: res 1 = took a set, 2 = sleep while ev == exp_v. */
inline ev_step(res, exp_v, announced) {
  byte v, s;
  v = ev;
  do
  :: assert((v & PM) <= (v >> 4) + 1);
     if
     :: (v & PM) > 0 ->
#ifdef TAKE_LOAD_STORE
        atomic { s = v; ev = v - 1 - (announced -> WONE : 0); if :: announced -> real-- :: else -> skip fi };   /* a plain store */
#else
        atomic { s = ev; if :: ev == v -> ev = v - 1 - (announced -> WONE : 0); if :: announced -> real-- :: else -> skip fi :: else -> skip fi };
#endif
        if :: s == v -> announced = 0; res = 1; break :: else -> v = s fi
     :: else ->
        if
        :: !announced ->
#ifdef ANNOUNCE_STORE
           atomic { s = v; ev = v + WONE; real++ };   /* a plain store */
#else
           atomic { s = ev; if :: ev == v -> ev = v + WONE; real++ :: else -> skip fi };
#endif
           if :: s == v -> announced = 1; exp_v = v + WONE; res = 2; break :: else -> v = s fi
        :: else -> exp_v = v; res = 2; break
        fi
     fi
  od;
  v = 0; s = 0
}

/* AutoResetWait.giveUp: withdraw (clamp P to the new W + 1); pass on a wake if sets remain for sleepers. */
inline give_up(announced) {
  byte gv, gs, gw, gp;
  if
  :: announced ->
#ifndef NO_WITHDRAW
     gv = ev;
     do
     :: gw = (gv >> 4) - 1;
        gp = gv & PM;
        if :: gp > gw + 1 -> gp = gw + 1 :: else -> skip fi;
#ifdef GIVEUP_WAKE_FIRST
        if :: gp > 0 && gw > 0 -> wake_one() :: else -> skip fi;   /* the wake before the withdrawing CAS */
#endif
        atomic { gs = ev; if :: ev == gv -> ev = gw * WONE + gp; real-- :: else -> skip fi };
        if
        :: gs == gv ->
#if !defined(NO_BATON) && !defined(GIVEUP_WAKE_FIRST)
           if :: gp > 0 && gw > 0 -> wake_one() :: else -> skip fi;
#endif
           break
        :: else -> gv = gs
        fi
     od;
     gv = 0; gs = 0; gw = 0; gp = 0;
#else
     real--;
#endif
     announced = 0
  :: else -> skip
  fi
}

inline pass() {
  atomic { passes++; assert(passes <= sets) }
}

inline waiter(t, async, timed) {
  byte res, exp_v;
  bool announced, exp, aborted, orphaned, done;
  thread_run(t);
  if :: async -> asyncWaits[t]++ :: else -> skip fi;
  do
  :: done -> break
  :: else ->
     ev_step(res, exp_v, announced);
     if
     :: res == 1 -> pass(); done = 1; exp_v = 0
     :: else ->
        if
        :: async ->
           futex_wait_async(ev, exp_v, t, 1, aborted, orphaned);
           if :: aborted -> give_up(announced); left++; break :: else -> skip fi
        :: else ->
           if :: timed -> deadline_passed(exp) :: else -> exp = 0 fi;
           if :: exp -> give_up(announced); expired[_pid] = 0; timed = 0 :: else -> futex_wait(ev, exp_v) fi
        fi
     fi
  od;
  if :: async -> asyncWaits[t]-- :: else -> skip fi;
  thread_free(t);
  orphan_forward(t, orphaned)
}

active proctype p0() { bool timed = 1; timeouts[_pid] = 1; waiter(0, 0, timed) }
active proctype p1() { bool timed = 0; waiter(1, 1, timed) }
active proctype p2() {
  do
  :: passes + left == 2 -> break
  :: atomic { passes + left < 2 && (ev & PM) <= (ev >> 4) } -> ev_set()
  od
}
