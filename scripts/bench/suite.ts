/**
 * The benchmarks of one runtime: every primitive beside its raw baseline, measured in the same
 * run with interleaved repetitions (rep 1 of every variant, then rep 2, …), so each ratio is a
 * median of per-repetition ratios and host drift hits both sides alike.
 *
 *   fast       uncontended fast paths (main thread) vs the raw Atomics operations they are made
 *              of, vs one Atomics RMW, and the notify/wake calls per op (counted separately)
 *   pingpong   event ping-pong between two workers vs a hand-written Atomics.wait/notify loop
 *              and a pure busy-wait loop, with spin off and with the default spin policy
 *   oversub    the same with 4 pairs (8 workers) on this machine's cores
 *   lock       contended Mutex and LockCnt (2 and 4 workers) vs a naive 3-state Atomics mutex,
 *              a C futex mutex (peer.c) and, in Node with --harmony-struct, V8's Atomics.Mutex
 *   sem        Semaphore producer/consumer through a bounded buffer vs raw Atomics semaphores
 *   cond       Mutex + Condition turn-taking ping-pong vs the same written inline with Atomics
 *              (3-state mutex, sequence-word condvar) and, in Node with --harmony-struct, V8's
 *              Atomics.Mutex + Atomics.Condition (scripts/bench/toolkit.ts)
 *   rwlock     4 readers + 1 writer (1 % writes) on a 1024-word record: RwLock vs one Mutex
 *   native     event ping-pong on this runtime's OS futex (Deno FFI, bun:ffi, Node 26's node:ffi) vs C
 *              raw-futex ping-pong (peer.c) run in the same invocation, and the cost of one FFI
 *              call (libc abs; a FUTEX_WAKE nobody waits for, beside C's)
 *   robust     uncontended robust Mutex lock()+unlock() vs the plain Mutex, same native futex (Deno, Bun; Linux)
 *   windows    only when named in --only, in a Windows build (npm start runs Deno's under Wine):
 *              Atomics.wait ping-pong, the raw WaitOnAddress loop and the event on WaitOnAddress
 *   barrier    Barrier(2) round trips between two workers vs a raw Atomics barrier written inline
 *   memory     bytes of shared memory per primitive
 *
 * Usage: node build/scripts/bench/suite.js | deno run -A scripts/bench/suite.ts | bun scripts/bench/suite.ts
 *        [--quick] [--json FILE] [--peer PATH-TO-COMPILED-peer.c] [--only fast,pingpong,…,cond,rwlock] [--spin N]
 * Without --json it prints this runtime's table. Progress goes to stderr. scripts/bench/all.ts
 * (`npm start`) runs it in all three runtimes and adds the cross-process section.
 */
import process from "node:process";
import { rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { atomicsFutex, Barrier, Condition, DEFAULT_SPINS, LockCnt, ManualResetEvent, Mutex, RwLock, Semaphore } from "../../mod.ts";
import { countingFutex } from "../../testing.ts";
import { compilePeer, okFields } from "../lib/peer.ts";
import { runCommand, runtime } from "../lib/runtime.ts";
import { loadBackend, nativeSkip } from "../lib/native.ts";
import { type BenchJob, BLOCK_BYTES, COUNTER, EV_A, EV_B, FIRST_BLOCK, GO, LOCK, READY, SEM_CAPACITY, SEM_ITEMS, SEM_SLOTS, STOP } from "./layout.ts";
import { median } from "../lib/stats.ts";
import { condPingPong, rwThroughput } from "./toolkit.ts";
import { type BenchRow, type RuntimeResult, runtimeTable } from "./report.ts";

const g = globalThis as Record<string, unknown>;
const version = runtime === "deno"
  ? (g.Deno as { version: { deno: string } }).version.deno
  : runtime === "bun"
  ? (g.Bun as { version: string }).version
  : process.versions.node;
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    peer: { type: "string" },
    only: { type: "string" },
    spin: { type: "string" },
  },
});
const quick = opts.quick!;
/** --spin N: the spin count of the "default spin" variants (to tune the policy); else DEFAULT_SPINS. */
const spin: number | undefined = opts.spin === undefined ? undefined : Number(opts.spin);
if (spin !== undefined && !(Number.isInteger(spin) && spin >= 0)) throw new RangeError(`--spin must be a whole number ≥ 0 (got ${opts.spin})`);
const only = opts.only?.split(",");
const wants = (section: string): boolean => !only || only.includes(section);

