/**
 * The page side of the browser row (tests/browser/browser.check.ts drives it with puppeteer):
 * each export of `tests` runs on the page's main thread, starts module Web Workers on the
 * scenario roles (tests/workers/*, unchanged, through tests/browser/worker.ts) or the browser
 * roles (tests/browser/browser_roles.ts), checks what the Node scenarios check, and resolves
 * with a JSON report or rejects with what failed. The page never blocks: its own waits are the
 * library's async forms, or polls.
 *
 * Loaded as /tests/browser/page.js by index.html, from which the library resolves to the
 * package's ESM build (/mod.js). On index.html?nowaitasync the engine's Atomics.waitAsync is
 * deleted first, here and in every worker, so the async forms run through the helper Worker.
 */

import { LockCnt, ManualResetEvent, Mutex, Semaphore } from "../../mod.ts";
import { waitHelperCount } from "../../adapters/atomics_wait_helper.ts";
import { BYTES, eventOffset } from "../support/event_layout.ts";
import { L, LOCK_BYTES } from "../support/lock_layout.ts";
import { B, BROWSER_BYTES, wordOffset } from "./layout.ts";
import type { BrowserJob } from "./worker.ts";

interface BrowserWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((event: { data: Report }) => void) | null;
  onerror: ((event: { message?: string; preventDefault(): void }) => void) | null;
}
interface PageScope {
  Worker: new (url: URL, options: { type: "module" }) => BrowserWorker;
  location: { search: string };
  crossOriginIsolated?: boolean;
  navigator: { userAgent: string };
}
const page = globalThis as unknown as PageScope;

/** On index.html?nowaitasync every worker deletes Atomics.waitAsync too. */
const noWaitAsync = new URLSearchParams(page.location.search).has("nowaitasync");

/** A worker's report (tests/browser/worker_env.ts). */
interface Report {
  ok: boolean;
  error?: string;
  waitAsync?: boolean;
  waitHelpers?: number;
  [key: string]: unknown;
}

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, limitMs = 5000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(1);
  }
}

const scripts = {
  event: new URL("../workers/event_roles.js", import.meta.url).href,
  lock: new URL("../workers/lock_roles.js", import.meta.url).href,
  browser: new URL("./browser_roles.js", import.meta.url).href,
};

/**
 * Start a module worker per entry of `datas` on a role module, collect each report, and fail on
 * an error report, a crash, no progress for `stall.ms`, or `timeoutMs` overall. Workers are
 * terminated in every case.
 */
