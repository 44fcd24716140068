/*
 * Barrier (core/barrier.ts): count and generation words, 3 parties, 2 generations each.
 *   p0  thread 0  blocking wait() (BREAK: with a timeout: a give-up breaks the generation)
 *   p1  thread 1  blocking wait(), untimed
 *   p2  thread 2  waitAsync() (BREAK: abortable: an abort breaks the generation)
 * Spurious wakes allowed (SPUR). The generation is 3 bits here, BROKEN bit 7.
 * Checks: no lost wakeup (every party ends: spin's invalid-end-state check); a party released
 * from generation r saw all 3 arrivals of r; at most one leader per generation (and, without
 * BREAK, every generation trips, so exactly one); with BREAK, once a party gives up nobody is
 * released from that generation and every party ends (broken, not asleep).
 * Mutant GEN_AFTER_COUNT: the generation read after the count — the last arriver can trip the
 * barrier in between, and the party sleeps on the new generation: a lost wakeup.
 * ARRIVE_LOAD_STORE: the arrival's count CAS as a load and a store (two arrivals count as one:
 * the last never comes). LEADER_WAKE_FIRST: the leader wakes, then bumps the generation (the
 * woken re-check finds g and sleeps again). LEAVE_WAKE_FIRST (with BREAK): a give-up wakes, then
 * breaks the generation.
 */
#ifndef BREAK
#define ABORTS 0
#endif
#include "futex.pml"

#define N 3
#define ROUNDS 2
#define GMASK 7
#define BROKEN 128

byte count = 0;
byte gen = 0;
byte arrived[ROUNDS];   /* ghost: arrivals counted per generation (atomic with the count CAS) */
byte leaders[ROUNDS];
bool gaveup[ROUNDS];    /* ghost: a party gave up (broke) in this generation */

/* A non-last party gives up: break g, or find it tripped. passed = 1 if it tripped after all. */
inline leave(g, passed, r) {
#ifdef LEAVE_WAKE_FIRST
  if :: gen == g -> wake_all() :: else -> skip fi;   /* the wake before the breaking CAS */
#endif
  atomic { ls = gen; if :: gen == g -> gen = g | BROKEN; gaveup[r] = 1 :: else -> skip fi };
  if
#ifdef LEAVE_WAKE_FIRST
  :: ls == g -> passed = 0
#else
  :: ls == g -> wake_all(); passed = 0
#endif
  :: else -> passed = (((ls & GMASK) - g) & GMASK) == 1
  fi
}

/* One wait: out = 1 released (leader or not), 0 broken / gave up. async: use the async driver on thread t. */
inline barrier_wait(r, out, t, async) {
  out = 0;
  aborted = 0;
#ifndef GEN_AFTER_COUNT
  g = gen;   /* the generation FIRST */
#endif
#ifdef GEN_AFTER_COUNT
  if :: true ->
#else
  if :: (g & BROKEN) -> goto done_wait :: else ->
#endif
  c = count;
#ifdef ARRIVE_LOAD_STORE
  /* the count CAS as a plain store of the value computed from the load: arrivals can be lost */
  atomic { if :: c == N - 1 -> count = 0 :: else -> count = c + 1 fi; arrived[r]++ };
#else
  do
  :: atomic { s = count; if :: count == c -> if :: c == N - 1 -> count = 0 :: else -> count = c + 1 fi; arrived[r]++ :: else -> skip fi };
     if :: s == c -> break :: else -> c = s fi
  od;
#endif
#ifdef GEN_AFTER_COUNT
  g = gen;
  if :: (g & BROKEN) -> goto done_wait :: else -> skip fi;
#endif
  if
  :: c == N - 1 ->                               /* the leader */
#ifdef LEADER_WAKE_FIRST
     wake_all();                                 /* the wake before the generation CAS */
#endif
#ifdef LEADER_GEN_STORE
     atomic { s = g; gen = (g + 1) & GMASK };   /* the generation CAS as a store: it overwrites BROKEN */
#else
     atomic { s = gen; if :: gen == g -> gen = (g + 1) & GMASK :: else -> skip fi };
#endif
     if
#ifdef LEADER_WAKE_FIRST
     :: s == g -> leaders[r]++; assert(leaders[r] == 1); assert(arrived[r] == N); out = 1
#else
     :: s == g -> leaders[r]++; assert(leaders[r] == 1); assert(arrived[r] == N); wake_all(); out = 1
#endif
     :: else -> skip                             /* broken meanwhile: BrokenBarrierError */
     fi
  :: else ->
     if :: async -> asyncWaits[t]++ :: else -> skip fi;
     do
     :: v = gen;
        if
        :: v != g -> out = ((((v & GMASK) - g) & GMASK) == 1); break
        :: else ->
           if
           :: async ->
              futex_wait_async(gen, g, t, 1, aborted, orphaned);
              if :: aborted -> leave(g, out, r); break :: else -> skip fi
           :: else ->
              deadline_passed(exp);
              if :: exp -> leave(g, out, r); break :: else -> futex_wait(gen, g) fi
           fi
        fi
     od;
     if :: async -> asyncWaits[t]-- :: else -> skip fi;
     if :: out -> assert(arrived[r] == N) :: else -> skip fi
  fi
  fi;
done_wait: skip
}

inline party(t, async) {
  byte r, out, g, c, s, v, ls;
  bool orphaned, aborted, exp;
  thread_run(t);
  r = 0;
  do
  :: r == ROUNDS -> break
  :: r < ROUNDS ->
     barrier_wait(r, out, t, async);
     if :: !out -> break :: else -> r++ fi
  od;
#ifndef BREAK
  assert(r == ROUNDS);
#endif
  thread_free(t);
  orphan_forward(t, orphaned)
}

active proctype p0() {
#ifdef BREAK
  timeouts[_pid] = 1;
#endif
  party(0, 0)
}
active proctype p1() { party(1, 0) }
active proctype p2() { party(2, 1) }
