/*
 * ManualResetEvent (core/event.ts), 3 threads, spurious wakes. Two scenarios:
 *   default    QEMU's RCU idiom (S7): one waiter loops "while !all_done { reset; if !all_done
 *              wait }", two setters each publish their flag and set.
 *   BROADCAST  two waiters wait for one setter that resets, then sets (S3 + S4). The second
 *              waiter is an async waiter (waitAsync, which may be aborted) on the SAME thread as
 *              the first, blocking one: the event allows a blocking wait beside a pending
 *              async wait of its thread, because set wakes everyone — the model shows it.
 * Checks: no lost wakeup (every thread ends: spin's invalid-end-state check), and a wait that
 * returns "set" really followed a set (sets > 0).
 * Mutants: RESET_STORE (reset as a plain store), WAKE_ONE (set wakes one), TRUST_WAKE (wait
 * returns after a futex wait without re-checking the word), SET_LOAD_STORE (set's exchange
 * done as a load then a store: a waiter's announce between them is overwritten unwoken),
 * SET_WAKE_FIRST (set wakes the BUSY sleepers, then stores SET: the woken re-check finds BUSY
 * and sleeps again), ANNOUNCE_STORE (the wait's CAS FREE→BUSY as a store: it overwrites a SET
 * stored since the load).
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
#ifdef SET_WAKE_FIRST
     /* the wake before the store: a load, wake if BUSY, then the exchange */
     if :: ev == BUSY -> wake_all() :: else -> skip fi;
     atomic { ev = SET; sets++ }
#else
#ifdef SET_LOAD_STORE
     old = ev;                                       /* Atomics.load ... */
     atomic { ev = SET; sets++ };                    /* ... then Atomics.store */
#else
     atomic { old = ev; ev = SET; sets++ };          /* Atomics.exchange */
#endif
     if
     :: old == BUSY ->
#ifdef WAKE_ONE
        wake_one()
#else
        wake_all()
#endif
     :: else -> skip
     fi
#endif
  :: else -> skip
  fi
}

/* EventWait.step: res 1 = saw SET, 2 = sleep while ev == BUSY. */
inline ev_step(res, slept) {
  byte v;
  res = 0;
#ifdef TRUST_WAKE
  if :: slept -> res = 1 :: else -> skip fi;
#endif
  v = ev;
  do
  :: res != 0 -> break
  :: res == 0 && v == SET -> res = 1
  :: res == 0 && v == FREE ->
#ifdef ANNOUNCE_STORE
     v = FREE; ev = BUSY;                   /* a plain store of BUSY after the load saw FREE */
#else
     atomic { v = ev; if :: ev == FREE -> ev = BUSY :: else -> skip fi };   /* CAS, v = old */
#endif
     if :: v == FREE -> res = 2 :: else -> skip fi                          /* else re-decide on old */
  :: res == 0 && v == BUSY -> res = 2
  od
}

inline ev_wait() {
  byte res;
  bool slept;
  do
  :: ev_step(res, slept);
     if
     :: res == 1 -> break
     :: else -> futex_wait(ev, BUSY); slept = 1
     fi
  od;
  assert(sets > 0)   /* "set" is only ever reported after a set */
}

/* runAsync on thread t (entered holding it); an abort leaves, the event passes no baton. */
inline ev_wait_async(t, aborted, orphaned) {
  byte res;
  bool slept;
  asyncWaits[t]++;
  do
  :: ev_step(res, slept);
     if
     :: res == 1 -> assert(sets > 0); break
     :: else ->
        futex_wait_async(ev, BUSY, t, 1, aborted, orphaned);
        slept = 1;
        if :: aborted -> break :: else -> skip fi
     fi
  od;
  asyncWaits[t]--
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
active proctype blocking_waiter() {   /* thread 0 */
  thread_run(0);
  ev_wait();
  thread_free(0)
}

active proctype async_waiter() {      /* thread 0 too */
  bool aborted, orphaned;
  thread_run(0);
  ev_wait_async(0, aborted, orphaned);
  thread_free(0);
  orphan_forward(0, orphaned)
}

active proctype setter() {            /* thread 1 */
  ev_reset();   /* S4: a reset while waiters may sleep (BUSY) must not drop them */
  ev_set()
}
#endif
