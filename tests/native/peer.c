/*
 * C peer for the native interop tests: QEMU's QemuEvent and QemuLockCnt futex protocols
 * (util/event.c, util/lockcnt.c, Linux variant) on words in a POSIX shared-memory region,
 * with non-private futexes (FUTEX_WAIT 0 / FUTEX_WAKE 1, no PRIVATE flag), exactly as QEMU
 * issues them. Every wait loops on the word: a wake is a hint, never a fact.
 *
 * Usage (offsets are byte offsets into the region named NAME, e.g. "/futex-test-1"):
 *   peer event-ping  NAME PING PONG DATA ROUNDS   set PING after writing i to DATA; wait PONG
 *   peer event-pong  NAME PING PONG DATA ROUNDS   wait PING, check DATA == i, reset, set PONG
 *   peer lockcnt     NAME BASE ROUNDS SEED        S10-style random LockCnt ops (layout below)
 *   peer wake-storm  NAME STOP OFF...             FUTEX_WAKE(INT_MAX) on each OFF until STOP != 0
 *   peer cc-pingpong ROUNDS                       two threads, events in a private shm region: ns per hand-off
 *   peer raw-pingpong ROUNDS                      two threads, raw futex flip-flop: ns per hand-off
 *   peer wake-loop ROUNDS                         FUTEX_WAKE|PRIVATE with no waiter, ROUNDS times: ns per call
 *                                                 (the C side of the benchmarks' FFI call overhead)
 *   peer mutex THREADS MS                         THREADS threads × (lock; counter++; unlock) on Drepper's
 *                                                 3-state futex mutex for MS ms: ns per pair, counts per thread
 * Robust mutex (core/robust.ts's protocol: word = owner tid | OWNER_DIED bit 30 | WAITERS bit 31,
 * 0x3fffffff = not recoverable; the owner's pid in the next word; liveness by tgkill(pid, tid, 0)):
 *   peer robust-hold NAME OFF [thread]            lock (or, with "thread", lock in a thread that then exits
 *                                                 holding it); print "ok held tid= pid=" and sleep until killed
 *   peer robust-lock NAME OFF TIMEOUT_MS MODE     lock (TIMEOUT_MS < 0: no limit); on owner-died MODE "consistent"
 *                                                 marks consistent and unlocks, "abandon" unlocks (not recoverable);
 *                                                 prints "ok result=locked|owner-died|not-recoverable|timed-out
 *                                                 owner_tid= at_ms=" (at_ms: CLOCK_REALTIME when lock returned)
 *   peer robust-count NAME OFF COUNTER ROUNDS     ROUNDS × (lock; plain counter++; unlock) after the start barrier,
 *                                                 repairing (markConsistent) any owner death: "ok repairs="
 * Environment: PEER_PARTIES (processes meeting at the start barrier), PEER_SLICE_MS (wait bound),
 * PEER_PIN=cross|same (cc-/raw-pingpong: threads on CPU 0 and 1, or both on CPU 0).
 * Prints "ok key=value ..." on success; exits 1 with a message on any violated invariant.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef _Atomic int32_t aword;

static void die(const char *msg) { fprintf(stderr, "peer: %s\n", msg); exit(1); }

/* ---- futex wrapper (QEMU include/qemu/futex.h, Linux) ---- */
static void futex_wake(aword *addr, int n) { syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0); }
/* Each wait is bounded (PEER_SLICE_MS, default 100) so a lost wakeup costs a slice instead of a
 * hang; callers loop anyway. Slices that expire are counted and printed as "expired=": with a
 * long slice nothing here legitimately sleeps that long, so the tests require 0. */
static long slice_ms = 100, expired;
static void futex_wait(aword *addr, int32_t val) {
  struct timespec ts = {slice_ms / 1000, (slice_ms % 1000) * 1000000L};
  while (syscall(SYS_futex, addr, FUTEX_WAIT, val, &ts, NULL, 0) != 0) {
    if (errno == EINTR) continue;
    if (errno == ETIMEDOUT) { expired++; return; }
    if (errno == EAGAIN) return;
    die("futex wait failed");
  }
}

/* Start barrier: every party bumps READY (byte 16) and waits until PEER_PARTIES have arrived, so
 * processes that start at different times really overlap and the clock starts together. */
