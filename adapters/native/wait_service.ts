/**
 * Async native waits, shared: one service per JS thread and futex flavour (process-private or
 * cross-process; a forced path is a flavour of its own) parks every pending `waitAsync` of every
 * NativeFutex of that flavour in at most {@link MAX_HELPERS} helper threads, started lazily on
 * the first async wait. A helper (wait_helper.ts) sleeps on up to {@link SLOTS} words at once:
 * with futex_waitv where the row has it ("waitv"), else taking turns on single words with the
 * row's own wait ("slices", also forceable with `{ asyncPath: "slices" }`).
 *
 * Memory shared with one helper (one SharedArrayBuffer, see `Layout`):
 *   CTL     control generation; the helper's futex_waitv entry 0 sleeps on it
 *   REPORT  bumped + Atomics.notify by the helper after it marked entries fired
 *   SEEN    the CTL value of the helper's latest entry list (what it is sleeping on)
 *   STOP    1: the helper exits at its next return
 *   slot k (1…127): gen[k] (0 = free), addr[k], expected[k]   written by this thread
 *                   firedGen[k], firedKind[k]                 written by the helper
 *
 * Registering a word (this thread):
 *   1. dedupe by (address, expected): a live slot gets one more waiter, nothing else changes;
 *   2. write addr, expected, then gen (release): the helper reads gen, the pair, gen again;
 *   3. CTL += 1, then FUTEX_WAKE(CTL) (same flavour): the helper, asleep on the old entry list,
 *      returns and rebuilds. Step 2 precedes step 3, so the rebuilt list has the entry; and
 *      futex_waitv compares every word with its `expected` atomically with queuing, so a change
 *      made after step 1's check and before the helper queues returns at once (EAGAIN).
 * A report (helper → this thread, Atomics.waitAsync on REPORT): for each slot whose firedGen is
 * its gen (the helper already left it out of its list: no busy loop on a changed word):
 *   - the word ≠ expected now → settle every waiter "not-equal" (a futex waiter whose word moved
 *     returns at once too);
 *   - WOKEN and the word unchanged → settle the oldest waiter "ok", re-arm (new gen) for the rest;
 *   - RECHECK and the word unchanged → re-arm (new gen), nobody settles.
 * After a report the helper sleeps on CTL alone (plus entries not fired), so a changed word
 * never makes it spin; the re-arm's CTL bump is the acknowledgement.
 * Deadlines are JS timers per wait; an abort settles "ok" at once; close rejects. A waiter that
 * leaves retires its slot when it was the last: gen[k] = 0, CTL += 1, wake. The slot is reused
 * only once SEEN ≥ that CTL (the helper no longer sleeps on it); if it fired WOKEN meanwhile, it
 * took a wake nobody used: pass exactly one on (wakeOne), the baton rule of core/contended.ts.
 *
 * The wake rule, and why no wakeup is lost: every protocol of this library (core/*.ts) changes
 * the word to a value no sleeper sleeps on before it wakes (unlock, release, set), and its
 * give-up baton wakes only while the word holds such a value (giveUp). A wake the helper misses —
 * it lands between two futex_waitv calls, or futex_waitv reports only the last of two entries
 * woken together (futex_unqueue_multiple) — is therefore always paired with a change, which the
 * next futex_waitv sees (EAGAIN → RECHECK of every entry) or this thread's re-check sees. (The
 * helper never reads the words itself: a word's memory may be unmapped or collected once its
 * waits settle; the kernel answers EFAULT there, a load would crash.) If the word went back to the sleeping value meanwhile, a thread moved it there
 * by announcing itself as a sleeper (CONTENDED, WAITERS), which obliges the next unlock/release
 * to wake again. So one woken entry wakes one waiter (wakeOne semantics, no thundering herd for
 * a baton), and a wakeAll, which the protocols only issue after a change, settles all waiters of
 * the word through the change. A bare `futex.wakeAll` on an unchanged word reaches one waiter per
 * entry; the Futex contract's callers here never do that.
 *
 * Bounds: {@link SLOTS} distinct (word, expected) pairs per helper, {@link MAX_HELPERS} helpers
 * per thread and flavour; one more distinct pair rejects with a RangeError naming the bound.
 *
 * @module
 */

