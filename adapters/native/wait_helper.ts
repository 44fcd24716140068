/**
 * The helper loop of async native waits: runs on a helper thread (wait_helper_worker.ts) — or,
 * under the test fake, in-process with calls answered by promises — and sleeps in the OS for the
 * words its owner thread registered (memory layout and the owner's side: wait_service.ts).
 *
 * Each turn of the loop:
 *   1. STOP set, or the owner thread is gone → return (the worker then exits);
 *   2. c = CTL; list = every slot with gen ≠ 0 whose firedGen ≠ gen (a fired entry stays out
 *      until the owner re-arms it: no spinning on a word that changed); SEEN = c (the owner
 *      frees a retired slot only when SEEN has passed its retirement); a retired slot that left
 *      the list → report, so the owner frees it now;
 *   3. sleep:
 *      waitv:  futex_waitv([CTL = c, …list], absolute timeout now + POLL_MS on CLOCK_REALTIME)
 *              · index i ≥ 1 → fire entry i WOKEN;
 *              · 0 (CTL woken) → nothing, back to 1;
 *              · -1 EAGAIN with CTL still c → some entry's word changed: fire every entry
 *                RECHECK (the owner re-reads each word; the helper never touches user memory);
 *              · -1 ETIMEDOUT / EINTR, or CTL moved → back to 1; any other errno → throw.
 *      slices: one bounded wait of the row (table.ts) on the next entry in turn, SLICE_MS; an
 *              empty list waits on CTL itself. A wake → WOKEN; a return well before the slice
 *              ended (the OS said "value differs", or EINTR) → RECHECK that entry.
 *   4. fired anything → REPORT += 1, Atomics.notify(REPORT): the owner's Atomics.waitAsync.
 *   5. every POLL_MS, let this thread's event loop run (termination of the owner reaches a nested
 *      worker only through it) — the bound on how long an orphaned helper outlives its owner.
 *
 * @module
 */

import { ArgList, fillWaitArgs, Scratch, wokeBy } from "./bind.ts";
import type { FfiBackend } from "./bind.ts";
import {
  ADDR,
  CTL,
  EXPECTED,
  FIRED_GEN,
  FIRED_KIND,
  GEN,
  type HelperInit,
  RECHECK,
  REPORT,
  SEEN,
  SLOTS,
  STOP,
  WOKEN,
} from "./wait_service.ts";

/** Longest sleep before the loop looks at STOP and its event loop (ms). */
export const POLL_MS = 500;
/** One turn of a "slices" helper on one word (ms). */
export const SLICE_MS = 20;

/** errno values of futex_waitv (Linux asm-generic/errno-base.h, errno.h). */
const EINTR = 4;
const EAGAIN = 11;
const ETIMEDOUT = 110;

/** What the loop needs from where it runs. */
export interface HelperEnv {
  /** The backend of the helper's thread (opens its own library, makes its own pointers). */
  readonly backend: Pick<FfiBackend, "open" | "pointerTo" | "pointerAt" | "address" | "load32">;
  /** True once the owner thread is gone (e.g. its MessagePort closed). */
  stopped(): boolean;
  /** Let this thread's event loop run once. */
  pause(): Promise<void>;
}

