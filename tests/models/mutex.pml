/*
 * Mutex (core/mutex.ts): 0 unlocked / 1 locked / 2 contended. Threads 0 and 1 lock untimed;
 * thread 2 locks with a timeout (it may give up after sleeping). Spurious wakes allowed.
 * Checks: mutual exclusion, no lost wakeup (every thread ends).
 * Mutants: UNLOCK_WAKE_ON_1 (unlock wakes when the state was 1, not 2), WOKEN_TAKES_1 (a
 * thread that slept acquires as 1, not re-marking contention).
 * NO_BATON (a timed-out waiter leaves without a wake) passes: a blocking lock gives up only
 * after a failed swap or on seeing 2, i.e. while someone holds the lock as CONTENDED, whose
 * unlock wakes again. The code keeps that wake anyway; it is needed on the async abort path,
 * which leaves without re-reading the word (tests/mutex.test.ts covers that case).
 */
#include "futex.pml"

byte m = 0;
byte in_cs = 0;

inline mutex_lock(got) {
  byte s;
  bool slept, exp;
  got = 0;
  slept = 0;
  atomic { s = m; if :: m == 0 -> m = 1 :: else -> skip fi };        /* CAS 0→1 */
  if
  :: s == 0 -> got = 1
  :: else ->
     do
     :: s != 2 ->
#ifdef WOKEN_TAKES_1
        if
        :: slept -> atomic { s = m; if :: m == 0 -> m = 1 :: else -> skip fi }
        :: else -> atomic { s = m; m = 2 }
        fi;
#else
        atomic { s = m; m = 2 };                                         /* swap(2) */
#endif
        if :: s == 0 -> got = 1; break :: else -> skip fi;
        deadline_passed(exp);
        if
        :: exp ->
#ifndef NO_BATON
           if :: slept -> wake_one() :: else -> skip fi;
#endif
           break
        :: else -> futex_wait(m, 2); slept = 1; s = m
        fi
     :: s == 2 ->
        deadline_passed(exp);
        if
        :: exp ->
#ifndef NO_BATON
           if :: slept -> wake_one() :: else -> skip fi;
#endif
           break
        :: else -> futex_wait(m, 2); slept = 1; s = m
        fi
     od
  fi
}

inline mutex_unlock() {
  byte old;
  atomic { old = m; if :: m == 1 -> m = 0 :: else -> skip fi };      /* CAS 1→0 */
  if
  :: old == 1 ->
#ifdef UNLOCK_WAKE_ON_1
     wake_one()
#else
     skip
#endif
  :: old == 2 ->
     m = 0;
#ifndef UNLOCK_WAKE_ON_1
     wake_one()
#endif
  :: else -> assert(0)   /* unlocking an unlocked mutex */
  fi
}

active [3] proctype locker() {
  bool got;
  if :: _pid == 2 -> timeouts[_pid] = 1 :: else -> skip fi;
  mutex_lock(got);
  if
  :: got ->
     in_cs++;
     assert(in_cs == 1);
     in_cs--;
     mutex_unlock()
  :: else -> assert(_pid == 2)   /* only the timed locker may give up */
  fi
}