import type { WaitResult } from "../../core/futex.ts";
import { holdKeepAlive, releaseKeepAlive } from "../keepalive.ts";
import type { FfiBackend } from "./bind.ts";
import type { FlavorSpec, NativeRow } from "./table.ts";

/** How async waits reach the OS: futex_waitv on many words, or turns on single words. */
export type AsyncPath = "waitv" | "slices";

/** Distinct words one helper sleeps on (futex_waitv takes 128 entries; entry 0 is the control word). */
export const SLOTS = 127;
/** Helpers per thread and flavour. */
export const MAX_HELPERS = 4;
/** Slots a "slices" helper takes before the next helper starts (turns get slower with more). */
export const SLICES_PER_HELPER = 16;
/** How often retiring slots are re-checked while some are left (ms). */
export const SWEEP_MS = 100;
/** A helper without entries for this long is stopped (a new one starts on the next wait). */
export const IDLE_STOP_MS = 2000;

/** Int32 indices of the shared memory of one helper. */
export const CTL = 0;
export const REPORT = 1;
export const SEEN = 2;
export const STOP = 3;
/** Int32 index of gen[0] (gen[k] = GEN + k), then FIRED_GEN, FIRED_KIND, EXPECTED blocks of 128. */
export const GEN = 8;
export const FIRED_GEN = GEN + 128;
export const FIRED_KIND = GEN + 256;
export const EXPECTED = GEN + 384;
/** BigInt64 index of addr[0]: byte 2080. */
export const ADDR = (GEN + 512) / 2;
/** Bytes of the shared memory of one helper. */
export const SHARED_BYTES = (GEN + 512) * 4 + 128 * 8;
/** firedKind: the entry was woken (futex_waitv returned its index, or the single-word wait woke). */
export const WOKEN = 1;
/** firedKind: re-check the word (futex_waitv said EAGAIN: some word changed, it cannot say which). */
export const RECHECK = 2;

/** What a helper thread is started with (structured-cloneable: it crosses into a worker). */
export interface HelperInit {
  readonly sab: SharedArrayBuffer;
  readonly path: AsyncPath;
  readonly row: NativeRow;
  readonly crossProcess: boolean;
}

/** A started helper thread. */
export interface HelperHandle {
  /** Called once when the helper stops (an error: it crashed). */
  onExit(listener: (error?: Error) => void): void;
  /** Stop it now. */
  terminate(): void;
}

