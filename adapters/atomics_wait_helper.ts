/**
 * Async futex waits for engines without `Atomics.waitAsync`: one helper Worker per thread
 * (page or worker), created on the first such wait, blocks in `Atomics.wait` on the words this
 * thread's async waits sleep on and posts each result back. Many waits share it, however many
 * are pending: waits on one word with one expected value are one group, and a group costs the
 * helper one `Atomics.wait` at a time, not a thread.
 *
 * The helper sleeps on one group at a time. With one group it sleeps in slices of
 * {@link LONE_SLICE_MS} (it reads new requests between slices: every few steps it yields through
 * a timer, as some engines read no message of a Worker that keeps posting to itself); with several it takes them in
 * turn, {@link SHARED_SLICE_MS} each, so a word whose value changed is noticed within a turn
 * (polling, the price of a thread that can block on one address only). A wake ("ok") resolves
 * the group's oldest wait; the others then see the word's new value ("not-equal", re-check) or
 * sleep on. Between two sleeps the group is not in the engine's queue, so a wake in that gap
 * reaches nobody — the same as a wake just before a waiter's first sleep: the next
 * `Atomics.wait(expected)` sees the changed word, which the protocols change before they wake.
 *
 * The helper is a module Worker from a Blob URL (no file to serve, nothing for a bundler to
 * find; a Content-Security-Policy must allow `worker-src blob:`). Its timeouts count from when
 * it reads the request, so a wait lasts at least its timeout.
 *
 * @module
 */

import type { WaitResult } from "../core/futex.ts";

/** While the helper serves one group: how long each sleep lasts before it reads new requests (ms). */
export const LONE_SLICE_MS = 10;
/** While it serves several groups: each group's turn (ms). */
export const SHARED_SLICE_MS = 1;
/** Every this many steps the helper yields through a timer, so its own messages are read (see HELPER_SOURCE). */
const YIELD_EVERY = 4;

/** What {@link helperWaitAsync} returns: `Atomics.waitAsync`'s shape, plus a way to withdraw a pending wait. */
export type HelperWait =
  | { readonly async: false; readonly value: "not-equal" | "timed-out" }
  | {
    readonly async: true;
    readonly value: Promise<WaitResult>;
    /** Withdraw the wait: it settles "timed-out", or with what the helper had already posted ("ok": a wake it took). */
    cancel(): void;
  };

interface WorkerLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
type WorkerConstructor = new (url: string, options: { type: "module"; name: string }) => WorkerLike;
interface BlobUrls {
  Blob: new (parts: string[], options: { type: string }) => object;
  URL: { createObjectURL(blob: object): string };
}

const RESULTS: readonly WaitResult[] = ["ok", "not-equal", "timed-out"];

/**
 * The helper's code (plain JavaScript, a string so that bundlers and minifiers leave it whole).
 * Requests: { w: id, b: buffer id, s: SharedArrayBuffer, o: byteOffset, v: expected, t: timeout
 * ms or -1 }, and { c: id } to cancel. Replies: { w: id, r: index into RESULTS }, or { fail } if
 * the helper itself threw.
 */
const HELPER_SOURCE = `"use strict";
const LONE = ${LONE_SLICE_MS}, SHARED = ${SHARED_SLICE_MS}, YIELD = ${YIELD_EVERY}, OK = 0, NOT_EQUAL = 1, TIMED_OUT = 2;
const groups = new Map(); // "buffer:offset:expected" -> { key, view, v, ids: [] }
const waits = new Map(); // id -> { g, deadline }
let turn = 0, steps = 0, scheduled = false;
const tick = new MessageChannel();
tick.port1.onmessage = run;
// The next step: a MessageChannel message (no timer clamp), but every YIELD-th one a timer, during
// which no port message is queued: Bun dispatches none of this Worker's onmessage while port
// messages keep coming, and Deno only after about a second, so without it no cancel or new
// request would be read while a group is served.
function schedule() {
  if (scheduled) return;
  scheduled = true;
  if (++steps % YIELD === 0) setTimeout(run, 0);
  else tick.port2.postMessage(0);
}
function reply(id, r) { waits.delete(id); postMessage({ w: id, r }); }
function drop(g, id) {
  const i = g.ids.indexOf(id);
  if (i >= 0) g.ids.splice(i, 1);
  if (g.ids.length === 0) groups.delete(g.key);
}
self.onmessage = (e) => {
  const m = e.data;
  if (m.c !== undefined) {
    const w = waits.get(m.c);
    if (w !== undefined) { drop(w.g, m.c); reply(m.c, TIMED_OUT); }
  } else {
    const key = m.b + ":" + m.o + ":" + m.v;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, g = { key, view: new Int32Array(m.s, m.o, 1), v: m.v, ids: [] });
    g.ids.push(m.w);
    waits.set(m.w, { g, deadline: m.t < 0 ? Infinity : performance.now() + m.t });
  }
  schedule();
};
function run() {
  try { step(); } catch (e) { postMessage({ fail: String(e) }); }
}
function step() {
  scheduled = false;
  const now = performance.now();
  let next = Infinity;
  for (const [id, w] of waits) {
    if (w.deadline <= now) { drop(w.g, id); reply(id, TIMED_OUT); }
    else if (w.deadline < next) next = w.deadline;
  }
  if (groups.size === 0) return; // idle until the next request
  const all = [...groups.values()];
  const g = all[turn++ % all.length];
  const slice = Math.max(0, Math.min(all.length === 1 ? LONE : SHARED, next - now));
  const r = Atomics.wait(g.view, 0, g.v, slice);
  if (r === "ok") { const id = g.ids[0]; drop(g, id); reply(id, OK); }
  else if (r === "not-equal") { for (const id of g.ids.splice(0)) reply(id, NOT_EQUAL); groups.delete(g.key); }
  schedule();
}
`;

