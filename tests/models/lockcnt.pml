/*
 * LockCnt (core/lockcnt.ts = QEMU util/lockcnt.c): bits 0-1 FREE 0 / LOCKED 1 / WAITING 2,
 * visits in steps of 4. Three threads run S10's op kinds:
 *   T0: lock; section (free if count == 0); unlock; then inc; visit; dec
 *   T1: inc; visit; decAndLock → section + free; unlock
 *   T2: inc; visit; decIfLock → section + free; incAndUnlock; visit; dec
 * Checks: mutual exclusion, no visit of a freed object, the count never goes below zero, the
 * final word is 0, and no lost wakeup (every thread ends).
 * Mutants: NO_BATON_WAKE (leaving without the lock after a sleep wakes nobody), NO_REMARK
 * (acquiring after a sleep marks LOCKED instead of WAITING). Ordering mutants: RELEASE_WAKE_FIRST
 * (unlock wakes, then releases: the woken thread finds the lock held and sleeps again),
 * RELEASE_LOAD_STORE (the release CAS as a load and a store: a WAITING mark or a count change
 * between is overwritten), MARK_STORE (the LOCKED→WAITING CAS as a store), DEC_LOAD_STORE (dec's
 * RMW as a load and a store: a visit lost), INC_STORE (inc's CAS seen → seen + 4, joining a
 * visit, as a store: it can undo a lock or a dec).
 */
#include "futex.pml"

byte lc = 0;
byte in_cs = 0;
bool valid = 1;
byte finished = 0;

/* QEMU's qemu_lockcnt_cmpxchg_or_wait: seen, waited and old are the caller's locals. */
inline cmpxchg_or_wait(newv, res) {
  res = 0;
  if
  :: (seen & 3) == 0 ->
     atomic { old = lc; if :: lc == seen -> lc = newv :: else -> skip fi };
     if :: old == seen -> seen = newv; res = 1 :: else -> seen = old fi
  :: else -> skip
  fi;
  if
  :: res == 0 ->
     do
     :: (seen & 3) == 0 -> break
     :: (seen & 3) == 1 ->
#ifdef MARK_STORE
        atomic { old = seen; lc = seen + 1 };                                         /* the CAS as a store */
#else
        atomic { old = lc; if :: lc == seen -> lc = seen + 1 :: else -> skip fi };   /* LOCKED→WAITING */
#endif
        if :: old == seen -> seen = seen + 1 :: else -> seen = old fi
     :: (seen & 3) == 2 ->
        waited = 1;
        futex_wait(lc, seen);
        seen = lc
     :: (seen & 3) == 3 -> assert(0)
     od
  :: else -> skip
  fi
}

inline baton() {
#ifndef NO_BATON_WAKE
  if :: waited -> wake_one() :: else -> skip fi
#else
  skip
#endif
}

inline remark(bits) {
#ifndef NO_REMARK
  if :: waited -> bits = 2 :: else -> skip fi
#else
  skip
#endif
}

inline lc_inc() {
  seen = lc; waited = 0;
  do
  :: seen >= 4 ->
#ifdef INC_STORE
     atomic { old = seen; lc = seen + 4 };      /* the CAS seen → seen + 4 as a store */
#else
     atomic { old = lc; if :: lc == seen -> lc = seen + 4 :: else -> skip fi };
#endif
     if :: old == seen -> break :: else -> seen = old fi
  :: else ->
     cmpxchg_or_wait(4, r);
     if :: r -> break :: else -> skip fi
  od;
  baton()
}

inline lc_dec() {
#ifdef DEC_LOAD_STORE
  seen = lc;                                  /* the RMW as a load ... */
  atomic { assert(seen >= 4); lc = seen - 4 }   /* ... and a store */
#else
  atomic { assert(lc >= 4); lc = lc - 4 }
#endif
}

inline lc_dec_and_lock(res) {
  seen = lc; waited = 0; bits = 1; res = 0;
  do
  :: seen >= 8 ->
     atomic { old = lc; if :: lc == seen -> lc = seen - 4 :: else -> skip fi };
     if :: old == seen -> break :: else -> seen = old fi
  :: else ->
     cmpxchg_or_wait(bits, r);     /* (1, free) → (0, locked/waiting) */
     if :: r -> res = 1; break :: else -> remark(bits) fi
  od;
  if :: !res -> baton() :: else -> skip fi
}

inline lc_dec_if_lock(res) {
  seen = lc; waited = 0; bits = 1; res = 0;
  do
  :: seen < 8 ->
     cmpxchg_or_wait(bits, r);
     if :: r -> res = 1; break :: else -> remark(bits) fi
  :: else -> break
  od;
  if :: !res -> baton() :: else -> skip fi
}

inline lc_lock() {
  seen = lc; waited = 0; bits = 1;
  do
  :: cmpxchg_or_wait(seen + bits, r);
     if :: r -> break :: else -> remark(bits) fi
  od
}

inline lc_release(add) {   /* unlock (add 0) / incAndUnlock (add 4) */
  seen = lc;
#ifdef RELEASE_WAKE_FIRST
  if :: (seen & 2) -> wake_one() :: else -> skip fi;   /* the wake before the CAS */
#endif
#ifdef RELEASE_LOAD_STORE
  lc = seen + add - (seen & 3);                        /* the CAS as a store of the loaded word's successor */
#else
  do
  :: atomic { old = lc; if :: lc == seen -> lc = seen + add - (seen & 3) :: else -> skip fi };
     if :: old == seen -> break :: else -> seen = old fi
  od;
#endif
  assert((seen & 3) != 0);   /* releasing a lock nobody held */
#ifndef RELEASE_WAKE_FIRST
  if :: (seen & 2) -> wake_one() :: else -> skip fi
#endif
}

inline section() {
  in_cs++;
  assert(in_cs == 1);
  if :: (lc >> 2) == 0 -> valid = 0; valid = 1 :: else -> skip fi;   /* free and reallocate when idle */
  in_cs--
}

inline visit() { assert(valid) }

inline finish() {
  atomic { finished++; if :: finished == 3 -> assert(lc == 0) :: else -> skip fi }
}

active proctype t0() {
  byte seen, old, bits; bool waited, r;
  lc_lock(); section(); lc_release(0);
  lc_inc(); visit(); lc_dec();
  finish()
}

active proctype t1() {
  byte seen, old, bits; bool waited, r, got;
  lc_inc(); visit();
  lc_dec_and_lock(got);
  if :: got -> section(); lc_release(0) :: else -> skip fi;
  finish()
}

active proctype t2() {
  byte seen, old, bits; bool waited, r, got;
  lc_inc(); visit();
  lc_dec_if_lock(got);
  if :: got -> section(); lc_release(4) :: else -> skip fi;
  visit(); lc_dec();
  finish()
}