static void barrier(uint8_t *base) {
  aword *ready = (aword *)(base + 16);
  const char *p = getenv("PEER_PARTIES");
  int parties = p ? atoi(p) : 1;
  atomic_fetch_add(ready, 1);
  while (atomic_load(ready) < parties) usleep(50);
}

/* ---- QemuEvent: SET 0, FREE 1, BUSY -1 ---- */
enum { EV_SET = 0, EV_FREE = 1, EV_BUSY = -1 };
static void event_set(aword *ev) {
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(ev, memory_order_relaxed) != EV_SET) {
    if (atomic_exchange(ev, EV_SET) == EV_BUSY) futex_wake(ev, INT_MAX);
  }
}
static void event_reset(aword *ev) { atomic_fetch_or(ev, EV_FREE); }
static void event_wait(aword *ev) {
  for (;;) {
    int32_t v = atomic_load_explicit(ev, memory_order_acquire);
    if (v == EV_SET) return;
    if (v == EV_FREE) {
      int32_t expected = EV_FREE;
      if (!atomic_compare_exchange_strong(ev, &expected, EV_BUSY) && expected == EV_SET) return;
    }
    futex_wait(ev, EV_BUSY);
  }
}

/* ---- QemuLockCnt: bits 0-1 FREE 0 / LOCKED 1 / WAITING 2, count step 4 ---- */
enum { LC_MASK = 3, LC_FREE = 0, LC_LOCKED = 1, LC_WAITING = 2, LC_STEP = 4 };
static int cas(aword *w, int32_t expected, int32_t desired) {
  atomic_compare_exchange_strong(w, &expected, desired);
  return expected; /* the old value */
}
static int cmpxchg_or_wait(aword *w, int32_t *val, int32_t new_if_free, int *waited) {
  if ((*val & LC_MASK) == LC_FREE) {
    int32_t expected = *val;
    *val = cas(w, expected, new_if_free);
    if (*val == expected) { *val = new_if_free; return 1; }
  }
  while ((*val & LC_MASK) != LC_FREE) {
    if ((*val & LC_MASK) == LC_LOCKED) {
      int32_t expected = *val, nv = expected - LC_LOCKED + LC_WAITING;
      *val = cas(w, expected, nv);
      if (*val == expected) *val = nv;
      continue;
    }
    if ((*val & LC_MASK) == LC_WAITING) {
      *waited = 1;
      futex_wait(w, *val);
      *val = atomic_load_explicit(w, memory_order_relaxed);
      continue;
    }
    die("lockcnt word in state 3");
  }
  return 0;
}
static void lc_wake(aword *w) { futex_wake(w, 1); }
static void lc_inc(aword *w) {
  int32_t val = atomic_load_explicit(w, memory_order_relaxed);
  int waited = 0;
  for (;;) {
    if (val >= LC_STEP) {
      int32_t expected = val;
      val = cas(w, val, val + LC_STEP);
      if (val == expected) break;
    } else if (cmpxchg_or_wait(w, &val, LC_STEP, &waited)) break;
  }
  if (waited) lc_wake(w);
}
static void lc_dec(aword *w) { atomic_fetch_sub(w, LC_STEP); }
static int lc_dec_and_lock(aword *w) {
  int32_t val = atomic_load_explicit(w, memory_order_relaxed), locked = LC_LOCKED;
  int waited = 0;
  for (;;) {
    if (val >= 2 * LC_STEP) {
      int32_t expected = val;
      val = cas(w, val, val - LC_STEP);
      if (val == expected) break;
    } else {
      if (cmpxchg_or_wait(w, &val, locked, &waited)) return 1;
      if (waited) locked = LC_WAITING;
    }
  }
  if (waited) lc_wake(w);
  return 0;
}
static int lc_dec_if_lock(aword *w) {
  int32_t val = atomic_load_explicit(w, memory_order_relaxed), locked = LC_LOCKED;
  int waited = 0;
  while (val < 2 * LC_STEP) {
    if (cmpxchg_or_wait(w, &val, locked, &waited)) return 1;
    if (waited) locked = LC_WAITING;
  }
  if (waited) lc_wake(w);
  return 0;
}
static void lc_lock(aword *w) {
  int32_t val = atomic_load_explicit(w, memory_order_relaxed), step = LC_LOCKED;
  int waited = 0;
  while (!cmpxchg_or_wait(w, &val, val + step, &waited)) {
    if (waited) step = LC_WAITING;
  }
}
static void lc_unlock_with(aword *w, int32_t add) {
  int32_t val = atomic_load_explicit(w, memory_order_relaxed), expected;
  do {
    expected = val;
    val = cas(w, val, (val + add) & ~LC_MASK);
  } while (val != expected);
  if (val & LC_WAITING) lc_wake(w);
}
static void lc_unlock(aword *w) { lc_unlock_with(w, 0); }
static void lc_inc_and_unlock(aword *w) { lc_unlock_with(w, LC_STEP); }

