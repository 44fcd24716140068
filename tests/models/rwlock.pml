/*
 * RwLock (core/rwlock.ts; Rust std's futex rwlock): the state word (cnt: 0 unlocked, 1–2
 * readers, WL write-locked; rwb READERS_WAITING; wwb WRITERS_WAITING — a CAS compares all
 * three) and the writer-notify word `seq`. Readers sleep on the state word, writers on the
 * notify word: the futex here keeps, for each sleeper, the word it sleeps on (sword), so a wake
 * of one word never reaches the other's sleepers. One step per protocol (ReadWait, WriteWait)
 * driven by a blocking and an async driver (core/contended.ts).
 *   p0  thread 0  readLock, blocking, untimed
 *   p1  thread 1  writeLock, blocking, with a timeout (may give up after sleeping)
 *   p2  thread 2  writeLockAsync that may be aborted (asleep: an orphan; woken: it took a wake)
 *   p3  thread 1  readLockAsync, untimed (same thread as p1)
 * Spurious wakes allowed (SPUR). Checks: readers never beside a writer, at most one writer;
 * no lost wakeup (every process ends, orphans excepted; p0 and p3 always read); writer
 * preference as a safety property: a read lock is never granted from a state with
 * WRITERS_WAITING.
 * Mutants: WRITER_NO_MARK (a writer sleeps without setting WRITERS_WAITING), READ_IGNORES_WW
 * (a reader takes the lock while WRITERS_WAITING is set), READ_UNLOCK_NO_WAKE (the last reader
 * out does not wake a waiting writer), NO_BATON (a writer's give-up passes no wake),
 * NO_READER_FALLBACK (with both kinds waiting, an unlock wakes only a writer — the Futex
 * contract cannot say whether one slept).
 * Ordering mutants: SEQ_AFTER_STATE (the writer reads the notify sequence after its last look
 * at the state: an unlock's increment and wake between the two are slept through),
 * WAKE_WRITER_FIRST (wakeWriter wakes, then increments), NOTIFY_LOAD_STORE (the increment as a
 * load and a store: two concurrent increments count as one), WRITE_UNLOCK_LOAD_STORE (writeUnlock's
 * RMW as a load and a store: a waiting bit set between is lost), READ_TAKE_STORE (the reader's
 * CAS s → s+1 as a store), READER_MARK_STORE / WRITER_MARK_STORE (the READERS_WAITING /
 * WRITERS_WAITING CAS as a store of the loaded word with the bit), READERS_WAKE_FIRST (the
 * readers' wake before the CAS READERS_WAITING → 0: woken readers find the bit and sleep again),
 * READ_UNLOCK_LOAD_STORE (readUnlock's CAS s → s−1 as a load and a store).
 * WRITER_WAKE_BEFORE_CLEAR (a writer woken before the CAS WRITERS_WAITING → 0) is accepted and
 * harmless: the woken writer finds the lock free and takes it keeping the bit, or sleeps on a
 * sequence already moved; the unlocker's CAS then fails and leaves the wake to the new holder.
 */
#include "futex.pml"

#define WL 3

byte cnt = 0;
bool rwb = 0;
bool wwb = 0;
byte seq = 0;
byte sword[4];          /* 0: asleep on the state word, 1: on the notify word */
byte readers_in = 0;
byte writers_in = 0;

/* Sleep on word wd while `same` holds (evaluated atomically with the registration). */
inline wait_on(wd, same) {
  atomic { if :: same -> sleeping[_pid] = 1; sword[_pid] = wd :: else -> skip fi }
  if
  :: atomic { sleeping[_pid] == 0 }
  :: atomic { sleeping[_pid] == 1 && spurious > 0 -> spurious--; sleeping[_pid] = 0 }
  :: atomic { sleeping[_pid] == 1 && timeouts[_pid] > 0 -> timeouts[_pid]--; sleeping[_pid] = 0; expired[_pid] = 1 }
  fi;
  sword[_pid] = 0                                  /* awake: the word no longer matters */
}