let helper: WorkerLike | undefined;
let broken: Error | undefined;
let nextWait = 1;
let nextBuffer = 1;
const bufferIds = new WeakMap<object, number>();
const pending = new Map<number, { resolve: (r: WaitResult) => void; reject: (e: Error) => void }>();
let helpersStarted = 0;

/** Whether this thread can start the helper (a global `Worker` taking Blob URLs). */
export function helperAvailable(): boolean {
  const g = globalThis as unknown as Partial<BlobUrls> & { Worker?: unknown };
  return typeof g.Worker === "function" && typeof g.Blob === "function" && typeof g.URL?.createObjectURL === "function";
}

/** How many helper Workers this thread has started: at most 1 (0 until an async wait needed one). */
export function waitHelperCount(): number {
  return helpersStarted;
}

/**
 * Internal, for tests (not part of the public API): waits handed to the helper whose reply has
 * not arrived yet — pending ones, and withdrawn ones whose "timed-out" or already-posted "ok" is
 * still on its way. 0 once every wait, withdrawn or not, has had its outcome delivered.
 */
export function helperOutstanding(): number {
  return pending.size;
}

function helperFailed(why: string): TypeError {
  return new TypeError(
    `Atomics.waitAsync is missing in this engine, and the helper Worker that stands in for it failed (${why}); ` +
      "a Content-Security-Policy must allow worker-src blob:, or use the blocking forms inside a Worker",
  );
}

function startHelper(): WorkerLike | undefined {
  const g = globalThis as unknown as BlobUrls & { Worker: WorkerConstructor };
  let w: WorkerLike;
  try {
    const url = g.URL.createObjectURL(new g.Blob([HELPER_SOURCE], { type: "text/javascript" }));
    w = new g.Worker(url, { type: "module", name: "@futex/sync wait helper" });
  } catch (e) { // refused at once (a CSP, say)
    broken = helperFailed(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    return undefined;
  }
  helpersStarted++;
  w.onmessage = (e) => {
    const fail = (e.data as { fail?: string }).fail;
    if (fail !== undefined) {
      w.onerror?.({ message: fail });
      return;
    }
    const { w: id, r } = e.data as { w: number; r: number };
    const p = pending.get(id);
    pending.delete(id);
    p?.resolve(RESULTS[r]);
  };
  w.onerror = (e) => {
    broken = helperFailed((e as { message?: string }).message ?? "it failed to start");
    for (const p of pending.values()) p.reject(broken);
    pending.clear();
  };
  return w;
}

/**
 * `Atomics.waitAsync(view, index, expected, timeoutMs)` through this thread's helper Worker:
 * "not-equal" or "timed-out" at once like the engine's, else a promise of the helper's result.
 * Rejects if the helper could not run.
 */
export function helperWaitAsync(view: Int32Array, index: number, expected: number, timeoutMs?: number): HelperWait {
  if (Atomics.load(view, index) !== expected) return { async: false, value: "not-equal" };
  if (timeoutMs !== undefined && timeoutMs <= 0) return { async: false, value: "timed-out" };
  const h = broken === undefined ? (helper ??= startHelper()) : undefined;
  if (h === undefined) return { async: true, value: Promise.reject(broken), cancel() {} };
  const buffer = view.buffer;
  let b = bufferIds.get(buffer);
  if (b === undefined) bufferIds.set(buffer, (b = nextBuffer++));
  const id = nextWait++;
  const value = new Promise<WaitResult>((resolve, reject) => pending.set(id, { resolve, reject }));
  h.postMessage({
    w: id,
    b,
    s: buffer,
    o: view.byteOffset + 4 * index,
    v: expected,
    t: timeoutMs === undefined || timeoutMs === Infinity ? -1 : timeoutMs,
  });
  return {
    async: true,
    value,
    cancel(): void {
      if (pending.has(id)) h.postMessage({ c: id });
    },
  };
}
