/*
 * Semaphore (core/semaphore.ts): one byte here — count in bits 0–6, WAITERS in bit 7. One step
 * (SemaphoreWait.step) driven by a blocking and an async driver (core/contended.ts):
 *   p0  thread 0  blocking acquire with a timeout (may give up after sleeping)
 *   p1  thread 1  blocking acquire, untimed — on the same thread as p3, so it meets the
 *                 per-thread rule (DeadlockError) while p3's async wait is pending
 *   p2  thread 2  three releases: every acquirer can be served
 *   p3  thread 1  acquireAsync that may be aborted (asleep: an orphan; woken: it took a wake)
 * Spurious wakes allowed. Checks: no lost wakeup (every process ends, orphans excepted), the
 * count never exceeds what was released.
 * Mutants: NO_MARK (acquire sleeps without setting WAITERS), NO_SURPLUS (no extra wake when
 * permits remain behind WAITERS), NO_BATON (a give-up passes no wake), NO_REMARK (a woken
 * acquirer takes its permit without re-marking WAITERS — the lost wakeup once planted in
 * acquireAsync), NO_ASYNC_RULE, ORPHAN_NO_FORWARD (see futex.pml). Ordering mutants, each an
 * RMW made a load and a store or a wake moved before its store: RELEASE_STORE (release's CAS as
 * a store: an announce or a take between is overwritten), RELEASE_WAKE_FIRST (release wakes,
 * then adds the permit: the woken acquirer finds none and sleeps again), TAKE_STORE (the step's
 * take CAS as a store), TRY_TAKE_STORE (tryAcquire's CAS as a store), ANNOUNCE_STORE (the
 * WAITERS announce CAS as a store: it overwrites a released permit).
 */
#include "futex.pml"

#define WBIT 128
#define CMASK 127

byte sem = 0;

inline took(now) {
#ifndef NO_SURPLUS
  if :: (now & WBIT) && (now & CMASK) > 0 -> wake_one() :: else -> skip fi
#else
  skip
#endif
}

inline sem_try(got) {   /* tryAcquire: CAS loop while permits remain, never sleeps */
  byte tv, ts;
  got = 0;
  tv = sem;
  do
  :: (tv & CMASK) > 0 ->
#ifdef TRY_TAKE_STORE
     atomic { ts = tv; sem = tv - 1 };    /* tryAcquire's CAS as a plain store */
#else
     atomic { ts = sem; if :: sem == tv -> sem = tv - 1 :: else -> skip fi };
#endif
     if :: ts == tv -> took(tv - 1); got = 1; break :: else -> tv = ts fi
  :: else -> break
  od
}

/* SemaphoreWait.step: res 1 = took a permit, 2 = sleep while sem == WBIT. */
inline sem_step(res, slept) {
  byte v, s, want;
  res = 0;
  v = sem;
  do
  :: res != 0 -> break
  :: res == 0 && (v & CMASK) > 0 ->
#ifdef NO_REMARK
     want = v - 1;
#else
     if :: slept -> want = ((v & CMASK) - 1) | WBIT :: else -> want = v - 1 fi;
#endif
#ifdef TAKE_STORE
     atomic { s = v; sem = want };         /* the CAS as a plain store */
#else
     atomic { s = sem; if :: sem == v -> sem = want :: else -> skip fi };
#endif
     if :: s == v -> took(want); res = 1 :: else -> v = s fi
  :: res == 0 && (v & CMASK) == 0 ->
#ifdef NO_MARK
     res = 2
#else
     if
     :: v != WBIT ->
#ifdef ANNOUNCE_STORE
        atomic { s = v; sem = WBIT };      /* the announce CAS as a plain store */
#else
        atomic { s = sem; if :: sem == v -> sem = WBIT :: else -> skip fi };
#endif
        if :: s == v -> res = 2 :: else -> v = s fi
     :: else -> res = 2
     fi
#endif
  od
}

/* SemaphoreWait.giveUp: pass on a wake unless the word says the next release will wake. */
inline give_up() {
#ifndef NO_BATON
  if :: sem != WBIT -> wake_one() :: else -> skip fi
#else
  skip
#endif
}

#ifdef NO_MARK
#define SLEEP_ON sem_seen
#else
#define SLEEP_ON WBIT
#endif

inline acquire_blocking(got, refused, t) {
  bool slept, exp;
  byte res, sem_seen;
  sem_try(got);
  do
  :: got -> break
  :: !got ->
     sem_seen = sem;
     sem_step(res, slept);
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
           futex_wait_on(sem, SLEEP_ON, t); slept = 1
        fi
     fi
  od
}

inline acquire_async(got, aborted, orphaned, t, abortable) {
  bool slept;
  byte res, sem_seen;
  sem_try(got);
  if
  :: !got ->
     asyncWaits[t]++;
     do
     :: got -> break
     :: !got ->
        sem_seen = sem;
        sem_step(res, slept);
        if
        :: res == 1 -> got = 1
        :: else ->
           futex_wait_async(sem, SLEEP_ON, t, abortable, aborted, orphaned);
           slept = 1;
           if :: aborted -> give_up(); break :: else -> skip fi
        fi
     od;
     asyncWaits[t]--
  :: else -> skip
  fi
}

inline sem_release() {
  byte v, s;
  v = sem;
#ifdef RELEASE_WAKE_FIRST
  if :: (v & WBIT) -> wake_one() :: else -> skip fi;   /* the wake before the CAS */
#endif
#ifdef RELEASE_STORE
  sem = (v & CMASK) + 1;                              /* the CAS as a plain store of load + 1 */
#else
  do
  :: atomic { s = sem; if :: sem == v -> sem = (v & CMASK) + 1 :: else -> skip fi };
     if :: s == v -> break :: else -> v = s fi
  od;
#endif
#ifndef RELEASE_WAKE_FIRST
  if :: (v & WBIT) -> wake_one() :: else -> skip fi
#endif
}

active proctype p0() {
  bool got, refused;
  timeouts[_pid] = 1;
  thread_run(0);
  acquire_blocking(got, refused, 0);
  thread_free(0)
}

active proctype p1() {
  bool got, refused;
  thread_run(1);
  acquire_blocking(got, refused, 1);
  assert(got || refused);
  thread_free(1)
}

active proctype p2() {
  bool got;
  thread_run(2);
  sem_release();
  sem_release();
  sem_release();
  assert((sem & CMASK) <= 3);
  thread_free(2)
}

active proctype p3() {
  bool got, aborted, orphaned;
  thread_run(1);
  acquire_async(got, aborted, orphaned, 1, 1);
  assert(got || aborted);
  thread_free(1);
  orphan_forward(1, orphaned)
}