inline wait_on_async(wd, same, t, abortable, aborted, orphaned) {
  atomic { if :: same -> sleeping[_pid] = 1; sword[_pid] = wd :: else -> skip fi; owner[t] = 0 }
  if
  :: atomic { sleeping[_pid] == 0 }
  :: atomic { sleeping[_pid] == 1 && spurious > 0 -> spurious--; sleeping[_pid] = 0 }
  :: atomic { abortable && sleeping[_pid] == 1 && aborts > 0 -> aborts--; aborted = 1; orphaned = 1; orphans[t]++; orphan_pid[t] = _pid }
  fi;
  thread_run(t);
  if :: !orphaned -> sword[_pid] = 0 :: else -> skip fi;   /* an orphan still sleeps on its word */
  if :: abortable && !aborted && aborts > 0 -> aborts--; aborted = 1 :: true -> skip fi
}

inline wake_one_on(wd) {
  atomic {
    if
    :: sleeping[0] && sword[0] == wd -> sleeping[0] = 0
    :: sleeping[1] && sword[1] == wd -> sleeping[1] = 0
    :: sleeping[2] && sword[2] == wd -> sleeping[2] = 0
    :: sleeping[3] && sword[3] == wd -> sleeping[3] = 0
    :: else -> skip
    fi
  }
}

inline wake_all_on(wd) {
  atomic {
    if :: sword[0] == wd -> sleeping[0] = 0 :: else -> skip fi;
    if :: sword[1] == wd -> sleeping[1] = 0 :: else -> skip fi;
    if :: sword[2] == wd -> sleeping[2] = 0 :: else -> skip fi;
    if :: sword[3] == wd -> sleeping[3] = 0 :: else -> skip fi
  }
}

#ifdef WAKE_WRITER_FIRST
inline wake_writer() { wake_one_on(1); seq++ }     /* the wake before the increment */
#else
#ifdef NOTIFY_LOAD_STORE
byte sq[4];
inline wake_writer() { sq[_pid] = seq; seq = sq[_pid] + 1; sq[_pid] = 0; wake_one_on(1) }   /* load, then store */
#else
inline wake_writer() { seq++; wake_one_on(1) }
#endif
#endif

/* Words.wakeWriterOrReaders, called with the lock free (c == 0) and a waiting bit. */
inline wake_writer_or_readers(c, r, w) {
  bool ok;
  ok = 0;
  if
  :: w && !r ->
#ifdef WRITER_WAKE_BEFORE_CLEAR
     wake_writer();                             /* the wake before the CAS WRITERS_WAITING → 0 */
     atomic { if :: cnt == 0 && !rwb && wwb -> wwb = 0; ok = 1 :: else -> c = cnt; r = rwb; w = wwb fi }
#else
     atomic { if :: cnt == 0 && !rwb && wwb -> wwb = 0; ok = 1 :: else -> c = cnt; r = rwb; w = wwb fi };
     if :: ok -> wake_writer() :: else -> skip fi
#endif
  :: else -> skip
  fi;
  if
  :: !ok && c == 0 && r && w ->
     atomic { if :: cnt == 0 && rwb && wwb -> wwb = 0; ok = 1 :: else -> skip fi };
     if
     :: ok ->
        wake_writer();
#ifndef NO_READER_FALLBACK
        ok = 0; r = 1; w = 0; c = 0                /* cannot know a writer slept: wake the readers too */
#endif
     :: else -> ok = 1                          /* taken again: its unlock wakes */
     fi
  :: else -> skip
  fi;
  if
  :: !ok && c == 0 && r && !w ->
#ifdef READERS_WAKE_FIRST
     wake_all_on(0);                            /* the wake before the CAS READERS_WAITING → 0 */
     atomic { if :: cnt == 0 && rwb && !wwb -> rwb = 0; ok = 1 :: else -> ok = 0 fi }
#else
     atomic { if :: cnt == 0 && rwb && !wwb -> rwb = 0; ok = 1 :: else -> ok = 0 fi };
     if :: ok -> wake_all_on(0) :: else -> skip fi
#endif
  :: else -> skip
  fi;
  ok = 0
}

