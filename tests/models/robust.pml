/*
 * Robust Mutex (core/robust.ts; tests/native/peer.c speaks the same): the word holds the owner's
 * thread id (here pid + 1, 0 = free, 7 = NOT_RECOVERABLE), OWNER_DIED (8) and WAITERS (16). One
 * step (RobustWait.step) under the blocking driver (the async driver runs the same step).
 * Three processes each lock, run a critical section that breaks and then restores the guarded
 * data (data_ok), and unlock. A holder may die inside its critical section (DEATHS, default 1):
 * it never unlocks and its thread is gone. A locker that takes a dead owner's lock (OwnerDiedError)
 * repairs the data and marks the mutex consistent — or abandons it (ABANDONS, default 1): unlock
 * without markConsistent, after which every lock reports not-recoverable.
 * Waiters sleep in slices: a slice may end with nobody waking them whenever their sleep could
 * otherwise last for ever (the owner of the word they sleep on is dead, or the word moved on),
 * at most SLICES times per process. Spurious wakes as in futex.pml.
 * Checks: mutual exclusion among live holders; a normal (not owner-died) lock never sees broken
 * data; no survivor sleeps for ever (every live process ends: locked and unlocked, or told
 * not-recoverable) — an invalid end state is a survivor asleep for ever.
 * Mutants: SKIP_LIVENESS (waiters never ask whether the owner lives), CHECK_ONCE (asked only
 * before the first sleep, not after an expired slice), CLEAR_OD_EARLY (the taker does not set
 * OWNER_DIED in the word, so the abandoning unlock releases normally), UNLOCK_IGNORES_OD (unlock
 * clears OWNER_DIED and releases instead of declaring the mutex not recoverable). Ordering:
 * TAKE_STORE (the CAS 0 → tid as a store: two holders), ANNOUNCE_STORE (the WAITERS CAS as a
 * store: it puts back a word the owner's unlock has released). UNLOCK_WAKE_FIRST (unlock wakes,
 * then stores 0) is accepted by spin, and is harmless here for liveness: a waiter woken too
 * early re-sleeps for at most one slice, which ends because the word moved on (a latency cost).
 * CONSISTENT_LOAD_STORE (markConsistent's CAS loop as a load and a store: a WAITERS bit set
 * between is lost) is accepted too, for the same reason: the unwoken waiter's slice ends. (With
 * the default DEATHS=1 ABANDONS=1 the one owner-died taker always abandons, so markConsistent
 * runs only with -DABANDONS=0.)
 */
#include "futex.pml"

#ifndef DEATHS
#define DEATHS 1
#endif
#ifndef ABANDONS
#define ABANDONS 1
#endif
#ifndef SLICES
#define SLICES 2
#endif
#define TIDM 7
#define NOTREC 7
#define OD 8
#define WT 16

byte m = 0;
bool dead[3];
byte in_cs = 0;
bool data_ok = 1;
byte deaths = DEATHS;
byte abandons = ABANDONS;
byte slices[3];

/* One sleep of at most a slice, on the word value v. */
inline robust_sleep(v) {
  atomic { if :: (m == v) -> sleeping[_pid] = 1 :: else -> skip fi }
  if
  :: atomic { sleeping[_pid] == 0 }
  :: atomic { sleeping[_pid] == 1 && spurious > 0 -> spurious--; sleeping[_pid] = 0 }
  :: atomic { sleeping[_pid] == 1 && slices[_pid] > 0 &&
              (m != v || ((v & TIDM) != 0 && (v & TIDM) != NOTREC && dead[(v & TIDM) - 1])) ->
              slices[_pid]--; sleeping[_pid] = 0 }
  fi
}

