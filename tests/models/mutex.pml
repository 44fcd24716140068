/*
 * Mutex (core/mutex.ts): 0 unlocked / 1 locked / 2 contended. One step (MutexWait.step) driven
 * by a blocking and an async driver (core/contended.ts). Four processes on three JS threads:
 *   p0  thread 0  blocking lock, untimed
 *   p1  thread 1  blocking lock with a timeout (may give up after sleeping) — on the same thread
 *                 as p3, so it meets the per-thread rule when p3's async wait is pending
 *   p2  thread 2  lockAsync that may be aborted (asleep: it leaves an orphan; woken: it took a wake)
 *   p3  thread 1  lockAsync, untimed
 * Spurious wakes allowed. Checks: mutual exclusion; no lost wakeup (every process ends, orphans
 * excepted); p0 and p3 always get the lock.
 * Mutants: UNLOCK_WAKE_ON_1 (unlock wakes when the state was 1, not 2), WOKEN_TAKES_1 (a
 * thread that slept acquires as 1), NO_BATON (a give-up passes no wake), NO_ASYNC_RULE (a
 * blocking wait beside its own thread's pending async wait is not refused: the wake may go to
 * the async waiter, which cannot run while its thread is blocked), ORPHAN_NO_FORWARD (an
 * aborted wait's orphan swallows a wake). Ordering mutants: UNLOCK_WAKE_FIRST (unlock wakes,
 * then stores 0: the woken locker finds 2 and sleeps again), UNLOCK_LOAD_STORE (unlock's CAS
 * 1→0 as a load and a store: an announce of 2 between them is overwritten, unwoken),
 * LOCK_LOAD_STORE (the fast CAS 0→1 as a load and a store: two holders), CONTEND_STORE (the
 * step's CAS 0/1→2 as a store: it can take a lock another has taken since its load).
 */
#include "futex.pml"

byte m = 0;
byte in_cs = 0;

/* MutexWait.step: res 1 = got the lock, 2 = sleep while m == 2. */
inline mutex_step(res, slept) {
  byte s, s0;
  res = 0;
  s = m;
#ifdef WOKEN_TAKES_1
  if :: s == 0 ->
#else
  if :: s == 0 && !slept ->                /* nobody announced us yet: take it as 1 */
#endif
     atomic { s0 = m; if :: m == 0 -> m = 1 :: else -> skip fi };
     if :: s0 == 0 -> res = 1 :: else -> s = s0 fi
  :: else -> skip
  fi;
  do
  :: res != 0 -> break
  :: res == 0 && s == 2 -> res = 2
  :: res == 0 && s != 2 ->                 /* CAS the seen 0 or 1 into 2 */
#ifdef CONTEND_STORE
     atomic { s0 = s; m = 2 };              /* a plain store of 2 after the load saw s */
#else
     atomic { s0 = m; if :: m == s -> m = 2 :: else -> skip fi };
#endif
     if
     :: s0 == s && s == 0 -> res = 1
     :: s0 == s && s != 0 -> res = 2
     :: else -> s = s0
     fi
  od
}

/* MutexWait.giveUp: pass on a wake unless the word says the holder's unlock will wake. */
inline give_up() {
#ifndef NO_BATON
  if :: m != 2 -> wake_one() :: else -> skip fi
#else
  skip
#endif
}

inline fast_lock(got) {
  byte f;
#ifdef LOCK_LOAD_STORE
  f = m;                                   /* a load ... */
  if :: f == 0 -> m = 1 :: else -> skip fi;  /* ... then a store of 1 */
#else
  atomic { f = m; if :: m == 0 -> m = 1 :: else -> skip fi };
#endif
  got = (f == 0)
}

/* runBlocking; refused = DeadlockError (this thread has a pending async wait on the word). */
inline lock_blocking(got, refused, t) {
  bool slept, exp;
  byte res;
  fast_lock(got);
  do
  :: got -> break
  :: !got ->
     mutex_step(res, slept);
     if
     :: res == 1 -> got = 1
     :: else ->
        deadline_passed(exp);
        if
        :: exp -> if :: slept -> give_up() :: else -> skip fi; break
        :: else ->
#ifndef NO_ASYNC_RULE
           if :: asyncWaits[t] > 0 -> refused = 1; break :: else -> skip fi;
#endif
           futex_wait_on(m, 2, t); slept = 1
        fi
     fi
  od
}

/* runAsync, entered holding thread t; returns holding it (got or aborted). */
inline lock_async(got, aborted, orphaned, t, abortable) {
  bool slept;
  byte res;
  fast_lock(got);
  if
  :: !got ->
     asyncWaits[t]++;
     do
     :: got -> break
     :: !got ->
        mutex_step(res, slept);
        if
        :: res == 1 -> got = 1
        :: else ->
           futex_wait_async(m, 2, t, abortable, aborted, orphaned);
           slept = 1;
           if :: aborted -> give_up(); break :: else -> skip fi
        fi
     od;
     asyncWaits[t]--
  :: else -> skip
  fi
}

inline unlock() {
  byte old;
#ifdef UNLOCK_LOAD_STORE
  old = m;                                                             /* a load ... */
  if :: old == 1 -> m = 0 :: else -> skip fi;                          /* ... then a store of 0 */
#else
  atomic { old = m; if :: m == 1 -> m = 0 :: else -> skip fi };      /* CAS 1→0 */
#endif
  if
  :: old == 1 ->
#ifdef UNLOCK_WAKE_ON_1
     wake_one()
#else
     skip
#endif
  :: old == 2 ->
#ifdef UNLOCK_WAKE_FIRST
     wake_one();                            /* the wake before the store of 0 */
     m = 0
#else
     m = 0;
#ifndef UNLOCK_WAKE_ON_1
     wake_one()
#endif
#endif
  :: else -> assert(0)   /* unlocking an unlocked mutex */
  fi
}

inline section() {
  in_cs++;
  assert(in_cs == 1);
  in_cs--
}

inline blocking_body(t, timed) {
  bool got, refused;
  if :: timed -> timeouts[_pid] = 1 :: else -> skip fi;
  thread_run(t);
  lock_blocking(got, refused, t);
  if
  :: got -> section(); unlock()
  :: else -> assert(timed || refused)
  fi;
  thread_free(t)
}

inline async_body(t, abortable) {
  bool got, aborted, orphaned;
  thread_run(t);
  lock_async(got, aborted, orphaned, t, abortable);
  if
  :: got -> section(); unlock()
  :: else -> assert(aborted && abortable)
  fi;
  thread_free(t);
  orphan_forward(t, orphaned)
}

active proctype p0() { blocking_body(0, 0) }
active proctype p1() { blocking_body(1, 1) }
active proctype p2() { async_body(2, 1) }
active proctype p3() { async_body(1, 0) }