/* ---- shared memory ---- */
static uint8_t *map_region(const char *name, size_t *len) {
  int fd = shm_open(name, O_RDWR, 0600);
  if (fd < 0) { perror("shm_open"); die("cannot open the region (the JS side creates it)"); }
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  *len = (size_t)st.st_size;
  void *p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) die("mmap");
  return p;
}
static aword *at(uint8_t *base, size_t len, const char *off) {
  long o = strtol(off, NULL, 10);
  if (o < 0 || o % 4 != 0 || (size_t)o + 4 > len) die("offset out of range or misaligned");
  return (aword *)(base + o);
}
static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Layout of the lockcnt stress, from BASE (words): see scripts/lib/native_layout.ts */
enum { S_WORD = 0, S_INSECT = 1, S_PLAIN = 2, S_ATOMIC = 3, S_VALID = 4, S_FREES = 5, S_PROGRESS = 6 };

static uint64_t rng;
static uint32_t next_rand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)rng; }

static void section(aword *s) {
  if (atomic_exchange(&s[S_INSECT], 1) != 0) die("two processes inside the LockCnt critical section");
  int32_t p = atomic_load_explicit(&s[S_PLAIN], memory_order_relaxed);
  atomic_store_explicit(&s[S_PLAIN], p + 1, memory_order_relaxed); /* plain RMW: only exclusion keeps it exact */
  atomic_fetch_add(&s[S_ATOMIC], 1);
  atomic_store(&s[S_INSECT], 0);
}
static void visit(aword *s) { if (atomic_load(&s[S_VALID]) != 1) die("a visitor saw the object freed"); }
static void free_realloc(aword *s) {
  if ((atomic_load(&s[S_WORD]) >> 2) != 0) die("freeing while visits are in progress");
  atomic_store(&s[S_VALID], 0);
  atomic_fetch_add(&s[S_FREES], 1);
  atomic_store(&s[S_VALID], 1);
}

static int lockcnt_stress(aword *s, long rounds) {
  aword *w = &s[S_WORD];
  long sections = 0;
  for (long n = 0; n < rounds; n++) {
    switch (next_rand() % 5) {
      case 0: lc_inc(w); visit(s); lc_dec(w); break;
      case 1: lc_lock(w); section(s); sections++; lc_unlock(w); break;
      case 2: lc_inc(w); visit(s); if (lc_dec_and_lock(w)) { free_realloc(s); section(s); sections++; lc_unlock(w); } break;
      case 3: lc_inc(w); visit(s); if (lc_dec_if_lock(w)) { free_realloc(s); section(s); sections++; lc_unlock(w); } else lc_dec(w); break;
      case 4: lc_lock(w); section(s); sections++; lc_inc_and_unlock(w); visit(s); lc_dec(w); break;
    }
    atomic_fetch_add(&s[S_PROGRESS], 1);
  }
  printf("ok sections=%ld word=%d expired=%ld\n", sections, atomic_load(w), expired);
  return 0;
}

