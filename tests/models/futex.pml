/*
 * The Futex contract (core/futex.ts) for up to 4 processes and one word, shared by every model.
 *   futex_wait(w, v): atomically "sleep if w == v"; then return when woken, or spuriously
 *                     (a bounded global budget SPUR), or by timeout (a per-thread budget).
 *   wake_one / wake_all: clear the sleeping flag of one / every sleeper.
 * A thread asleep with no wake and no budget left blocks forever; spin reports that as an
 * invalid end state — a lost wakeup.
 */
#ifndef SPUR
#define SPUR 1
#endif
#ifndef ABORTS
#define ABORTS 1
#endif

byte sleeping[4];
byte spurious = SPUR;
byte timeouts[4];      /* per-process timeout budget (0 = untimed) */
bool expired[4];       /* a deadline check found the deadline passed */

inline futex_wait(w, v) {
  atomic { if :: (w == v) -> sleeping[_pid] = 1 :: else -> skip fi }
  if
  :: atomic { sleeping[_pid] == 0 }
  :: atomic { sleeping[_pid] == 1 && spurious > 0 -> spurious--; sleeping[_pid] = 0 }
  :: atomic { sleeping[_pid] == 1 && timeouts[_pid] > 0 -> timeouts[_pid]--; sleeping[_pid] = 0; expired[_pid] = 1 }
  fi
}

/* A deadline check: expired if a futex timeout fired, or (bounded) just now. */
inline deadline_passed(res) {
  if
  :: expired[_pid] -> res = 1
  :: timeouts[_pid] > 0 -> timeouts[_pid]--; expired[_pid] = 1; res = 1
  :: true -> res = 0
  fi
}

inline wake_one() {
  atomic {
    if
    :: sleeping[0] -> sleeping[0] = 0
    :: sleeping[1] -> sleeping[1] = 0
    :: sleeping[2] -> sleeping[2] = 0
    :: sleeping[3] -> sleeping[3] = 0
    :: else -> skip
    fi
  }
}

inline wake_all() {
  atomic { sleeping[0] = 0; sleeping[1] = 0; sleeping[2] = 0; sleeping[3] = 0 }
}

/*
 * Async waiters (core/contended.ts runAsync over adapters/atomics.ts waitAsync). A JS thread
 * runs one thing at a time: a blocking call holds its thread until it returns, and an async
 * continuation runs only when its thread is free. owner[t] is the process running on thread t
 * (0 = free, else pid + 1). An async wait registers like futex_wait, gives its thread back, and
 * once woken (or spuriously, or aborted) waits to get its thread again before it continues.
 * An abort while asleep settles the wait at once but leaves the registration (the orphan) in
 * the queue: see orphan_forward. asyncWaits[t] counts the pending async waits of thread t.
 */
byte owner[3];
byte asyncWaits[3];
byte orphans[3];       /* orphans of thread t not yet done */
byte orphan_pid[3];    /* the (one) orphan of thread t in these models */
byte aborts = ABORTS;

/*
 * A blocking wait by thread t. Where t has orphans it sleeps in short slices (adapters/atomics.ts),
 * so it returns ("ok") at a slice end: an orphan cannot forward the wake it took while its own
 * thread is blocked here. Other slice ends are spurious wakes (SPUR); modelled here is the one
 * that matters: the orphan of t has been woken and waits for the thread.
 */
inline futex_wait_on(w, v, t) {
  atomic { if :: (w == v) -> sleeping[_pid] = 1 :: else -> skip fi }
  if
  :: atomic { sleeping[_pid] == 0 }
  :: atomic { sleeping[_pid] == 1 && spurious > 0 -> spurious--; sleeping[_pid] = 0 }
  :: atomic { sleeping[_pid] == 1 && timeouts[_pid] > 0 -> timeouts[_pid]--; sleeping[_pid] = 0; expired[_pid] = 1 }
#ifndef ORPHAN_NO_SLICE
  :: atomic { sleeping[_pid] == 1 && orphans[t] > 0 && sleeping[orphan_pid[t]] == 0 -> sleeping[_pid] = 0 }
#endif
  fi
}

inline thread_run(t) { atomic { owner[t] == 0 -> owner[t] = _pid + 1 } }
inline thread_free(t) { owner[t] = 0 }

/* aborted: set if the signal aborted (while asleep: orphaned = 1, the registration stays). */
inline futex_wait_async(w, v, t, abortable, aborted, orphaned) {
  atomic { if :: (w == v) -> sleeping[_pid] = 1 :: else -> skip fi; owner[t] = 0 }
  if
  :: atomic { sleeping[_pid] == 0 }
  :: atomic { sleeping[_pid] == 1 && spurious > 0 -> spurious--; sleeping[_pid] = 0 }
  :: atomic { abortable && sleeping[_pid] == 1 && aborts > 0 -> aborts--; aborted = 1; orphaned = 1; orphans[t]++; orphan_pid[t] = _pid }
  fi;
  thread_run(t);
  /* woken, then the abort is seen before the protocol re-checks: it took a wake with it */
  if :: abortable && !aborted && aborts > 0 -> aborts--; aborted = 1 :: true -> skip fi
}

/* An orphan that a wake reaches passes exactly one wake on, when its thread is free. */
inline orphan_forward(t, orphaned) {
  if
  :: orphaned ->
end_orphan:
     sleeping[_pid] == 0;
     thread_run(t);
     orphans[t]--;
#ifndef ORPHAN_NO_FORWARD
     wake_one();
#endif
     thread_free(t)
  :: else -> skip
  fi
}