/* ReadWait.step: res 1 = got a read lock; 2 = sleep while the state is (ec, 1, ew). */
inline read_step(res, ec, ew) {
  byte c; bool r, w;
  atomic { c = cnt; r = rwb; w = wwb };
  res = 0;
  do
  :: res != 0 -> break
#ifndef READ_IGNORES_WW
  :: res == 0 && c != WL && !r && !w ->
#else
  :: res == 0 && c != WL && !r ->
#endif
#ifdef READ_TAKE_STORE
     atomic { cnt = c + 1; rwb = r; wwb = w; res = 1; assert(!w) }   /* the CAS s → s+1 as a store of the loaded s + 1 */
#else
     atomic {
       if
       :: cnt == c && rwb == r && wwb == w -> cnt++; res = 1; assert(!w)   /* writer preference */
       :: else -> c = cnt; r = rwb; w = wwb
       fi
     }
#endif
#ifndef READ_IGNORES_WW
  :: res == 0 && !(c != WL && !r && !w) && !r ->
#else
  :: res == 0 && !(c != WL && !r) && !r ->
#endif
#ifdef READER_MARK_STORE
     atomic { cnt = c; rwb = 1; wwb = w; r = 1 }   /* the READERS_WAITING CAS as a store of the loaded s | bit */
#else
     atomic { if :: cnt == c && rwb == r && wwb == w -> rwb = 1; r = 1 :: else -> c = cnt; r = rwb; w = wwb fi }
#endif
#ifndef READ_IGNORES_WW
  :: res == 0 && !(c != WL && !r && !w) && r ->
#else
  :: res == 0 && !(c != WL && !r) && r ->
#endif
     ec = c; ew = w; res = 2
  od;
  c = 0; r = 0; w = 0                              /* dead: reset (fewer states) */
}

/* WriteWait.step: res 1 = got the write lock; 2 = sleep while seq == v. others persists in a call. */
inline write_step(res, others, v) {
  byte c; bool r, w;
  atomic { c = cnt; r = rwb; w = wwb };
  res = 0;
  do
  :: res != 0 -> break
  :: res == 0 && c == 0 ->
     atomic {
       if
       :: cnt == c && rwb == r && wwb == w -> cnt = WL; wwb = w || others; res = 1
       :: else -> c = cnt; r = rwb; w = wwb
       fi
     }
#ifndef WRITER_NO_MARK
  :: res == 0 && c != 0 && !w ->
#ifdef WRITER_MARK_STORE
     atomic { cnt = c; rwb = r; wwb = 1; w = 1 }   /* the WRITERS_WAITING CAS as a store of the loaded s | bit */
#else
     atomic { if :: cnt == c && rwb == r && wwb == w -> wwb = 1; w = 1 :: else -> c = cnt; r = rwb; w = wwb fi }
#endif
  :: res == 0 && c != 0 && w ->
#else
  :: res == 0 && c != 0 ->
#endif
     others = 1;
#ifndef SEQ_AFTER_STATE
     v = seq;                                      /* the sequence before the last look */
     atomic { c = cnt; r = rwb; w = wwb };
#else
     atomic { c = cnt; r = rwb; w = wwb };
     v = seq;                                      /* after it: a wake between is slept through */
#endif
#ifndef WRITER_NO_MARK
     if :: c == 0 || !w -> skip :: else -> res = 2 fi
#else
     if :: c == 0 -> skip :: else -> res = 2 fi
#endif
  od;
  c = 0; r = 0; w = 0
}

inline writer_give_up() {
#ifndef NO_BATON
  if :: cnt == 0 || !wwb -> wake_writer() :: else -> skip fi
#else
  skip
#endif
}

inline read_unlock() {
  byte c; bool r, w;
#ifdef READ_UNLOCK_LOAD_STORE
  atomic { assert(cnt != 0 && cnt != WL); c = cnt - 1; r = rwb; w = wwb };   /* a load ... */
  atomic { cnt = c; rwb = r; wwb = w };                                       /* ... then a store of s - 1 */
#else
  atomic { assert(cnt != 0 && cnt != WL); cnt--; c = cnt; r = rwb; w = wwb };
#endif
#ifndef READ_UNLOCK_NO_WAKE
  if :: c == 0 && w -> wake_writer_or_readers(c, r, w) :: else -> skip fi;
#endif
  c = 0; r = 0; w = 0
}