/** Sizes: quick keeps the three runtimes together near a minute; full is the README run. */
const size = quick
  ? { reps: 3, pp: 3_000, over: 800, lockMs: 150, sem: 20_000, fastOps: 1_000_000, native: 2_000 }
  : { reps: 5, pp: 10_000, over: 2_500, lockMs: 400, sem: 100_000, fastOps: 3_000_000, native: 5_000 };

const rows: BenchRow[] = [];
const notes: string[] = [];
let peer: string | undefined = opts.peer;
/** A peer this run compiled itself (removed at the end); one passed with --peer is the caller's. */
let ownPeer: string | undefined;
if (peer === undefined && (wants("lock") || wants("native"))) {
  // peer.c speaks Linux futex(2); elsewhere the C rows are skipped with the reason.
  const built = process.platform === "linux" ? compilePeer() : { skip: `peer.c is Linux-only (this is ${process.platform})` };
  if (typeof built === "string") peer = ownPeer = built;
  else notes.push(`C baselines skipped: ${built.skip}`);
}

function progress(msg: string): void {
  process.stderr.write(`[${runtime}] ${msg}\n`);
}


/** One measured variant: `run` returns one sample; rows with a baseline get per-rep ratios. */
interface Variant {
  id: string;
  label: string;
  unit: string;
  baseline?: string;
  run: () => Promise<{ value: number; extra?: Record<string, unknown> }> | { value: number; extra?: Record<string, unknown> };
}

/** Run the variants interleaved `reps` times and record a row for each. */
async function interleaved(section: string, variants: Variant[], reps = size.reps): Promise<void> {
  const samples = variants.map(() => [] as number[]);
  const extras = variants.map(() => [] as Record<string, unknown>[]);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < variants.length; i++) {
      progress(`${section}: ${variants[i].label} (${r + 1}/${reps})`);
      const s = await variants[i].run();
      samples[i].push(s.value);
      if (s.extra) extras[i].push(s.extra);
    }
  }
  variants.forEach((v, i) => {
    const base = v.baseline === undefined ? -1 : variants.findIndex((b) => b.id === v.baseline);
    const ratios = base >= 0 ? samples[i].map((x, k) => x / samples[base][k]) : undefined;
    rows.push({
      section,
      id: v.id,
      label: v.label,
      unit: v.unit,
      samples: samples[i],
      median: median(samples[i]),
      baseline: base >= 0 ? v.baseline : undefined,
      ratio: ratios ? median(ratios) : undefined,
      extra: extras[i].length ? extras[i][Math.floor(extras[i].length / 2)] : undefined,
    });
  });
}

// ---------------------------------------------------------------- workers

const workerUrl = new URL(`./worker${ext}`, import.meta.url);

interface WorkerReport {
  ok: boolean;
  ms: number;
  error?: string;
  acquisitions?: number;
  /** Futex/Atomics waits the worker made (each one a sleep unless the word had moved on). */
  sleeps: number;
  /** Wake calls (notify / FUTEX_WAKE) the worker made in the timed part. */
  wakes: number;
}

