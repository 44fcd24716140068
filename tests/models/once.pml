/*
 * Once (core/once.ts) = Rust std's futex Once, a throwing fn back to INCOMPLETE:
 *   p0  thread 0  blocking run(): a caller whose fn throws retries, as the scenarios' callers do
 *   p1  thread 1  blocking run()
 *   p2  thread 2  runAsync() whose wait may be aborted (it then leaves without running fn)
 * fn may throw once (FAILS): the runner stores INCOMPLETE and wakes all; someone runs it again.
 * Spurious wakes allowed. Checks: fn completes at most once; a caller that returns "complete"
 * (ran fn, or saw COMPLETE) sees fn's write (inited); no lost wakeup (every caller ends).
 * Mutants: COMPLETE_EARLY (COMPLETE stored before fn ends: a waiter returns to a half-done
 * world), NO_WAKE (the runner's end never wakes: queued callers sleep for ever),
 * FINISH_LOAD_STORE (the runner's exchange as a load and a store: a QUEUED announced between
 * is overwritten unwoken), FINISH_WAKE_FIRST (the runner wakes, then exchanges: the woken
 * re-check finds QUEUED and sleeps again), CLAIM_LOAD_STORE (the CAS INCOMPLETE → RUNNING as a
 * store: two runners), QUEUE_STORE (the CAS RUNNING → QUEUED as a store: it overwrites COMPLETE).
 */
#include "futex.pml"

#ifndef FAILS
#define FAILS 1
#endif

#define INCOMPLETE 0
#define RUNNING 1
#define QUEUED 2
#define COMPLETE 3

byte once = INCOMPLETE;
bool inited = 0;       /* ghost: fn's write */
byte completions = 0;  /* ghost: fns that completed */
byte fails = FAILS;

/* The runner's end: publish st, wake all if queued. */
inline finish(st) {
#ifdef FINISH_WAKE_FIRST
  if :: once == QUEUED -> wake_all() :: else -> skip fi;   /* the wake before the exchange */
  atomic { old = once; once = st }
#else
#ifdef FINISH_LOAD_STORE
  old = once;                                   /* the exchange as a load ... */
  once = st;                                    /* ... and a store */
#else
  atomic { old = once; once = st };
#endif
  assert(old == RUNNING || old == QUEUED);
#ifndef NO_WAKE
  if :: old == QUEUED -> wake_all() :: else -> skip fi
#endif
#endif
}

/* fn: throws (ok = 0) while the failure budget lasts, else writes and completes. */
inline run_fn(ok) {
  if
  :: fails > 0 -> fails--; ok = 0
  :: true -> inited = 1; completions++; assert(completions == 1); ok = 1
  fi
}

/* OnceWait.step: res 1 = COMPLETE, 2 = this caller won 0 → RUNNING, 3 = sleep while QUEUED. */
inline once_step(res) {
  v = once;
  do
  :: v == COMPLETE -> res = 1; break
  :: v == INCOMPLETE ->
#ifdef CLAIM_LOAD_STORE
     atomic { s = v; once = RUNNING };          /* the CAS 0 → RUNNING as a store after the load */
#else
     atomic { s = once; if :: once == INCOMPLETE -> once = RUNNING :: else -> skip fi };
#endif
     if :: s == INCOMPLETE -> res = 2; break :: else -> v = s fi
  :: v == RUNNING ->
#ifdef QUEUE_STORE
     atomic { s = v; once = QUEUED };           /* the CAS RUNNING → QUEUED as a store after the load */
#else
     atomic { s = once; if :: once == RUNNING -> once = QUEUED :: else -> skip fi };
#endif
     if :: s == RUNNING -> res = 3; break :: else -> v = s fi
  :: v == QUEUED -> res = 3; break
  od
}

/* The winner runs fn: returns done = 1 on success (COMPLETE published), 0 after a throw. */
inline run_winner(done) {
#ifdef COMPLETE_EARLY
  finish(COMPLETE);
  run_fn(ok);
  if :: !ok -> inited = 1; completions++ :: else -> skip fi;  /* (the early COMPLETE cannot be taken back) */
  done = 1
#else
  run_fn(ok);
  if :: ok -> finish(COMPLETE); done = 1 :: else -> finish(INCOMPLETE); done = 0 fi
#endif
}

inline caller(t, async) {
  byte res, v, s, old;
  bool ok, done, aborted, orphaned;
  thread_run(t);
  done = 0;
  if :: async -> asyncWaits[t]++ :: else -> skip fi;
  do
  :: done -> break
  :: aborted -> break
  :: !done && !aborted ->
     once_step(res);
     if
     :: res == 1 -> assert(inited); done = 1
     :: res == 2 -> run_winner(done)   /* after a throw the caller tries again: loop */
     :: res == 3 ->
        if
        :: async -> futex_wait_async(once, QUEUED, t, 1, aborted, orphaned)
        :: else -> futex_wait(once, QUEUED)
        fi
     fi
  od;
  if :: async -> asyncWaits[t]-- :: else -> skip fi;
  if :: done -> assert(inited) :: else -> skip fi;
  thread_free(t);
  orphan_forward(t, orphaned)
}

active proctype p0() { caller(0, 0) }
active proctype p1() { caller(1, 0) }
active proctype p2() { caller(2, 1) }