interface Waiter {
  readonly owner: object;
  readonly resolve: (v: WaitResult) => void;
  readonly reject: (e: Error) => void;
  slot: Slot | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Slot {
  readonly helper: Helper;
  readonly k: number;
  readonly key: string;
  readonly view: Int32Array;
  readonly index: number;
  readonly expected: number;
  gen: number;
  /** FIFO: the oldest waiter takes a wake. */
  readonly waiters: Waiter[];
  /** Set when its last waiter left while the helper may still sleep on it: CTL at retirement. */
  retireCtl: number | undefined;
  /** A fire of this gen was already handled (a retiring slot's baton is passed once). */
  handled: boolean;
}

interface Helper {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly slots: (Slot | undefined)[];
  used: number;
  nextGen: number;
  handle: HelperHandle | undefined;
  dead: Error | undefined;
  /** STOP was set: no new entries go to it. */
  stopping: boolean;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Re-checks retiring slots until none is left (the helper's report usually frees them first). */
  sweepTimer: ReturnType<typeof setTimeout> | undefined;
}

/** A timer that does not keep the process alive (Node/Bun: unref(); Deno: Deno.unrefTimer). */
function unrefTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const t = setTimeout(fn, ms);
  if (typeof t === "object" && t !== null && typeof (t as { unref?: () => void }).unref === "function") {
    (t as { unref(): void }).unref();
  } else {
    (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(t as unknown as number);
  }
  return t;
}

const byBackend = new WeakMap<FfiBackend, Map<string, WaitService>>();

/** The service of this thread for a backend, row and flavour (created on first use; starts nothing). */
export function serviceFor(
  backend: FfiBackend,
  row: NativeRow,
  flavor: FlavorSpec,
  crossProcess: boolean,
  path: AsyncPath | undefined,
  wakeOne: (view: Int32Array, index: number) => void,
): WaitService {
  let services = byBackend.get(backend);
  if (!services) byBackend.set(backend, services = new Map());
  const chosen: AsyncPath = path ?? (row.waitv ? "waitv" : "slices");
  const key = `${row.id}/${flavor.name}/${chosen}`;
  let s = services.get(key);
  if (!s) services.set(key, s = new WaitService(backend, row, crossProcess, chosen, wakeOne));
  return s;
}

/** What a service holds now (tests, diagnostics). */
export interface ServiceStats {
  readonly path: AsyncPath;
  /** Why "waitv" was not used, when the row has it but the host does not (ENOSYS, …). */
  readonly fallbackReason: string | undefined;
  readonly helpers: number;
  /** Live (word, expected) entries over all helpers. */
  readonly entries: number;
  /** Pending waits. */
  readonly waiters: number;
  /** Every helper sleeps on the latest entry list (SEEN = CTL): registered words are being watched. */
  readonly synced: boolean;
}

/** The services of this thread for `backend`, by key (row/flavour/path). */
export function serviceStats(backend: FfiBackend): Record<string, ServiceStats> {
  const out: Record<string, ServiceStats> = {};
  for (const [k, s] of byBackend.get(backend) ?? []) out[k] = s.stats();
  return out;
}

/** Shared async waits of one thread and flavour (see the module comment for the protocol). */
export class WaitService {
  #path: AsyncPath;
  #fallbackReason: string | undefined;
  #probed = false;
  readonly #helpers: Helper[] = [];
  readonly #byKey = new Map<string, Slot>();
  readonly #byOwner = new Map<object, Set<Waiter>>();
  #waiters = 0;

  readonly backend: FfiBackend;
  readonly row: NativeRow;
  readonly crossProcess: boolean;
  readonly wakeOne: (view: Int32Array, index: number) => void;

  constructor(
    backend: FfiBackend,
    row: NativeRow,
    crossProcess: boolean,
    path: AsyncPath,
    wakeOne: (view: Int32Array, index: number) => void,
  ) {
    this.backend = backend;
    this.row = row;
    this.crossProcess = crossProcess;
    this.wakeOne = wakeOne;
    this.#path = path;
  }

