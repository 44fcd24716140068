/*
 * Semaphore (core/semaphore.ts): one byte here — count in bits 0–6, WAITERS in bit 7.
 * Thread 0 acquires with a timeout, thread 1 acquires untimed, thread 2 releases, tries to take
 * a permit (tryAcquire, never sleeps) and releases twice more, so every acquirer can always be
 * served. Spurious wakes allowed.
 * Checks: no lost wakeup (every thread ends), count never exceeds what was released.
 * Mutants: NO_MARK (acquire sleeps without setting WAITERS), NO_SURPLUS (no extra wake when
 * permits remain behind WAITERS), NO_BATON (a timed-out acquirer that slept leaves silently).
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
     atomic { ts = sem; if :: sem == tv -> sem = tv - 1 :: else -> skip fi };
     if :: ts == tv -> took(tv - 1); got = 1; break :: else -> tv = ts fi
  :: else -> break
  od
}

inline sem_acquire(got) {
  byte v, s, want;
  bool slept, exp;
  slept = 0;
  got = 0;
  v = sem;
  do
  :: (v & CMASK) > 0 ->
     if :: slept -> want = ((v & CMASK) - 1) | WBIT :: else -> want = v - 1 fi;
     atomic { s = sem; if :: sem == v -> sem = want :: else -> skip fi };
     if :: s == v -> took(want); got = 1; break :: else -> v = s fi
  :: else ->
     deadline_passed(exp);
     if
     :: exp ->
#ifndef NO_BATON
        if :: slept -> wake_one() :: else -> skip fi;
#endif
        break
     :: else ->
#ifdef NO_MARK
        futex_wait(sem, v); slept = 1; v = sem
#else
        if
        :: v != WBIT ->
           atomic { s = sem; if :: sem == v -> sem = WBIT :: else -> skip fi };
           if :: s == v -> futex_wait(sem, WBIT); slept = 1; v = sem :: else -> v = s fi
        :: else -> futex_wait(sem, WBIT); slept = 1; v = sem
        fi
#endif
     fi
  od
}

inline sem_release() {
  byte v, s;
  v = sem;
  do
  :: atomic { s = sem; if :: sem == v -> sem = (v & CMASK) + 1 :: else -> skip fi };
     if :: s == v -> break :: else -> v = s fi
  od;
  if :: (v & WBIT) -> wake_one() :: else -> skip fi
}

active [2] proctype acquirer() {
  bool got;
  if :: _pid == 0 -> timeouts[_pid] = 1 :: else -> skip fi;
  sem_acquire(got);
  assert(got || _pid == 0)
}

active proctype releaser() {
  bool got;
  sem_release();
  sem_try(got);
  sem_release();
  sem_release();
  assert((sem & CMASK) <= 3)
}