/** Start the jobs, release them together, collect their reports (60 s watchdog). */
async function runJobs(sab: SharedArrayBuffer, jobs: BenchJob[], stopAfterMs?: number): Promise<WorkerReport[]> {
  const i32 = new Int32Array(sab);
  const workers = jobs.map((j) => new Worker(workerUrl, { workerData: j }));
  const reports = workers.map((w, k) =>
    new Promise<WorkerReport>((resolve, reject) => {
      w.once("message", (r: WorkerReport) => (r.ok ? resolve(r) : reject(new Error(`${jobs[k].kind}/${jobs[k].mode}: ${r.error}`))));
      w.once("error", reject);
    })
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`benchmark workers did not finish within 60 s`)), 60_000);
  });
  try {
    const ready = (async () => {
      while (Atomics.load(i32, READY / 4) < jobs.length) await new Promise((r) => setTimeout(r, 2));
      Atomics.store(i32, GO / 4, 1);
      Atomics.notify(i32, GO / 4);
      if (stopAfterMs !== undefined) {
        await new Promise((r) => setTimeout(r, stopAfterMs));
        Atomics.store(i32, STOP / 4, 1);
      }
    })();
    return await Promise.race([Promise.all([ready, ...reports]).then(() => Promise.all(reports)), watchdog]);
  } finally {
    clearTimeout(timer);
    for (const r of reports) r.catch(() => {});
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const blockAt = (k: number): number => FIRST_BLOCK + k * BLOCK_BYTES;

const sleepsPer1k = (reports: WorkerReport[], ops: number): number => Math.round((reports.reduce((a, r) => a + r.sleeps, 0) * 10000) / ops) / 10;
const wakesPer1k = (reports: WorkerReport[], ops: number): number => Math.round((reports.reduce((a, r) => a + r.wakes, 0) * 10000) / ops) / 10;

/** `pairs` ping-pongs at once: ns per hand-off (the slowest pair's time / its hand-offs) and sleeps per 1000 hand-offs. */
async function pingPong(mode: string, spin: number | undefined, rounds: number, pairs = 1): Promise<{ value: number; extra: Record<string, unknown> }> {
  const sab = new SharedArrayBuffer(blockAt(pairs));
  const jobs: BenchJob[] = [];
  for (let p = 0; p < pairs; p++) {
    const base = blockAt(p);
    new ManualResetEvent({ buffer: sab, byteOffset: base + EV_A });
    new ManualResetEvent({ buffer: sab, byteOffset: base + EV_B });
    for (const side of ["ping", "pong"]) jobs.push({ kind: "pingpong", mode, side, sab, base, spin, rounds });
  }
  const reports = await runJobs(sab, jobs);
  return { value: (Math.max(...reports.map((r) => r.ms)) * 1e6) / (rounds * 2), extra: { sleepsPer1k: sleepsPer1k(reports, rounds * 2 * pairs), wakesPer1k: wakesPer1k(reports, rounds * 2 * pairs) } };
}

/** `n` workers contend for one lock for `ms`; ns per lock+unlock pair and per-worker counts. */
async function contended(mode: string, n: number, ms: number): Promise<{ value: number; extra: Record<string, unknown> }> {
  const sab = new SharedArrayBuffer(blockAt(1));
  const base = blockAt(0);
  if (mode === "mutex") new Mutex({ buffer: sab, byteOffset: base + LOCK });
  if (mode === "lockcnt") new LockCnt({ buffer: sab, byteOffset: base + LOCK });
  const mutex = mode === "v8" ? new (Atomics as unknown as { Mutex: new () => unknown }).Mutex() : undefined;
  const jobs: BenchJob[] = Array.from({ length: n }, (_, k) => ({ kind: "lock", mode, side: String(k), sab, base, rounds: 0, mutex, spin }));
  const reports = await runJobs(sab, jobs, ms);
  const counts = reports.map((r) => r.acquisitions ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  const counter = new Int32Array(sab)[(base + COUNTER) / 4];
  if (counter !== (total | 0)) throw new Error(`${mode}: the counter holds ${counter} after ${total} acquisitions (exclusion broken)`);
  return { value: (Math.max(...reports.map((r) => r.ms)) * 1e6) / total, extra: { counts, sleepsPer1k: sleepsPer1k(reports, total), wakesPer1k: wakesPer1k(reports, total) } };
}

/** Producer → consumer through a bounded buffer of SEM_CAPACITY; ns per item. */
async function producerConsumer(mode: string, items: number): Promise<{ value: number; extra: Record<string, unknown> }> {
  const sab = new SharedArrayBuffer(blockAt(1));
  const base = blockAt(0);
  if (mode === "naive") new Int32Array(sab)[(base + SEM_SLOTS) / 4] = SEM_CAPACITY;
  else {
    new Semaphore(0, { buffer: sab, byteOffset: base + SEM_ITEMS });
    new Semaphore(SEM_CAPACITY, { buffer: sab, byteOffset: base + SEM_SLOTS });
  }
  const jobs: BenchJob[] = ["producer", "consumer"].map((side) => ({ kind: "sem", mode, side, sab, base, rounds: items, spin }));
  const reports = await runJobs(sab, jobs);
  return { value: (Math.max(...reports.map((r) => r.ms)) * 1e6) / items, extra: { sleepsPer1k: sleepsPer1k(reports, items), wakesPer1k: wakesPer1k(reports, items) } };
}

/** Barrier round trips between 2 workers (scripts/bench/barrier_worker.ts): ns per round (the slower worker's time). */
async function barrierRoundTrip(mode: string, spinCount: number | undefined, rounds: number): Promise<{ value: number }> {
  const sab = new SharedArrayBuffer(256);
  if (mode === "barrier") new Barrier(2, { buffer: sab, byteOffset: 64 });
  const url = new URL(`./barrier_worker${ext}`, import.meta.url);
  const workers = [0, 1].map(() => new Worker(url, { workerData: { sab, mode, rounds, spin: spinCount } }));
  try {
    const ms = await Promise.all(workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once("message", (m: { ms: number }) => resolve(m.ms));
      w.once("error", reject);
    })));
    return { value: (Math.max(...ms) * 1e6) / rounds };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Run the C peer and return its ok fields (60 s limit). */
async function runPeer(args: string[], env: Record<string, string> = {}): Promise<Record<string, string>> {
  const r = await runCommand([peer!, ...args], 60_000, { PEER_SLICE_MS: "20000", ...env });
  const f = okFields(r.stdout);
  if (r.code !== 0 || !f) throw new Error(`peer ${args.join(" ")} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  if (f.expired !== undefined && f.expired !== "0") throw new Error(`peer ${args.join(" ")}: ${f.expired} waits expired (lost wakeup)`);
  return f;
}

// ---------------------------------------------------------------- FFI call overhead

/**
 * What one FFI call costs in this runtime, through the binder's own call path (FfiLibrary.call):
 * libc `abs(int)` (no syscall: the bare crossing), and a FUTEX_WAKE nobody waits for (the
 * crossing plus the cheapest futex syscall), beside the same wake from C (peer.c wake-loop).
 */
async function ffiCallVariants(): Promise<Variant[]> {
  const backend = await loadBackend();
  const lib = backend.open("libc.so.6", {
    abs: { parameters: ["i32"], result: "i32" },
    syscall: { parameters: ["i64", "pointer", "i32", "i32", "pointer", "pointer", "i32"], result: "i64" },
  });
  const word = new Int32Array(new SharedArrayBuffer(8));
  const ptr = backend.pointerTo(word, 0);
  const n = quick ? 200_000 : 1_000_000;
  const absArgs: unknown[] = [-7];
  const wakeArgs: unknown[] = [202, ptr, 129 /* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */, 1, null, null, 0];
  const loop = (symbol: string, args: unknown[]) => () => {
    for (let i = 0; i < 10_000; i++) lib.call(symbol, args); // warm-up: let the runtime optimise the call site
    const t = performance.now();
    for (let i = 0; i < n; i++) lib.call(symbol, args);
    return { value: ((performance.now() - t) * 1e6) / n };
  };
  const cWake = async () => ({ value: Number((await runPeer(["wake-loop", String(n)])).ns_per_call) });
  return [
    { id: "native.ffi.c.wake", label: "C: FUTEX_WAKE with no waiter (peer.c wake-loop)", unit: "ns/call", run: cWake },
    { id: "native.ffi.wake", label: "FFI call: FUTEX_WAKE with no waiter (syscall through the binder)", unit: "ns/call", baseline: "native.ffi.c.wake", run: loop("syscall", wakeArgs) },
    { id: "native.ffi.abs", label: "FFI call overhead: libc abs(int) through the binder", unit: "ns/call", run: loop("abs", absArgs) },
  ];
}

// ---------------------------------------------------------------- fast paths

function fastPaths(): Variant[] {
  const n = size.fastOps;
  const sab = new SharedArrayBuffer(64);
  const v = new Int32Array(sab);
  const ev = new ManualResetEvent({ buffer: sab, byteOffset: 0, set: true });
  const mutex = new Mutex({ buffer: sab, byteOffset: 8 });
  const lc = new LockCnt({ buffer: sab, byteOffset: 16 });
  const sem = new Semaphore(0, { buffer: sab, byteOffset: 24 });
  const raw = new Int32Array(new SharedArrayBuffer(64)); // [0] set event (0), [2] mutex, [4] lockcnt, [6] semaphore
  const time = (body: (n: number) => void): { value: number } => {
    const t0 = performance.now();
    body(n);
    return { value: ((performance.now() - t0) * 1e6) / n };
  };
  // Each body is its own loop (no shared closure call per op), so the engine can inline it.
  const ops: Array<[string, string, (n: number) => void, (n: number) => void]> = [
    ["set", "ManualResetEvent.set() on a set event", (k) => {
      for (let i = 0; i < k; i++) ev.set();
    }, (k) => { // QEMU: a set event needs no write — one load
      for (let i = 0; i < k; i++) if (Atomics.load(raw, 0) !== 0) Atomics.exchange(raw, 0, 0);
    }],
    ["wait", "ManualResetEvent.wait() on a set event", (k) => {
      for (let i = 0; i < k; i++) ev.wait();
    }, (k) => {
      for (let i = 0; i < k; i++) if (Atomics.load(raw, 0) !== 0) throw new Error("unset");
    }],
    ["mutex", "Mutex lock()+unlock()", (k) => {
      for (let i = 0; i < k; i++) {
        mutex.lock();
        mutex.unlock();
      }
    }, (k) => { // CAS 0→1, CAS 1→0
      for (let i = 0; i < k; i++) {
        Atomics.compareExchange(raw, 2, 0, 1);
        Atomics.compareExchange(raw, 2, 1, 0);
      }
    }],
    ["lockcnt", "LockCnt inc()+dec()", (k) => {
      for (let i = 0; i < k; i++) {
        lc.inc();
        lc.dec();
      }
    }, (k) => { // load, CAS +4; load, CAS −4
      for (let i = 0; i < k; i++) {
        const a = Atomics.load(raw, 4);
        Atomics.compareExchange(raw, 4, a, a + 4);
        const b = Atomics.load(raw, 4);
        Atomics.compareExchange(raw, 4, b, b - 4);
      }
    }],
    ["semaphore", "Semaphore release()+acquire()", (k) => {
      for (let i = 0; i < k; i++) {
        sem.release();
        sem.acquire();
      }
    }, (k) => { // load, CAS +1; load, CAS −1
      for (let i = 0; i < k; i++) {
        const a = Atomics.load(raw, 6);
        Atomics.compareExchange(raw, 6, a, a + 1);
        const b = Atomics.load(raw, 6);
        Atomics.compareExchange(raw, 6, b, b - 1);
      }
    }],
  ];
  // Wake calls per op, counted on a separate set of words with a counting futex (not timed).
  const counted = new SharedArrayBuffer(64);
  const cf = countingFutex(atomicsFutex);
  const cEv = new ManualResetEvent({ buffer: counted, byteOffset: 0, set: true, futex: cf });
  const cMutex = new Mutex({ buffer: counted, byteOffset: 8, futex: cf });
  const cLc = new LockCnt({ buffer: counted, byteOffset: 16, futex: cf });
  const cSem = new Semaphore(0, { buffer: counted, byteOffset: 24, futex: cf });
  const countOf: Record<string, () => void> = {
    set: () => cEv.set(),
    wait: () => void cEv.wait(),
    mutex: () => (cMutex.lock(), cMutex.unlock()),
    lockcnt: () => (cLc.inc(), cLc.dec()),
    semaphore: () => (cSem.release(), void cSem.acquire()),
  };
  const calls = (id: string): number => {
    cf.calls.wait = cf.calls.wakeOne = cf.calls.wakeAll = cf.calls.waitAsync = 0;
    for (let i = 0; i < 10_000; i++) countOf[id]();
    return (cf.calls.wait + cf.calls.wakeOne + cf.calls.wakeAll) / 10_000;
  };
  const variants: Variant[] = [{
    id: "fast.rmw",
    label: "one Atomics.add (a raw RMW)",
    unit: "ns/op",
    run: () => time((k) => {
      for (let i = 0; i < k; i++) Atomics.add(v, 15, 1);
    }),
  }, {
    id: "fast.handrolled.set",
    label: "hand-rolled set: Atomics.store + Atomics.notify",
    unit: "ns/op",
    baseline: "fast.rmw",
    run: () => time((k) => {
      for (let i = 0; i < k; i++) {
        Atomics.store(raw, 8, 0);
        Atomics.notify(raw, 8);
      }
    }),
  }];
  for (const [id, label, lib, rawOps] of ops) {
    variants.push({ id: `fast.${id}.raw`, label: `raw Atomics ops of ${label}`, unit: "ns/op", run: () => time(rawOps) });
    variants.push({
      id: `fast.${id}`,
      label,
      unit: "ns/op",
      baseline: `fast.${id}.raw`,
      run: () => ({ ...time(lib), extra: { wakesPerOp: calls(id) } }),
    });
  }
  return variants;
}

// ---------------------------------------------------------------- sections

async function main(): Promise<void> {
  const t0 = performance.now();
  const cores = availableParallelism();
  if (wants("fast")) {
    const variants = fastPaths();
    for (const v of variants) v.run(); // warm-up: let the engine compile every loop
    await interleaved("fast", variants, quick ? 5 : 9);
  }
  if (wants("pingpong")) {
    const pp = (mode: string, spin?: number) => () => pingPong(mode, spin, mode === "busy" ? size.pp * 4 : size.pp);
    await interleaved("pingpong", [
      { id: "pp.raw", label: "raw Atomics.wait/notify ping-pong", unit: "ns/hand-off", run: pp("raw") },
      { id: "pp.busy", label: "pure busy-wait ping-pong (no wait/notify)", unit: "ns/hand-off", baseline: "pp.raw", run: pp("busy") },
      { id: "pp.event.spin0", label: "ManualResetEvent, spin off", unit: "ns/hand-off", baseline: "pp.raw", run: pp("event", 0) },
      { id: "pp.event.spin", label: `ManualResetEvent, ${spin === undefined ? `default spin (${DEFAULT_SPINS})` : `spin ${spin}`}`, unit: "ns/hand-off", baseline: "pp.raw", run: pp("event", spin) },
    ]);
  }
  if (wants("oversub")) {
    const ov = (mode: string, spin?: number) => () => pingPong(mode, spin, size.over, 4);
    await interleaved(`oversub`, [
      { id: "over.raw", label: `4 pairs on ${cores} cores: raw Atomics.wait/notify`, unit: "ns/hand-off", run: ov("raw") },
      { id: "over.event.spin0", label: `4 pairs on ${cores} cores: ManualResetEvent, spin off`, unit: "ns/hand-off", baseline: "over.raw", run: ov("event", 0) },
      { id: "over.event.spin", label: `4 pairs on ${cores} cores: ManualResetEvent, default spin`, unit: "ns/hand-off", baseline: "over.event.spin0", run: ov("event", spin) },
    ]);
  }
  if (wants("lock")) {
    const hasV8 = typeof (Atomics as unknown as { Mutex?: unknown }).Mutex === "function" && runtime === "node";
    if (!hasV8) notes.push(runtime === "node"
      ? "V8 Atomics.Mutex row needs node --harmony-struct (scripts/bench/all.ts passes it)"
      : runtime === "deno"
      ? "no V8 Atomics.Mutex row: Deno has it but cannot send it to a worker"
      : "no V8 Atomics.Mutex row: Bun (JavaScriptCore) has no Atomics.Mutex");
    for (const n of [2, 4]) {
      const lk = (mode: string) => () => contended(mode, n, size.lockMs);
      const variants: Variant[] = [
        { id: `lock${n}.naive`, label: `${n} workers: naive 3-state Atomics mutex`, unit: "ns/pair", run: lk("naive") },
        { id: `lock${n}.mutex`, label: `${n} workers: Mutex`, unit: "ns/pair", baseline: `lock${n}.naive`, run: lk("mutex") },
        { id: `lock${n}.lockcnt`, label: `${n} workers: LockCnt lock()+unlock()`, unit: "ns/pair", baseline: `lock${n}.naive`, run: lk("lockcnt") },
      ];
      if (hasV8) variants.push({ id: `lock${n}.v8`, label: `${n} workers: V8 Atomics.Mutex (--harmony-struct)`, unit: "ns/pair", baseline: `lock${n}.naive`, run: lk("v8") });
      if (peer) {
        variants.push({
          id: `lock${n}.c`,
          label: `${n} threads: C futex mutex (Drepper, peer.c)`,
          unit: "ns/pair",
          run: async () => {
            const f = await runPeer(["mutex", String(n), String(size.lockMs)]);
            return { value: Number(f.ns_per_pair), extra: { counts: f.counts.split(",").map(Number) } };
          },
        });
      }
      await interleaved("lock", variants);
    }
  }
  if (wants("sem")) {
    const pc = (mode: string) => () => producerConsumer(mode, size.sem);
    await interleaved("sem", [
      { id: "sem.naive", label: `producer→consumer, ${SEM_CAPACITY} slots: raw Atomics semaphores`, unit: "ns/item", run: pc("naive") },
      { id: "sem.semaphore", label: `producer→consumer, ${SEM_CAPACITY} slots: Semaphore`, unit: "ns/item", baseline: "sem.naive", run: pc("semaphore") },
    ]);
  }
  if (wants("cond")) {
    const hasV8 = runtime === "node" && typeof (Atomics as unknown as { Condition?: unknown }).Condition === "function";
    if (!hasV8 && runtime === "node") notes.push("V8 Atomics.Condition row needs node --harmony-struct");
    const cp = (mode: string, s?: number) => () => condPingPong(mode, size.pp, s);
    const variants: Variant[] = [
      { id: "cond.raw", label: "turn ping-pong: inline Atomics 3-state mutex + sequence condvar", unit: "ns/hand-off", run: cp("raw") },
      { id: "cond.lib.spin0", label: "turn ping-pong: Mutex (spin off) + Condition", unit: "ns/hand-off", baseline: "cond.raw", run: cp("lib", 0) },
      { id: "cond.lib", label: "turn ping-pong: Mutex (default spin) + Condition", unit: "ns/hand-off", baseline: "cond.raw", run: cp("lib", spin) },
    ];
    if (hasV8) variants.push({ id: "cond.v8", label: "turn ping-pong: V8 Atomics.Mutex + Atomics.Condition (--harmony-struct)", unit: "ns/hand-off", baseline: "cond.raw", run: cp("v8") });
    await interleaved("cond", variants);
  }
  if (wants("rwlock")) {
    const rt = (mode: string) => () => rwThroughput(mode, size.lockMs, spin);
    await interleaved("rwlock", [
      { id: "rwlock.mutex", label: "4 readers + 1 writer (1 % writes), 1024-word record: one Mutex", unit: "ns/op", run: rt("mutex") },
      { id: "rwlock.rwlock", label: "4 readers + 1 writer (1 % writes), 1024-word record: RwLock", unit: "ns/op", baseline: "rwlock.mutex", run: rt("rwlock") },
    ]);
  }
  if (wants("barrier")) {
    const br = (mode: string, spinCount?: number) => () => barrierRoundTrip(mode, spinCount, size.pp);
    await interleaved("barrier", [
      { id: "barrier.raw", label: "2 workers: raw Atomics barrier (generation + count, wait/notify)", unit: "ns/round", run: br("raw") },
      { id: "barrier.spin0", label: "2 workers: Barrier(2).wait(), spin off", unit: "ns/round", baseline: "barrier.raw", run: br("barrier", 0) },
      { id: "barrier.spin", label: "2 workers: Barrier(2).wait(), default spin", unit: "ns/round", baseline: "barrier.raw", run: br("barrier", spin) },
    ]);
  }
  if (wants("native")) {
    const why = runtime === "node" && nativeSkip
      ? `${nativeSkip}` // Node < 26: no node:ffi (npm start benchmarks it in the node26 run)
      : process.platform !== "linux"
      ? `the C raw-futex baseline (peer.c) is Linux-only; this is ${process.platform}`
      : !peer
      ? "no C compiler for the raw-futex baseline"
      : undefined;
    if (why) notes.push(`native section skipped: ${why}`);
    else {
      const n = size.native;
      // The C threads are pinned (PEER_PIN): unpinned they flip between the same-CPU and the
      // cross-CPU regime run to run. The JS workers of an idle 2-core machine run cross-CPU.
      const c = (cmd: string, pin: string) => async () => ({ value: Number((await runPeer([cmd, String(n)], { PEER_PIN: pin })).ns_per_handoff) });
      await interleaved("native", [
        { id: "native.c.raw", label: "C raw-futex ping-pong, threads on CPU 0 / CPU 1 (peer.c)", unit: "ns/hand-off", run: c("raw-pingpong", "cross") },
        { id: "native.c.raw.same", label: "C raw-futex ping-pong, both threads on CPU 0 (peer.c)", unit: "ns/hand-off", baseline: "native.c.raw", run: c("raw-pingpong", "same") },
        { id: "native.c.event", label: "C QEMU-event ping-pong, threads on CPU 0 / CPU 1 (peer.c)", unit: "ns/hand-off", baseline: "native.c.raw", run: c("cc-pingpong", "cross") },
        { id: "native.raw", label: "FFI futex, hand-written wait/wake loop (2 workers)", unit: "ns/hand-off", baseline: "native.c.raw", run: () => pingPong("native-raw", 0, n) },
        { id: "native.event", label: "FFI futex, ManualResetEvent, spin off (2 workers)", unit: "ns/hand-off", baseline: "native.c.raw", run: () => pingPong("native-event", 0, n) },
      ]);
      await interleaved("native", await ffiCallVariants());
    }
  }
  if (only?.includes("windows")) {
    // Asked for by name only (npm start's windows section); only where this runtime is a Windows build (npm start runs it under Wine): the event
    // ping-pong on WaitOnAddress beside Atomics.wait and the raw wait/wake loop on WaitOnAddress,
    // in the same run. No C baseline there (peer.c speaks Linux futex(2)).
    if (process.platform !== "win32") notes.push(`windows section skipped: it runs in a Windows build (this is ${process.platform})`);
    else {
      const n = size.native;
      await interleaved("windows", [
        { id: "win.atomics", label: "Wine: raw Atomics.wait/notify ping-pong (2 workers)", unit: "ns/hand-off", run: () => pingPong("raw", undefined, n) },
        { id: "win.raw", label: "Wine: WaitOnAddress, hand-written wait/wake loop (2 workers)", unit: "ns/hand-off", baseline: "win.atomics", run: () => pingPong("native-raw", 0, n) },
        { id: "win.event", label: "Wine: WaitOnAddress, ManualResetEvent, spin off (2 workers)", unit: "ns/hand-off", baseline: "win.raw", run: () => pingPong("native-event", 0, n) },
      ]);
      notes.push("windows section: Wine's numbers (Wine's WaitOnAddress over Linux futexes, in a Windows build under Wine 8.0), not Windows'");
    }
  }
  if (wants("robust")) {
    const { loadNative, nativeSkip } = await import("../lib/native.ts");
    if (nativeSkip) notes.push(`robust section skipped: ${nativeSkip}`);
    else {
      const native = await loadNative();
      const futex = native.nativeFutex();
      const sab = new SharedArrayBuffer(64);
      const plain = new Mutex({ buffer: sab, byteOffset: 0, futex });
      const robust = new Mutex({ buffer: sab, byteOffset: 8, futex, robust: true });
      const n = size.fastOps;
      const time = (m: Mutex) => (): { value: number } => {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          m.lock();
          m.unlock();
        }
        return { value: ((performance.now() - t0) * 1e6) / n };
      };
      await interleaved("robust", [
        { id: "robust.plain", label: "Mutex lock()+unlock(), native futex", unit: "ns/op", run: time(plain) },
        { id: "robust.robust", label: "robust Mutex lock()+unlock(), same futex", unit: "ns/op", baseline: "robust.plain", run: time(robust) },
      ], quick ? 5 : 9);
    }
  }
  if (wants("memory")) {
    // Pack 1000 of each primitive into a buffer of exactly 1000 × bytes; the constructors
    // reject out-of-range offsets, so this succeeds only if each needs no more than that.
    const fit = (make: (sab: SharedArrayBuffer, off: number) => void): number => {
      for (const bytes of [4, 8, 16]) {
        try {
          const sab = new SharedArrayBuffer(1000 * bytes);
          for (let k = 0; k < 1000; k++) make(sab, k * bytes);
          return bytes;
        } catch { /* try a larger stride */ }
      }
      return NaN;
    };
    const mem: Array<[string, string, number]> = [
      ["event", "ManualResetEvent", fit((buffer, byteOffset) => new ManualResetEvent({ buffer, byteOffset }))],
      ["mutex", "Mutex", fit((buffer, byteOffset) => new Mutex({ buffer, byteOffset }))],
      ["lockcnt", "LockCnt", fit((buffer, byteOffset) => new LockCnt({ buffer, byteOffset }))],
      ["semaphore", "Semaphore", fit((buffer, byteOffset) => new Semaphore(1, { buffer, byteOffset }))],
      ["condition", "Condition", fit((buffer, byteOffset) => new Condition({ buffer, byteOffset }))],
      ["rwlock", "RwLock", fit((buffer, byteOffset) => new RwLock({ buffer, byteOffset }))],
    ];
    for (const [id, label, bytes] of mem) {
      rows.push({ section: "memory", id: `mem.${id}`, label: `${label}: shared bytes per primitive`, unit: "bytes", samples: [bytes], median: bytes });
    }
  }
  const result: RuntimeResult = {
    runtime,
    version,
    platform: `${process.platform}-${process.arch}`,
    cores,
    quick,
    seconds: (performance.now() - t0) / 1000,
    rows,
    notes,
  };
  const out = opts.json;
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  else console.log(runtimeTable(result));
  if (ownPeer) rmSync(dirname(ownPeer), { recursive: true, force: true });
  progress(`done in ${result.seconds.toFixed(1)} s`);
}

await main();