/* RobustWait.step: res 1 = locked, 3 = locked from a dead owner, 4 = not recoverable, 2 = sleep on `last`. */
inline robust_step(res, slept, checked, last, me) {
  byte w, old, t;
  bool gone;
  res = 0;
  w = m;
  do
  :: res != 0 -> break
  :: res == 0 && w == 0 ->
#ifdef TAKE_STORE
     atomic { old = w; m = (me | (slept -> WT : 0)) };   /* the CAS 0 → tid as a store after the load */
#else
     atomic { old = m; if :: m == 0 -> m = (me | (slept -> WT : 0)) :: else -> skip fi };
#endif
     if :: old == 0 -> res = 1 :: else -> w = old fi
  :: res == 0 && w != 0 && (w & TIDM) == NOTREC -> res = 4
  :: res == 0 && w != 0 && (w & TIDM) != NOTREC ->
     t = w & TIDM;
     gone = (t == 0);
#ifndef SKIP_LIVENESS
#ifdef CHECK_ONCE
     if :: t != 0 && !checked -> checked = 1; gone = dead[t - 1] :: else -> skip fi;
#else
     if :: t != 0 && (!checked || w == last) -> checked = 1; gone = dead[t - 1] :: else -> skip fi;
#endif
#endif
     if
     :: gone ->
#ifdef CLEAR_OD_EARLY
        atomic { old = m; if :: m == w -> m = (me | (w & WT) | (slept -> WT : 0)) :: else -> skip fi };
#else
        atomic { old = m; if :: m == w -> m = (me | OD | (w & WT) | (slept -> WT : 0)) :: else -> skip fi };
#endif
        if :: old == w -> res = 3 :: else -> w = old fi
     :: !gone && (w & WT) == 0 ->
#ifdef ANNOUNCE_STORE
        atomic { old = w; m = (w | WT) };          /* the WAITERS CAS as a store of the loaded word | WAITERS */
#else
        atomic { old = m; if :: m == w -> m = (w | WT) :: else -> skip fi };
#endif
        if :: old == w -> last = (w | WT); res = 2 :: else -> w = old fi
     :: !gone && (w & WT) != 0 -> last = w; res = 2
     fi
  od
}

inline robust_unlock(me) {
  byte old;
  if
#ifndef UNLOCK_IGNORES_OD
  :: (m & OD) != 0 -> m = NOTREC; wake_all()
#endif
  :: (m & OD) == 0 ->
     atomic { old = m; if :: m == me -> m = 0 :: else -> skip fi };
     if
     :: old == me -> skip
#ifdef UNLOCK_WAKE_FIRST
     :: else -> assert((old & TIDM) == me); wake_one(); m = 0   /* the wake before the store of 0 */
#else
     :: else -> assert((old & TIDM) == me); m = 0; wake_one()
#endif
     fi
#ifdef UNLOCK_IGNORES_OD
  :: (m & OD) != 0 -> atomic { m = m & ~OD }; m = 0; wake_one()
#endif
  fi
}

inline mark_consistent() {
#ifdef CONSISTENT_LOAD_STORE
  byte mc;
  mc = m;                                      /* the CAS loop as a load ... */
  m = mc & ~OD                                 /* ... and a store: a WAITERS set between is lost */
#else
  atomic { m = m & ~OD }
#endif
}

inline body() {
  bool slept, checked;
  byte last, res, me;
  me = _pid + 1;
  slices[_pid] = SLICES;
  atomic { if :: m == 0 -> m = me; res = 1 :: else -> res = 0 fi };   /* fast path */
  do
  :: res == 1 || res == 3 || res == 4 -> break
  :: res == 0 ->
     robust_step(res, slept, checked, last, me);
     if :: res == 2 -> robust_sleep(last); slept = 1; res = 0 :: else -> skip fi
  od;
  if
  :: res == 4 -> skip                                   /* NotRecoverableError */
  :: res != 4 ->
     in_cs++;
     assert(in_cs == 1);
     assert(res == 3 || data_ok);                       /* a normal lock never sees broken data */
     data_ok = 0;                                       /* mid-update */
     if
     :: deaths > 0 -> deaths--; in_cs--; dead[_pid] = 1; goto died
     :: true -> skip
     fi;
     if
     :: res == 3 && abandons > 0 -> abandons--         /* unlock without repair */
     :: else -> data_ok = 1; if :: res == 3 -> mark_consistent() :: else -> skip fi
     fi;
     in_cs--;
     robust_unlock(me)
  fi;
died:
  skip
}

active [3] proctype p() { body() }