  stats(): ServiceStats {
    let entries = 0;
    for (const h of this.#helpers) for (const s of h.slots) if (s && s.retireCtl === undefined) entries++;
    return {
      path: this.#path,
      fallbackReason: this.#fallbackReason,
      helpers: this.#helpers.length,
      entries,
      waiters: this.#waiters,
      synced: this.#helpers.every((h) => Atomics.load(h.i32, SEEN) === Atomics.load(h.i32, CTL)),
    };
  }

  /** Park one wait; the caller already checked closed, aborted, the word and a zero timeout. */
  wait(
    owner: object,
    view: Int32Array,
    index: number,
    pointer: unknown,
    expected: number,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<WaitResult> {
    let slot: Slot;
    try {
      slot = this.#slotFor(view, index, pointer, expected);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<WaitResult>((resolve, reject) => {
      const w: Waiter = { owner, resolve, reject, slot, timer: undefined, signal, onAbort: undefined };
      slot.waiters.push(w);
      let mine = this.#byOwner.get(owner);
      if (!mine) this.#byOwner.set(owner, mine = new Set());
      mine.add(w);
      this.#waiters++;
      holdKeepAlive(); // released exactly once, in #leave
      if (timeoutMs !== undefined && timeoutMs !== Infinity) {
        w.timer = setTimeout(() => this.#settle(w, "timed-out"), Math.max(1, Math.ceil(timeoutMs)));
      }
      if (signal) {
        w.onAbort = () => this.#settle(w, "ok"); // the caller's driver passes on a wake (giveUp)
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
    });
  }

  /** Reject every pending wait of `owner` (a closed futex) with `error`. */
  closeOwner(owner: object, error: Error): void {
    const mine = this.#byOwner.get(owner);
    if (!mine) return;
    for (const w of [...mine]) this.#settle(w, error);
  }

  /** Settle `w` and take it out of its slot, retiring the slot if it was the last waiter. */
  #settle(w: Waiter, v: WaitResult | Error): void {
    const slot = w.slot;
    if (slot === undefined) return; // already settled
    const i = slot.waiters.indexOf(w);
    if (i >= 0) slot.waiters.splice(i, 1);
    this.#leave(w);
    if (slot.waiters.length === 0 && slot.retireCtl === undefined && slot.helper.slots[slot.k] === slot) this.#retire(slot);
    if (v instanceof Error) w.reject(v);
    else w.resolve(v);
  }

  /** Everything a waiter holds, released once. */
  #leave(w: Waiter): void {
    w.slot = undefined;
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
    const mine = this.#byOwner.get(w.owner);
    mine?.delete(w);
    if (mine?.size === 0) this.#byOwner.delete(w.owner);
    this.#waiters--;
    releaseKeepAlive();
  }

  #slotFor(view: Int32Array, index: number, pointer: unknown, expected: number): Slot {
    const address = this.backend.address(pointer);
    const key = `${address}:${expected | 0}`;
    const live = this.#byKey.get(key);
    if (live) return live;
    if (!this.#probed) this.#probe();
    const h = this.#helperWithRoom();
    let k = 1;
    while (h.slots[k] !== undefined) k++;
    if (h.idleTimer !== undefined) clearTimeout(h.idleTimer);
    h.idleTimer = undefined;
    const gen = h.nextGen++;
    const slot: Slot = { helper: h, k, key, view, index, expected: expected | 0, gen, waiters: [], retireCtl: undefined, handled: false };
    h.slots[k] = slot;
    h.used++;
    this.#byKey.set(key, slot);
    Atomics.store(h.i64, ADDR + k, BigInt.asIntN(64, address));
    Atomics.store(h.i32, EXPECTED + k, expected | 0);
    Atomics.store(h.i32, GEN + k, gen); // publishes the pair above (the helper re-reads gen after it)
    this.#bump(h);
    return slot;
  }

  /** CTL += 1 and wake the helper (asleep on CTL in entry 0, or in its single-word wait). */
  #bump(h: Helper): number {
    const c = (Atomics.add(h.i32, CTL, 1) + 1) | 0;
    this.wakeOne(h.i32, CTL);
    return c;
  }

  #retire(slot: Slot): void {
    const h = slot.helper;
    this.#byKey.delete(slot.key);
    Atomics.store(h.i32, GEN + slot.k, 0);
    if (Atomics.load(h.i32, FIRED_GEN + slot.k) === slot.gen && slot.handled) {
      this.#free(slot); // its fire is handled and the helper left it out already
      return;
    }
    slot.retireCtl = this.#bump(h);
    this.#reclaim(slot);
    if (h.slots[slot.k] === slot) this.#sweepLater(h);
  }

  /** Reclaim `h`'s retiring slots in a while (a slot retired before the helper ever listed it gets no report). */
  #sweepLater(h: Helper): void {
    if (h.sweepTimer !== undefined) return;
    h.sweepTimer = unrefTimer(() => {
      h.sweepTimer = undefined;
      let left = false;
      for (const s of h.slots) {
        if (s?.retireCtl === undefined) continue;
        this.#reclaim(s);
        if (h.slots[s.k] === s) left = true;
      }
      if (left && !h.dead) this.#sweepLater(h);
    }, SWEEP_MS);
  }