/* ---- in-process C↔C baselines ---- */
static aword *pp_words;
static long pp_rounds;
/* PEER_PIN: place a ping-pong thread (0 = main, 1 = helper) on a CPU, so runs compare like with like */
static void pin_self(int which) {
  const char *pin = getenv("PEER_PIN");
  if (!pin) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(!strcmp(pin, "cross") ? which : 0, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) die("PEER_PIN: pthread_setaffinity_np failed");
}
static void *pp_event_thread(void *arg) {
  (void)arg;
  pin_self(1);
  for (long i = 0; i < pp_rounds; i++) { event_wait(&pp_words[0]); event_reset(&pp_words[0]); event_set(&pp_words[1]); }
  return NULL;
}
static void *pp_raw_thread(void *arg) {
  (void)arg;
  pin_self(1);
  for (long i = 0; i < pp_rounds; i++) {
    while (atomic_load(&pp_words[2]) == 0) futex_wait(&pp_words[2], 0);
    atomic_store(&pp_words[2], 0);
    futex_wake(&pp_words[2], 1);
  }
  return NULL;
}
static int c_pingpong(long rounds, int raw) {
  /* a MAP_SHARED anonymous mapping: shared (non-private) futex keys, as across processes */
  pp_words = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (pp_words == MAP_FAILED) die("mmap");
  pp_words[0] = EV_FREE; pp_words[1] = EV_FREE; pp_words[2] = 0;
  pp_rounds = rounds;
  pin_self(0);
  pthread_t t;
  double t0 = now_ns();
  pthread_create(&t, NULL, raw ? pp_raw_thread : pp_event_thread, NULL);
  for (long i = 0; i < rounds; i++) {
    if (raw) {
      atomic_store(&pp_words[2], 1);
      futex_wake(&pp_words[2], 1);
      while (atomic_load(&pp_words[2]) == 1) futex_wait(&pp_words[2], 1);
    } else {
      event_set(&pp_words[0]); event_wait(&pp_words[1]); event_reset(&pp_words[1]);
    }
  }
  pthread_join(t, NULL);
  double ns = (now_ns() - t0) / rounds / 2;
  printf("ok ns_per_handoff=%.0f rounds=%ld\n", ns, rounds);
  return 0;
}

/* ---- contended C futex mutex (Drepper, "Futexes Are Tricky", mutex 2), the lock baseline ---- */
static aword mx_word, mx_stop;
static long mx_counter; /* plain: only the mutex keeps it exact */
static void mx_lock(aword *m) {
  int32_t c = 0;
  if (atomic_compare_exchange_strong(m, &c, 1)) return;
  if (c != 2) c = atomic_exchange(m, 2);
  while (c != 0) { futex_wait(m, 2); c = atomic_exchange(m, 2); }
}
static void mx_unlock(aword *m) {
  if (atomic_fetch_sub(m, 1) != 1) { atomic_store(m, 0); futex_wake(m, 1); }
}
struct mx_arg { long count; double ns; };
static void *mx_thread(void *p) {
  struct mx_arg *a = p;
  double t0 = now_ns();
  while (!atomic_load(&mx_stop)) {
    for (int k = 0; k < 64; k++) { mx_lock(&mx_word); mx_counter++; a->count++; mx_unlock(&mx_word); }
  }
  a->ns = now_ns() - t0;
  return NULL;
}
static int c_mutex(int threads, long ms) {
  if (threads < 1 || threads > 64 || ms < 1) die("mutex: 1..64 threads, ms >= 1");
  pthread_t t[64];
  struct mx_arg a[64];
  memset(a, 0, sizeof a);
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, mx_thread, &a[i]);
  usleep(ms * 1000);
  atomic_store(&mx_stop, 1);
  long total = 0;
  double longest = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    total += a[i].count;
    if (a[i].ns > longest) longest = a[i].ns;
  }
  if (total != mx_counter) die("mutex: the counter lost updates (mutual exclusion broken)");
  printf("ok ns_per_pair=%.2f total=%ld counts=", longest / total, total);
  for (int i = 0; i < threads; i++) printf(i ? ",%ld" : "%ld", a[i].count);
  printf(" expired=%ld\n", expired);
  return 0;
}

