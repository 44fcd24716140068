/*
 * ManualResetEvent (core/event.ts), 3 threads, spurious wakes. Two scenarios:
 *   default    QEMU's RCU idiom (S7): one waiter loops "while !all_done { reset; if !all_done
 *              wait }", two setters each publish their flag and set.
 *   BROADCAST  two waiters wait for one setter that resets, then sets (S3 + S4).
 * Checks: no lost wakeup (every thread ends: spin's invalid-end-state check), and a wait that
 * returns "set" really followed a set (sets > 0).
 * Mutants: RESET_STORE (reset as a plain store), WAKE_ONE (set wakes one), TRUST_WAKE (wait
 * returns after a futex wait without re-checking the word).
 * (A reset by one waiter may cancel a set for another — manual-reset semantics, QEMU §1.6 — so
 * the resetting idiom has one waiter, as in QEMU's RCU.)
 */
#include "futex.pml"

#define SET  0
#define FREE 1
#define BUSY 2   /* -1 in the real word; any distinct value works for the model */

byte ev = FREE;
byte published = 0;   /* setters that have published */
byte sets = 0;   /* set() calls that stored SET */

inline ev_reset() {
#ifdef RESET_STORE
  ev = FREE;
#else
  atomic { if :: ev == SET -> ev = FREE :: else -> skip fi }   /* Atomics.or(w, 1) */
#endif
}

inline ev_set() {
  byte old;
  if
  :: ev != SET ->                                   /* SC peek */
     atomic { old = ev; ev = SET; sets++ };          /* Atomics.exchange */
     if
     :: old == BUSY ->
#ifdef WAKE_ONE
        wake_one()
#else
        wake_all()
#endif
     :: else -> skip
     fi
  :: else -> skip
  fi
}

inline ev_wait() {
  byte v;
  v = ev;
  do
  :: v == SET -> break
  :: else ->
     if
     :: v == FREE ->
        atomic { v = ev; if :: ev == FREE -> ev = BUSY :: else -> skip fi };   /* CAS, v = old */
        if :: v == SET -> break :: else -> skip fi
     :: else -> skip
     fi;
     futex_wait(ev, BUSY);
#ifdef TRUST_WAKE
     break;
#endif
     v = ev
  od;
  assert(sets > 0)   /* "set" is only ever reported after a set */
}

#ifndef BROADCAST
active proctype waiter() {
  do
  :: published == 2 -> break
  :: else ->
     ev_reset();
     if :: published != 2 -> ev_wait() :: else -> skip fi
  od
}

active [2] proctype setter() {
  atomic { published++ };
  ev_set()
}
#else
active [2] proctype waiter() {
  ev_wait()
}

active proctype setter() {
  ev_reset();   /* S4: a reset while waiters may sleep (BUSY) must not drop them */
  ev_set()
}
#endif
