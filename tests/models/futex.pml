/*
 * The Futex contract (core/futex.ts) for 3 threads and one word, shared by every model.
 *   futex_wait(w, v): atomically "sleep if w == v"; then return when woken, or spuriously
 *                     (a bounded global budget SPUR), or by timeout (a per-thread budget).
 *   wake_one / wake_all: clear the sleeping flag of one / every sleeper.
 * A thread asleep with no wake and no budget left blocks forever; spin reports that as an
 * invalid end state — a lost wakeup.
 */
#ifndef SPUR
#define SPUR 1
#endif

byte sleeping[3];
byte spurious = SPUR;
byte timeouts[3];      /* per-thread timeout budget (0 = untimed thread) */
bool expired[3];       /* a deadline check found the deadline passed */

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
    :: else -> skip
    fi
  }
}

inline wake_all() {
  atomic { sleeping[0] = 0; sleeping[1] = 0; sleeping[2] = 0 }
}