/* The cheapest futex syscall, as the FFI benchmark issues it: a private wake nobody waits for. */
static int wake_loop(long rounds) {
  static aword word;
  double t0 = now_ns();
  for (long i = 0; i < rounds; i++) syscall(SYS_futex, &word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
  printf("ok ns_per_call=%.1f\n", (now_ns() - t0) / rounds);
  return 0;
}

/* ---- robust mutex (core/robust.ts) ---- */
#define R_TID 0x3fffffff
#define R_OD 0x40000000
#define R_WAITERS ((int32_t)0x80000000u)
#define R_NOTREC R_TID
enum { R_LOCKED = 0, R_DIED = 1, R_NOTRECOVERABLE = 2, R_TIMEDOUT = 3 };
static int r_alive(int32_t pid, int32_t tid) {
  long r = pid ? syscall(SYS_tgkill, pid, tid, 0) : syscall(SYS_tkill, tid, 0);
  return r == 0 || errno != ESRCH; /* only ESRCH is "gone"; EPERM means it exists */
}
static int32_t r_take_dead(aword *w, aword *pidw, int32_t v, int32_t me, int32_t extra) {
  atomic_store(pidw, 0);
  int32_t old = cas(w, v, me | R_OD | (v & R_WAITERS) | extra);
  if (old == v) atomic_store(pidw, getpid());
  return old;
}
/* One slice of sleep: a robust waiter wakes up at least every slice_ms to ask about its owner. */
static void r_sleep(aword *w, int32_t v) {
  struct timespec ts = {slice_ms / 1000, (slice_ms % 1000) * 1000000L};
  syscall(SYS_futex, w, FUTEX_WAIT, v, &ts, NULL, 0);
}
static int r_lock(aword *w, aword *pidw, long timeout_ms, int32_t *died_tid) {
  int32_t me = (int32_t)syscall(SYS_gettid), last = 0;
  int checked = 0, slept = 0;
  double deadline = timeout_ms < 0 ? -1 : now_ns() + timeout_ms * 1e6;
  for (;;) {
    int32_t v = atomic_load(w);
    if (v == 0) {
      if (cas(w, 0, slept ? me | R_WAITERS : me) == 0) { atomic_store(pidw, getpid()); return R_LOCKED; }
      continue;
    }
    int32_t tid = v & R_TID;
    if (tid == R_NOTREC) return R_NOTRECOVERABLE;
    int dead = tid == 0;
    if (!dead && (!checked || v == last)) { checked = 1; dead = !r_alive(atomic_load(pidw), tid); }
    if (dead) {
      if (r_take_dead(w, pidw, v, me, slept ? R_WAITERS : 0) == v) { *died_tid = tid; return R_DIED; }
      continue;
    }
    if (!(v & R_WAITERS)) {
      if (cas(w, v, v | R_WAITERS) != v) continue;
      v |= R_WAITERS;
    }
    if (deadline >= 0 && now_ns() >= deadline) return R_TIMEDOUT;
    last = v;
    r_sleep(w, v);
    slept = 1;
  }
}
static void r_unlock(aword *w, aword *pidw) {
  int32_t me = (int32_t)syscall(SYS_gettid), v = atomic_load(w);
  if ((v & R_TID) != me) die("robust unlock: this thread does not own the word");
  atomic_store(pidw, 0);
  if (v & R_OD) { atomic_store(w, R_NOTREC); futex_wake(w, INT_MAX); return; }
  if (cas(w, me, 0) == me) return;
  atomic_store(w, 0);
  futex_wake(w, 1);
}
static void r_consistent(aword *w) {
  int32_t v = atomic_load(w);
  while (v & R_OD) {
    int32_t old = cas(w, v, v & ~R_OD);
    if (old == v) return;
    v = old;
  }
}
static double realtime_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static aword *r_word, *r_pid;
static void *r_hold_thread(void *arg) {
  int32_t died = 0;
  if (r_lock(r_word, r_pid, -1, &died) == R_NOTRECOVERABLE) die("robust-hold: not recoverable");
  *(int32_t *)arg = (int32_t)syscall(SYS_gettid);
  return NULL; /* the thread ends holding the lock */
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: see the comment at the top of peer.c");
  const char *cmd = argv[1];
  if (getenv("PEER_SLICE_MS")) slice_ms = atol(getenv("PEER_SLICE_MS"));
  if (!strcmp(cmd, "cc-pingpong") && argc == 3) return c_pingpong(atol(argv[2]), 0);
  if (!strcmp(cmd, "raw-pingpong") && argc == 3) return c_pingpong(atol(argv[2]), 1);
  if (!strcmp(cmd, "mutex") && argc == 4) return c_mutex(atoi(argv[2]), atol(argv[3]));
  if (!strcmp(cmd, "wake-loop") && argc == 3) return wake_loop(atol(argv[2]));
  if (argc < 4) die("missing arguments");
  size_t len;
  uint8_t *base = map_region(argv[2], &len);
  if ((!strcmp(cmd, "event-ping") || !strcmp(cmd, "event-pong")) && argc == 7) {
    aword *ping = at(base, len, argv[3]), *pong = at(base, len, argv[4]), *data = at(base, len, argv[5]);
    long rounds = atol(argv[6]);
    int pinger = !strcmp(cmd, "event-ping");
    const char *w = getenv("PEER_WARMUP"); /* rounds before the clock starts (peer.ts reads it too) */
    long warm = w ? atol(w) : 0;
    if (warm < 0 || warm >= rounds) warm = 0;
    barrier(base);
    double t0 = now_ns();
    for (long i = 1; i <= rounds; i++) {
      if (i == warm + 1) t0 = now_ns();
      if (pinger) {
        atomic_store_explicit(data, (int32_t)i, memory_order_relaxed); /* published by set's fence + xchg */
        event_set(ping);
        event_wait(pong);
        event_reset(pong);
      } else {
        event_wait(ping);
        event_reset(ping);
        if (atomic_load_explicit(data, memory_order_relaxed) != (int32_t)i) die("event ping-pong: data word does not hold the round number");
        event_set(pong);
      }
    }
    printf("ok ns_per_handoff=%.0f data=%d ping=%d pong=%d expired=%ld\n", (now_ns() - t0) / (rounds - warm) / 2, atomic_load(data),
           atomic_load(ping), atomic_load(pong), expired);
    return 0;
  }
  if (!strcmp(cmd, "lockcnt") && argc == 6) {
    rng = (uint64_t)atol(argv[5]) * 2654435761u + 1;
    barrier(base);
    return lockcnt_stress(at(base, len, argv[3]), atol(argv[4]));
  }
  if (!strcmp(cmd, "robust-hold") && (argc == 4 || argc == 5)) {
    r_word = at(base, len, argv[3]);
    r_pid = r_word + 1;
    int32_t tid = 0, died = 0;
    if (argc == 5) {
      pthread_t t;
      pthread_create(&t, NULL, r_hold_thread, &tid);
      pthread_join(t, NULL);
    } else {
      if (r_lock(r_word, r_pid, -1, &died) == R_NOTRECOVERABLE) die("robust-hold: not recoverable");
      tid = (int32_t)syscall(SYS_gettid);
    }
    printf("ok held tid=%d pid=%d word=%d\n", tid, getpid(), atomic_load(r_word));
    fflush(stdout);
    for (;;) pause();
  }
  if (!strcmp(cmd, "robust-lock") && argc == 6) {
    aword *w = at(base, len, argv[3]);
    int32_t died = 0;
    int r = r_lock(w, w + 1, atol(argv[4]), &died);
    double at_ms = realtime_ms();
    static const char *names[] = {"locked", "owner-died", "not-recoverable", "timed-out"};
    if (r == R_DIED && !strcmp(argv[5], "consistent")) r_consistent(w);
    if (r == R_LOCKED || r == R_DIED) r_unlock(w, w + 1);
    printf("ok result=%s owner_tid=%d at_ms=%.3f word=%d\n", names[r], died, at_ms, atomic_load(w));
    return 0;
  }
  if (!strcmp(cmd, "robust-count") && argc == 6) {
    aword *w = at(base, len, argv[3]);
    int32_t *counter = (int32_t *)at(base, len, argv[4]);
    aword *inside = (aword *)counter + 1;
    long rounds = atol(argv[5]), repairs = 0;
    barrier(base);
    for (long i = 0; i < rounds; i++) {
      int32_t died = 0;
      int r = r_lock(w, w + 1, -1, &died);
      if (r == R_NOTRECOVERABLE) die("robust-count: the mutex is not recoverable");
      if (r == R_DIED) { repairs++; atomic_store(inside, 0); r_consistent(w); } /* repair: the dead holder's flag */
      if (atomic_exchange(inside, 1) != 0) die("robust-count: two holders inside");
      (*(volatile int32_t *)counter)++; /* plain: only the mutex keeps it exact */
      atomic_store(inside, 0);
      r_unlock(w, w + 1);
    }
    printf("ok repairs=%ld counter=%d\n", repairs, *counter);
    return 0;
  }
  if (!strcmp(cmd, "wake-storm") && argc >= 5) {
    aword *stop = at(base, len, argv[3]);
    long wakes = 0;
    while (atomic_load(stop) == 0) {
      for (int i = 4; i < argc; i++) { futex_wake(at(base, len, argv[i]), INT_MAX); wakes++; }
    }
    printf("ok wakes=%ld\n", wakes);
    return 0;
  }
  die("unknown command or wrong argument count");
}