  /** A retiring slot: pass on a wake it took; free it once the helper's list no longer has it. */
  #reclaim(slot: Slot): void {
    const h = slot.helper;
    const k = slot.k;
    if (!slot.handled && Atomics.load(h.i32, FIRED_GEN + k) === slot.gen) {
      slot.handled = true;
      if (Atomics.load(h.i32, FIRED_KIND + k) === WOKEN) this.wakeOne(slot.view, slot.index); // the baton
    }
    if (h.dead || ((Atomics.load(h.i32, SEEN) - (slot.retireCtl as number)) | 0) >= 0) this.#free(slot);
  }

  /** Give the slot back; a helper left without entries stops after IDLE_STOP_MS. */
  #free(slot: Slot): void {
    const h = slot.helper;
    h.slots[slot.k] = undefined;
    if (--h.used > 0 || h.dead || h.stopping) return;
    if (h.idleTimer !== undefined) clearTimeout(h.idleTimer);
    h.idleTimer = unrefTimer(() => {
      h.idleTimer = undefined;
      if (h.used > 0 || h.dead || h.stopping) return;
      h.stopping = true;
      Atomics.store(h.i32, STOP, 1);
      this.#bump(h);
    }, IDLE_STOP_MS);
  }

  #probe(): void {
    this.#probed = true;
    if (this.#path !== "waitv") return;
    const spec = this.row.waitv;
    if (!spec) {
      this.#path = "slices";
      this.#fallbackReason = `${this.row.id} has no futex_waitv`;
      return;
    }
    // One futex_waitv on a word whose value differs: EAGAIN at once where the call exists.
    try {
      const lib = this.backend.open(spec.library, spec.symbols);
      const sab = new SharedArrayBuffer(24 + 8);
      const word = new Int32Array(sab, 24, 1);
      const entry = new BigInt64Array(sab, 0, 3);
      entry[0] = 1n; // val ≠ the word's 0
      entry[1] = this.backend.address(this.backend.pointerTo(word, 0));
      entry[2] = BigInt(this.crossProcess ? spec.sharedFlags : spec.privateFlags);
      const r = lib.call("syscall", [spec.nr, this.backend.pointerTo(entry, 0), 1, 0, null, spec.clockid]);
      // Reads the probe's memory after the call: a pointer alone does not keep its buffer alive.
      if (Atomics.load(word, 0) !== 0) throw new Error("internal: the futex_waitv probe's word changed");
      if (r === -1) {
        const errno = this.backend.load32(lib.callPointer("__errno_location", []));
        if (errno === spec.ENOSYS) {
          this.#path = "slices";
          this.#fallbackReason = `futex_waitv: ENOSYS (kernel older than 5.16)`;
        }
      }
    } catch (e) {
      this.#path = "slices";
      this.#fallbackReason = `futex_waitv unavailable: ${(e as Error)?.message ?? String(e)}`;
    }
  }

  #helperWithRoom(): Helper {
    const live = this.#helpers.filter((h) => !h.dead && !h.stopping);
    const perHelper = this.#path === "waitv" ? SLOTS : SLICES_PER_HELPER;
    let best: Helper | undefined;
    // waitv: fill the first helper with room (fewest threads); slices: the least busy (shortest turns).
    for (const h of live) {
      if (h.used >= perHelper) continue;
      if (this.#path === "waitv") {
        best = h;
        break;
      }
      if (best === undefined || h.used < best.used) best = h;
    }
    if (best) return best;
    if (live.length < MAX_HELPERS) return this.#startHelper();
    for (const h of live) {
      for (const s of h.slots) if (s?.retireCtl !== undefined) this.#reclaim(s);
      if (h.used < SLOTS && (best === undefined || h.used < best.used)) best = h;
    }
    if (best) return best;
    throw new RangeError(
      `native waitAsync: more than ${MAX_HELPERS * SLOTS} distinct words (with distinct expected values) are pending in ` +
        `this thread for ${this.row.id}; that is ${MAX_HELPERS} helper threads of ${SLOTS} — wait on fewer words at once ` +
        "(several waits on one word cost one entry), or spread the waits over workers",
    );
  }

  #startHelper(): Helper {
    const sab = new SharedArrayBuffer(SHARED_BYTES);
    const h: Helper = {
      sab,
      i32: new Int32Array(sab),
      i64: new BigInt64Array(sab),
      slots: new Array(SLOTS + 1).fill(undefined),
      used: 0,
      nextGen: 1,
      handle: undefined,
      dead: undefined,
      stopping: false,
      idleTimer: undefined,
      sweepTimer: undefined,
    };
    h.handle = this.backend.startHelper({ sab, path: this.#path, row: this.row, crossProcess: this.crossProcess });
    this.#helpers.push(h); // only a started one: a refusal (e.g. Deno's read permission) leaves nothing behind
    h.handle.onExit((error) => this.#helperExited(h, error));
    void this.#pump(h);
    return h;
  }

  #helperExited(h: Helper, error?: Error): void {
    if (h.dead) return;
    const permission = error?.name === "FfiPermissionError";
    if (h.idleTimer !== undefined) clearTimeout(h.idleTimer);
    if (h.sweepTimer !== undefined) clearTimeout(h.sweepTimer);
    h.dead = permission ? error as Error : new Error(
      `native waitAsync: the helper thread stopped (${error ? `${error.name}: ${error.message}` : "it exited"}); ` +
        "the pending waits are rejected — retry the wait (a new helper starts)",
      { cause: error },
    );
    const i = this.#helpers.indexOf(h);
    if (i >= 0) this.#helpers.splice(i, 1);
    Atomics.notify(h.i32, REPORT); // ends #pump
    for (const s of h.slots) {
      if (!s) continue;
      this.#byKey.delete(s.key);
      for (const w of [...s.waiters]) {
        s.waiters.length = 0;
        this.#leave(w);
        w.reject(h.dead);
      }
    }
  }

  /** Await the helper's reports and handle them, for the helper's lifetime. */
  async #pump(h: Helper): Promise<void> {
    let seen = Atomics.load(h.i32, REPORT);
    while (!h.dead) {
      if (Atomics.load(h.i32, REPORT) === seen) {
        const r = Atomics.waitAsync(h.i32, REPORT, seen); // holds nothing open; #helperExited notifies
        if (r.async) await r.value;
      }
      seen = Atomics.load(h.i32, REPORT);
      if (!h.dead) this.#onReport(h);
    }
  }

  #onReport(h: Helper): void {
    let rearm = false;
    for (let k = 1; k <= SLOTS; k++) {
      const slot = h.slots[k];
      if (slot === undefined) continue;
      if (slot.retireCtl !== undefined) {
        this.#reclaim(slot);
        continue;
      }
      if (Atomics.load(h.i32, FIRED_GEN + k) !== slot.gen) continue;
      const woken = Atomics.load(h.i32, FIRED_KIND + k) === WOKEN;
      let now: number;
      try {
        now = Atomics.load(slot.view, slot.index);
      } catch {
        now = slot.expected + 1; // a closed region's detached view: its futex rejects the waits anyway
      }
      slot.handled = true;
      const moved = now !== slot.expected;
      const take = moved ? slot.waiters.length : woken ? Math.min(1, slot.waiters.length) : 0;
      const settled = slot.waiters.slice(0, take);
      for (const w of settled) this.#settle(w, moved ? "not-equal" : "ok"); // the last one retires (frees) the slot
      if (take === 0 && slot.waiters.length === 0 && h.slots[k] === slot) this.#retire(slot);
      if (h.slots[k] === slot && slot.waiters.length > 0) {
        slot.gen = h.nextGen++;
        slot.handled = false;
        Atomics.store(h.i32, GEN + k, slot.gen);
        rearm = true;
      }
    }
    if (rearm) this.#bump(h);
  }
}