/** Run the loop until STOP or the owner goes away. Throws when the OS call keeps failing. */
export async function runHelper(init: HelperInit, env: HelperEnv): Promise<void> {
  const { backend } = env;
  const i32 = new Int32Array(init.sab);
  const i64 = new BigInt64Array(init.sab);
  const ctlPtr = backend.pointerTo(i32, CTL);
  const ks: number[] = [];
  const gens: number[] = [];
  const addrs: bigint[] = [];
  const exps: number[] = [];

  const report = (): void => {
    Atomics.add(i32, REPORT, 1);
    Atomics.notify(i32, REPORT);
  };
  let listed = new Set<number>();
  const build = (): number => {
    const c = Atomics.load(i32, CTL);
    const before = listed;
    listed = new Set();
    ks.length = gens.length = addrs.length = exps.length = 0;
    for (let k = 1; k <= SLOTS; k++) {
      const g = Atomics.load(i32, GEN + k);
      if (g !== 0) listed.add(k); // registered (listed or fired): its retirement is reported
      if (g === 0 || Atomics.load(i32, FIRED_GEN + k) === g) continue;
      const a = Atomics.load(i64, ADDR + k);
      const e = Atomics.load(i32, EXPECTED + k);
      if (Atomics.load(i32, GEN + k) !== g) continue; // rewritten meanwhile: its CTL bump follows
      ks.push(k);
      gens.push(g);
      addrs.push(BigInt.asUintN(64, a));
      exps.push(e);
    }
    Atomics.store(i32, SEEN, c);
    // A slot the owner retired since the last build: tell it (it frees the slot once SEEN passed it).
    for (const k of before) {
      if (!listed.has(k) && Atomics.load(i32, GEN + k) === 0) {
        report();
        break;
      }
    }
    return c;
  };
  const fire = (i: number, kind: number): void => {
    Atomics.store(i32, FIRED_KIND + ks[i], kind);
    Atomics.store(i32, FIRED_GEN + ks[i], gens[i]);
  };
  let lastPause = Date.now();
  const pauseDue = async (): Promise<void> => {
    const now = Date.now();
    if (now - lastPause >= POLL_MS) {
      await env.pause();
      lastPause = Date.now();
    }
  };
  const done = (): boolean => Atomics.load(i32, STOP) !== 0 || env.stopped();

  if (init.path === "waitv") {
    const spec = init.row.waitv;
    if (!spec) throw new Error(`${init.row.id} has no futex_waitv; start the helper with path "slices"`);
    const lib = backend.open(spec.library, spec.symbols);
    const flags = BigInt(init.crossProcess ? spec.sharedFlags : spec.privateFlags);
    const mem = new SharedArrayBuffer(128 * 24 + 16);
    const entries = new BigInt64Array(mem, 0, 128 * 3); // struct futex_waitv[128]
    const ts = new BigInt64Array(mem, 128 * 24, 2); // struct timespec, absolute
    const entriesPtr = backend.pointerTo(entries, 0);
    const tsPtr = backend.pointerTo(ts, 0);
    const ctlAddr = backend.address(ctlPtr);
    const errno = (): number => backend.load32(lib.callPointer("__errno_location", []));
    let failures = 0;
    while (!done()) {
      const c = build();
      const n = ks.length + 1;
      entries[0] = BigInt(c >>> 0); // val: the u32 zero-extended (futex_waitv rejects wider)
      entries[1] = BigInt.asIntN(64, ctlAddr);
      entries[2] = flags; // u32 flags, u32 __reserved = 0 (little-endian)
      for (let i = 0; i < ks.length; i++) {
        entries[3 * (i + 1)] = BigInt(exps[i] >>> 0);
        entries[3 * (i + 1) + 1] = BigInt.asIntN(64, addrs[i]);
        entries[3 * (i + 1) + 2] = flags;
      }
      const until = Date.now() + POLL_MS;
      ts[0] = BigInt(Math.floor(until / 1000));
      ts[1] = BigInt((until % 1000) * 1e6);
      const r = Number(await lib.call("syscall", [spec.nr, entriesPtr, n, 0, tsPtr, spec.clockid]));
      if (r > 0 && r < n) {
        fire(r - 1, WOKEN);
        report();
        failures = 0;
      } else if (r === -1 && Atomics.load(i32, CTL) === c) {
        const e = errno();
        if (e === EAGAIN) {
          if (ks.length > 0) {
            for (let i = 0; i < ks.length; i++) fire(i, RECHECK);
            report();
          }
        } else if (e !== ETIMEDOUT && e !== EINTR) {
          if (++failures > 100) {
            throw new Error(`futex_waitv keeps failing (errno ${e}); async native waits cannot continue on this host`);
          }
        }
      }
      await pauseDue();
    }
    return;
  }

  // "slices": the row's single-word wait, one registered word at a time.
  const flavor = init.crossProcess ? init.row.shared : init.row.private;
  if (!flavor) throw new Error(`${init.row.id} has no cross-process futex; start the helper for the private flavour`);
  const lib = backend.open(init.row.library, init.row.symbols);
  const sig = init.row.symbols[flavor.wait.symbol];
  const list = new ArgList(flavor.wait, sig);
  const scratch = new Scratch(backend as FfiBackend);
  const pointers = new Map<bigint, unknown>();
  const pointer = (a: bigint): unknown => {
    let p = pointers.get(a);
    if (p === undefined) {
      if (pointers.size > 4 * SLOTS) pointers.clear();
      pointers.set(a, p = backend.pointerAt(a));
    }
    return p;
  };
  let turn = 0;
  while (!done()) {
    const c = build();
    if (ks.length === 0) {
      const args = fillWaitArgs(flavor.wait, list, list.values.slice(), ctlPtr, c, POLL_MS, scratch);
      await lib.call(flavor.wait.symbol, args);
    } else {
      const i = turn++ % ks.length;
      const args = fillWaitArgs(flavor.wait, list, list.values.slice(), pointer(addrs[i]), exps[i], SLICE_MS, scratch);
      const t0 = performance.now();
      const r = Number(await lib.call(flavor.wait.symbol, args));
      if (wokeBy(flavor.wait, r)) {
        fire(i, WOKEN);
        report();
      } else if (performance.now() - t0 < SLICE_MS / 2) {
        fire(i, RECHECK); // "value differs" (or EINTR): the owner re-reads the word
        report();
      }
    }
    await pauseDue();
  }
}
