/*
 * Condition (core/condition.ts; Rust std's futex condvar) with its Mutex. The futex word is the
 * sequence `seq`; the mutex is modelled as an ideal lock (its own protocol is checked in
 * mutex.pml), so every futex sleeper here sleeps on the sequence. The predicate is a count of
 * tokens: a waiter takes one, waiting on the condition while there is none.
 *   p0  thread 0  blocking wait, untimed
 *   p1  thread 1  blocking wait with a timeout (it re-checks and waits again after giving up)
 *   p2  thread 2  waitAsync that may be aborted (asleep: it leaves an orphan; woken: it took a
 *                 wake) — after an abort it re-locks and leaves without a token
 *   p3            the notifier: 3 × (lock, token++, notifyOne, unlock), or with BROADCAST one
 *                 (lock, tokens = 3, notifyAll, unlock)
 * Spurious wakes allowed (SPUR). Checks: no lost wakeup (every process ends; p0 and p1 always
 * get a token, p2 unless aborted), the mutex is held on every return from a wait.
 * Mutants: SEQ_AFTER_UNLOCK (the waiter reads the sequence after unlocking the mutex),
 * WAKE_FIRST (notify wakes, then increments), NO_BATON (a give-up after a notify passes no
 * wake on).
 */
#include "futex.pml"

byte seq = 0;
bit m = 0;            /* the ideal mutex */
byte tokens = 0;
byte got_tokens = 0;

inline lock() { atomic { m == 0 -> m = 1 } }
inline unlock() { assert(m == 1); m = 0 }

/* ConditionWait.giveUp: if a notify moved the sequence, pass one wake on. */
inline give_up(seen) {
#ifndef NO_BATON
  if :: seq != seen -> wake_one() :: else -> skip fi
#else
  skip
#endif
}

/* Condition.wait(m[, timeout]): runBlocking over ConditionWait.step. */
inline cond_wait(t) {
  byte seen;
  bool slept, exp;
#ifndef SEQ_AFTER_UNLOCK
  seen = seq;                                /* before the unlock */
  unlock();
#else
  unlock();
  seen = seq;
#endif
  slept = 0;
  do
  :: seq != seen -> break                    /* step: STEP_TRUE */
  :: else ->
     deadline_passed(exp);
     if
     :: exp -> if :: slept -> give_up(seen) :: else -> skip fi; break
     :: else -> futex_wait(seq, seen); slept = 1
     fi
  od;
  lock();                                    /* always re-locked */
  seen = 0; slept = 0; exp = 0               /* dead: reset (fewer states) */
}

/* Condition.waitAsync(m, { signal }): runAsync over the same step; then lockAsync. */
inline cond_wait_async(t, aborted, orphaned) {
  byte seen;
  bool slept;
  seen = seq;
  unlock();
  slept = 0;
  asyncWaits[t]++;
  do
  :: seq != seen -> break
  :: else ->
     futex_wait_async(seq, seen, t, 1, aborted, orphaned);
     slept = 1;
     if :: aborted -> give_up(seen); break :: else -> skip fi
  od;
  asyncWaits[t]--;
  lock();
  seen = 0; slept = 0
}

inline notify_one() {
#ifndef WAKE_FIRST
  seq++; wake_one()
#else
  wake_one(); seq++
#endif
}

inline take_token() { tokens--; got_tokens++ }

inline blocking_body(t, timed) {
  if :: timed -> timeouts[_pid] = 1 :: else -> skip fi;
  thread_run(t);
  lock();
  do
  :: tokens > 0 -> take_token(); break
  :: else -> cond_wait(t); assert(m == 1)
  od;
  unlock();
  thread_free(t)
}

inline async_body(t) {
  bool aborted, orphaned;
  thread_run(t);
  lock();
  do
  :: tokens > 0 -> take_token(); break
  :: aborted -> break                        /* the abort rejected the wait: leave, mutex held */
  :: else -> cond_wait_async(t, aborted, orphaned); assert(m == 1)
  od;
  unlock();
  thread_free(t);
  orphan_forward(t, orphaned)
}

active proctype p0() { blocking_body(0, 0) }
active proctype p1() { blocking_body(1, 1) }
active proctype p2() { async_body(2) }
active proctype p3() {
#ifndef BROADCAST
  byte i;
  for (i : 1 .. 3) {
    lock(); tokens++; notify_one(); unlock()
  }
#else
  lock(); tokens = 3;
#ifndef WAKE_FIRST
  seq++; wake_all();
#else
  wake_all(); seq++;
#endif
  unlock()
#endif
}