async function runWorkers(
  script: keyof typeof scripts,
  datas: Record<string, unknown>[],
  timeoutMs: number,
  describeState: () => string,
  stall?: () => number,
): Promise<Report[]> {
  const workers = datas.map(() => new page.Worker(new URL("./worker.js", import.meta.url), { type: "module" }));
  // Every worker loads the library first; the roles start together once all have (worker.ts).
  const loaded = workers.map((w, i) =>
    new Promise<void>((resolve, reject) => {
      w.onmessage = (e) => ((e.data as { loaded?: boolean }).loaded ? resolve() : reject(new Error(`worker ${i}: ${e.data.error}`)));
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`worker ${i} (${String(datas[i].role)}) failed to load: ${e.message ?? "error"}`));
      };
    })
  );
  workers.forEach((w, i) => w.postMessage({ script: scripts[script], data: datas[i], noWaitAsync } satisfies BrowserJob));
  try {
    await Promise.race([Promise.all(loaded), tick(30_000).then(() => Promise.reject(new Error("workers did not load within 30 s")))]);
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  const reports = workers.map((w, i) =>
    new Promise<Report>((resolve, reject) => {
      w.onmessage = (e) => (e.data.ok ? resolve(e.data) : reject(new Error(`worker ${i} (${String(datas[i].role)}): ${e.data.error}`)));
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`worker ${i} (${String(datas[i].role)}) crashed: ${e.message ?? "error"}`));
      };
    })
  );
  for (const w of workers) w.postMessage({ go: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: workers did not finish within ${timeoutMs} ms; ${describeState()}`)), timeoutMs);
    if (stall) {
      let last = stall();
      let since = performance.now();
      poll = setInterval(() => {
        const now = stall();
        if (now !== last) {
          last = now;
          since = performance.now();
        } else if (performance.now() - since > 10_000) {
          reject(new Error(`watchdog: no progress for 10 s (stuck at ${now}: lost wakeup?); ${describeState()}`));
        }
      }, 100);
    }
  });
  try {
    return await Promise.race([Promise.all(reports), watchdog]);
  } catch (e) {
    // What the other workers say within a second helps to tell a victim from the culprit.
    const others = await Promise.race([Promise.allSettled(reports), tick(1000).then(() => [])]);
    const said = others.flatMap((o, i) => o.status === "rejected" ? [`${i}: ${String((o.reason as Error).message)}`] : []);
    if (said.length > 1) (e as Error).message += `; other workers: ${said.join(" | ")}`;
    throw e;
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    for (const r of reports) r.catch(() => {});
    for (const w of workers) w.terminate();
  }
}

/** What every scenario returns: which async path the workers had, and their helper Workers. */
function paths(reports: Report[]): { workersWaitAsync: boolean[]; workerHelpers: number[]; pageHelpers: number } {
  const workerHelpers = reports.map((r) => Number(r.waitHelpers ?? 0));
  for (const h of workerHelpers) check(h <= 1, `a worker started ${h} helper Workers; one per thread is the bound`);
  check(waitHelperCount() <= 1, `the page started ${waitHelperCount()} helper Workers`);
  return { workersWaitAsync: reports.map((r) => r.waitAsync === true), workerHelpers, pageHelpers: waitHelperCount() };
}

interface Role {
  role: string;
  id?: number;
}
const many = (role: string, count: number, from = 0): Role[] => Array.from({ length: count }, (_, id) => ({ role, id: id + from }));

/** The event scenarios' setup, as tests/event_scenarios.test.ts does it. */
function eventScenario(name: string, events: number, roles: Role[], n: number, waiters: number, mixed: boolean): Promise<Report[]> {
  const sab = new SharedArrayBuffer(BYTES);
  for (let i = 0; i < events; i++) new ManualResetEvent({ buffer: sab, byteOffset: eventOffset(i) });
  const words = new Int32Array(sab);
  return runWorkers(
    "event",
    roles.map((r, k) => ({
      scenario: name,
      role: r.role,
      id: r.id ?? 0,
      sab,
      chaos: false,
      async: mixed && k % 2 === 0,
      seed: 1000 * k + 17 + (mixed ? 3 : 0),
      spin: undefined,
      rounds: n,
      waiters,
    })),
    60_000,
    () => `event words [${[0, 1].map((i) => words[eventOffset(i) / 4]).join(", ")}]`,
  );
}

/** The lock scenarios' setup, as tests/lock_scenarios.test.ts does it. */
function lockScenario(scenario: string, sab: SharedArrayBuffer, roles: Role[], n: number, mixed: boolean): Promise<Report[]> {
  const w = new Int32Array(sab);
  return runWorkers(
    "lock",
    roles.map((r, k) => ({
      scenario,
      role: r.role,
      id: r.id ?? 0,
      sab,
      chaos: false,
      async: mixed && k % 2 === 0,
      seed: 7919 * (k + 1) + (mixed ? 2 : 0),
      spin: undefined,
      rounds: n,
    })),
    120_000,
    () => `word ${w[L.PRIM]}, plain ${w[L.PLAIN]}, atomic ${w[L.ATOMIC]}`,
    () => w[L.ATOMIC] + w[L.OPS] + w[L.CONSUMED] + w[L.PRODUCED],
  );
}

function expectError(what: string, fn: () => unknown, type: ErrorConstructor, ...patterns: RegExp[]): string {
  try {
    fn();
  } catch (e) {
    check(e instanceof type, `${what}: threw ${String(e)}, want a ${type.name}`);
    for (const p of patterns) check(p.test(e.message), `${what}: the message does not match ${p}: ${e.message}`);
    return e.message;
  }
  throw new Error(`${what}: did not throw`);
}

/** The tests the puppeteer side calls by name. Sizes are the Node scenarios' scaled by the caller. */
export const tests: Record<string, (...args: never[]) => unknown> = {
  /** Where the page runs: isolation, SharedArrayBuffer, the async path. */
  env() {
    return {
      crossOriginIsolated: page.crossOriginIsolated === true,
      sharedArrayBuffer: typeof SharedArrayBuffer === "function",
      waitAsync: typeof Atomics.waitAsync === "function",
      userAgent: page.navigator.userAgent,
    };
  },

  /** S1: remote-call handshake, the driver and 5 remotes in workers (mixed: the driver async). */
  async s1(n: number, mixed: boolean) {
    const reports = await eventScenario("s1", 1, [{ role: "driver" }, ...many("remote", 5)], n, 5, mixed);
    return paths(reports);
  },

  /** S3: broadcast to 8 waiters on alternating events (mixed: half the waiters async). */
  async s3(n: number, mixed: boolean) {
    const reports = await eventScenario("s3", 2, [{ role: "driver" }, ...many("waiter", 8)], n, 8, mixed);
    check(reports[0].passed === 8 * n, `S3: passed ${String(reports[0].passed)}, want ${8 * n}`);
    return paths(reports);
  },

  /** S13: semaphore, 4 producers × 4 consumers; totals match. */
  async s13(n: number, mixed: boolean) {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    const s = new Semaphore(0, { buffer: sab, byteOffset: 0 });
    const reports = await lockScenario("s13", sab, [...many("producer", 4), ...many("consumer", 4, 4)], n, mixed);
    check(w[L.PRODUCED] === 4 * n, `S13: produced ${w[L.PRODUCED]}`);
    check(w[L.CONSUMED] === 4 * n, `S13: consumed ${w[L.CONSUMED]}, want ${4 * n}`);
    check(reports.slice(4).reduce((a, r) => a + Number(r.got), 0) === 4 * n, "S13: consumers' totals");
    check(s.value === 0 && (w[L.PRIM] & 0x7fffffff) === 0, `S13: final word ${w[L.PRIM]}`);
    return paths(reports);
  },

  /** Mutex counter stress, 5 workers (mixed: half of them on lockAsync). */
  async mutex(n: number, mixed: boolean) {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    new Mutex({ buffer: sab, byteOffset: 0 });
    const reports = await lockScenario("mutex", sab, many("worker", 5), n, mixed);
    check(w[L.PLAIN] === w[L.ATOMIC], `mutex: plain ${w[L.PLAIN]} != atomic ${w[L.ATOMIC]}: mutual exclusion failed`);
    check(w[L.ATOMIC] >= 5 * n * 0.9 - 1, `mutex: too few sections: ${w[L.ATOMIC]}`);
    check(w[L.PRIM] === 0, `mutex: final word ${w[L.PRIM]}`);
    return paths(reports);
  },

  /**
   * Four workers in blocking guard() loops and `calls` withLockAsync calls of the page's main
   * thread on one Mutex, all at once: the counter is exact and nobody overlaps.
   */
  async mainWithLockAsync(rounds: number, calls: number) {
    const sab = new SharedArrayBuffer(BROWSER_BYTES);
    const w = new Int32Array(sab);
    const m = new Mutex({ buffer: sab, byteOffset: 0 });
    const workers = runWorkers(
      "browser",
      many("guard", 4).map((r) => ({ scenario: "b", ...r, sab, rounds, seed: 0 })),
      60_000,
      () => `word ${w[B.WORD]}, atomic ${w[B.ATOMIC]}`,
      () => w[B.ATOMIC],
    );
    const mine = Array.from({ length: calls }, (_, i) =>
      m.withLockAsync(async () => {
        if (Atomics.exchange(w, B.INSECT, 1) !== 0) throw new Error(`withLockAsync ${i}: another thread is inside`);
        w[B.PLAIN]++;
        Atomics.add(w, B.ATOMIC, 1);
        if (i % 8 === 0) await tick(0); // hold the lock across a macrotask now and then
        Atomics.store(w, B.INSECT, 0);
      }, { timeout: 30_000 }));
    const reports = await workers;
    await Promise.all(mine);
    check(w[B.PLAIN] === 4 * rounds + calls, `counter ${w[B.PLAIN]}, want ${4 * rounds + calls}`);
    check(w[B.ATOMIC] === w[B.PLAIN], "plain and atomic counters differ");
    check(w[B.WORD] === 0 && !m.isLocked, `final mutex word ${w[B.WORD]}`);
    return { counter: w[B.PLAIN], pageWaitAsync: typeof Atomics.waitAsync === "function", ...paths(reports) };
  },

  /**
   * The main thread against a worker that holds a Mutex and a LockCnt: the blocking forms that
   * would have to wait throw TypeError naming their async forms (the engine's own TypeError as
   * the cause), nothing is left held; blocking forms that need not wait work; the async forms
   * time out (false after ≥ their timeout), then succeed once the worker lets go; a Semaphore
   * permit and an event set by the worker arrive through acquireAsync and waitAsync; an abort
   * rejects with its reason.
   */
  async mainThread() {
    const sab = new SharedArrayBuffer(BROWSER_BYTES);
    const w = new Int32Array(sab);
    const m = new Mutex({ buffer: sab, byteOffset: 0 });
    const lc = new LockCnt({ buffer: sab, byteOffset: wordOffset(1) });
    const s = new Semaphore(0, { buffer: sab, byteOffset: wordOffset(2) });
    const ev = new ManualResetEvent({ buffer: sab, byteOffset: wordOffset(3) });
    const holder = runWorkers("browser", [{ scenario: "b", role: "hold", id: 0, sab, rounds: 1, seed: 0 }], 30_000, () => `word ${w[0]}`);
    await until("the worker to take the locks", () => Atomics.load(w, B.PRODUCED) === 1);

    const errors: Record<string, string> = {};
    let engine = "";
    try {
      m.lock(200);
    } catch (e) {
      engine = String((e as Error).cause);
    }
    check(/TypeError/.test(engine), `Mutex.lock's error carries the engine's TypeError as its cause (got ${engine})`);
    errors["m.lock(200)"] = expectError("m.lock(200)", () => m.lock(200), TypeError, /^Mutex\.lock: /, /Mutex\.lockAsync/, /Worker/);
    let ran = false;
    errors["m.withLock(fn)"] = expectError("m.withLock(fn)", () => m.withLock(() => (ran = true)), TypeError, /withLockAsync/);
    check(!ran, "withLock ran its function without the lock");
    errors["m.guard(50)"] = expectError("m.guard(50)", () => m.guard(50), TypeError, /Mutex\.lockAsync/);
    errors["lc.lock(50)"] = expectError("lc.lock(50)", () => lc.lock(50), TypeError, /LockCnt\.lockAsync/);
    errors["lc.inc()"] = expectError("lc.inc()", () => lc.inc(), TypeError, /LockCnt\.incAsync/);
    errors["s.acquire(50)"] = expectError("s.acquire(50)", () => s.acquire(50), TypeError, /Semaphore\.acquireAsync/);
    errors["ev.wait(50)"] = expectError("ev.wait(50)", () => ev.wait(50), TypeError, /ManualResetEvent\.waitAsync/);
    check(!m.held && !lc.held && lc.count === 0, "a refused blocking call left something held");

    // Blocking forms that need not wait work on the main thread.
    const free = new Mutex();
    check(free.withLock(() => 7) === 7 && !free.isLocked, "an uncontended withLock on the main thread");
    const one = new Semaphore(1);
    check(one.acquire(50) && one.value === 0, "acquire(50) with a permit free");
    const set = new ManualResetEvent({ set: true });
    check(set.wait(50), "wait(50) on a set event");
    check(!m.tryLock() && !s.acquire(0) && !ev.wait(0), "polls (tryLock, acquire(0), wait(0)) on held or empty words");

    // The async forms: a timeout on the held lock, then the worker lets go.
    const t0 = performance.now();
    const timedOut = await m.lockAsync({ timeout: 100 });
    const waited = performance.now() - t0;
    check(timedOut === false, "lockAsync({ timeout: 100 }) on a held lock resolved true");
    check(waited >= 99, `lockAsync({ timeout: 100 }) gave up after ${waited.toFixed(1)} ms`);
    check((await lc.lockAsync({ timeout: 50 })) === false, "LockCnt.lockAsync({ timeout: 50 }) on a held lock");
    check((await s.acquireAsync({ timeout: 50 })) === false, "acquireAsync({ timeout: 50 }) on an empty semaphore");
    const ac = new AbortController();
    const aborted = s.acquireAsync({ signal: ac.signal });
    ac.abort(new Error("cancelled"));
    const reason = await aborted.then(() => "resolved", (e: Error) => e.message);
    check(reason === "cancelled", `an aborted acquireAsync: ${reason}`);

    Atomics.store(w, B.GO, 1);
    Atomics.notify(w, B.GO);
    check(await m.lockAsync({ timeout: 5000 }), "lockAsync after the worker's unlock");
    m.unlock();
    check(await lc.lockAsync({ timeout: 5000 }), "LockCnt.lockAsync after the worker's unlock");
    lc.unlock();
    check(await s.acquireAsync({ timeout: 5000 }), "Semaphore.acquireAsync → the worker's permit");
    check(await ev.waitAsync({ timeout: 5000 }), "ManualResetEvent.waitAsync → the worker's set");
    const reports = await holder;
    check(s.value === 0 && w[0] === 0, "final words");
    return { errors, engineError: engine, lockAsyncTimeoutMs: Math.round(waited), ...paths(reports) };
  },

  /**
   * Many async waits on many words at once from the main thread: `events` events × `each`
   * waitAsync calls, set one by one by a worker in a shuffled order. All resolve true; with
   * the helper path, one helper Worker serves them all.
   */
  async manyWords(events: number, each: number) {
    const sab = new SharedArrayBuffer(BROWSER_BYTES);
    const w = new Int32Array(sab);
    const evs = Array.from({ length: events }, (_, k) => new ManualResetEvent({ buffer: sab, byteOffset: wordOffset(k) }));
    const setter = runWorkers("browser", [{ scenario: "b", role: "setall", id: 0, sab, rounds: 1, seed: 5, waiters: events }], 30_000, () => "");
    const waits = evs.flatMap((ev) => Array.from({ length: each }, () => ev.waitAsync({ timeout: 10_000 })));
    await tick(20);
    const helpersWhilePending = waitHelperCount();
    const t0 = performance.now();
    Atomics.store(w, B.GO, 1);
    Atomics.notify(w, B.GO);
    const results = await Promise.all(waits);
    const ms = performance.now() - t0;
    check(results.every((r) => r === true), `${results.filter((r) => !r).length} of ${results.length} waits timed out`);
    const reports = await setter;
    return { waits: results.length, ms: Math.round(ms), helpersWhilePending, ...paths(reports) };
  },

  /** On a page that is not cross-origin isolated: creating any primitive names the two headers. */
  noSharedMemory() {
    check(page.crossOriginIsolated !== true, "this page is cross-origin isolated");
    check(typeof SharedArrayBuffer === "undefined", "SharedArrayBuffer is defined without cross-origin isolation");
    const patterns = [/cross-origin isolated/, /Cross-Origin-Opener-Policy: same-origin/, /Cross-Origin-Embedder-Policy: require-corp/];
    return {
      "new Mutex()": expectError("new Mutex()", () => new Mutex(), TypeError, /^new Mutex: /, ...patterns),
      "new ManualResetEvent()": expectError("new ManualResetEvent()", () => new ManualResetEvent(), TypeError, ...patterns),
      "new Semaphore(1)": expectError("new Semaphore(1)", () => new Semaphore(1), TypeError, ...patterns),
      "new LockCnt()": expectError("new LockCnt()", () => new LockCnt(), TypeError, ...patterns),
    };
  },
};