inline write_unlock() {
  byte c; bool r, w;
#ifdef WRITE_UNLOCK_LOAD_STORE
  atomic { assert(cnt == WL); c = 0; r = rwb; w = wwb };   /* a load ... */
  atomic { cnt = 0; rwb = r; wwb = w };                    /* ... then a store of s - WL */
#else
  atomic { assert(cnt == WL); cnt = 0; c = 0; r = rwb; w = wwb };
#endif
  if :: r || w -> wake_writer_or_readers(c, r, w) :: else -> skip fi;
  c = 0; r = 0; w = 0
}

inline read_section() { readers_in++; assert(writers_in == 0); readers_in-- }
inline write_section() { writers_in++; assert(writers_in == 1 && readers_in == 0); writers_in-- }

/* readLock(): fast path, then runBlocking over read_step (untimed). */
inline read_blocking() {
  byte res, ec; bool ew;
  do
  :: read_step(res, ec, ew);
     if
     :: res == 1 -> break
     :: else -> wait_on(0, cnt == ec && rwb && wwb == ew)
     fi
  od;
  res = 0; ec = 0; ew = 0
}

inline read_async(t) {
  byte res, ec; bool ew, ab, orph;
  asyncWaits[t]++;
  do
  :: read_step(res, ec, ew);
     if
     :: res == 1 -> break
     :: else -> wait_on_async(0, cnt == ec && rwb && wwb == ew, t, 0, ab, orph)
     fi
  od;
  asyncWaits[t]--;
  res = 0; ec = 0; ew = 0
}

/* writeLock(timeout): runBlocking over write_step; refused beside this thread's async writer. */
inline write_blocking(got, t) {
  byte res, v; bool others, slept, exp;
  do
  :: write_step(res, others, v);
     if
     :: res == 1 -> got = 1; break
     :: else ->
        deadline_passed(exp);
        if
        :: exp -> if :: slept -> writer_give_up() :: else -> skip fi; break
        :: else -> wait_on(1, seq == v); slept = 1
        fi
     fi
  od;
  res = 0; v = 0; others = 0; slept = 0; exp = 0
}

inline write_async(got, aborted, orphaned, t) {
  byte res, v; bool others, slept;
  asyncWaits[t]++;
  do
  :: write_step(res, others, v);
     if
     :: res == 1 -> got = 1; break
     :: else ->
        wait_on_async(1, seq == v, t, 1, aborted, orphaned);
        slept = 1;
        if :: aborted -> writer_give_up(); break :: else -> skip fi
     fi
  od;
  asyncWaits[t]--;
  res = 0; v = 0; others = 0; slept = 0
}

/* An aborted writer's orphan that a notify-word wake reaches passes it on (adapters/atomics.ts). */
inline writer_orphan_forward(t, orphaned) {
  if
  :: orphaned ->
end_orphan:
     sleeping[_pid] == 0;
     thread_run(t);
     orphans[t]--;
     wake_one_on(1);
     thread_free(t)
  :: else -> skip
  fi
}

active proctype p0() {
  thread_run(0);
  read_blocking();
  read_section();
  read_unlock();
  thread_free(0)
}

active proctype p1() {
  bool got;
  timeouts[_pid] = 1;
  thread_run(1);
  write_blocking(got, 1);
  if :: got -> write_section(); write_unlock() :: else -> skip fi;
  thread_free(1)
}

active proctype p2() {
  bool got, aborted, orphaned;
  thread_run(2);
  write_async(got, aborted, orphaned, 2);
  if
  :: got -> write_section(); write_unlock()
  :: else -> assert(aborted)
  fi;
  thread_free(2);
  writer_orphan_forward(2, orphaned)
}

active proctype p3() {
  thread_run(1);
  read_async(1);
  read_section();
  read_unlock();
  thread_free(1)
}
