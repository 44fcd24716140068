/**
 * The adapter mutants: edits a careful reviewer could make to the wait paths of the adapters —
 * the Atomics futex's orphans (adapters/atomics.ts), the helper Worker that stands in for a
 * missing Atomics.waitAsync (adapters/atomics_wait_helper.ts), the native wait service and its
 * helper loop (adapters/native/wait_service.ts, wait_helper.ts) and the binder's argument
 * handling (adapters/native/bind.ts) — each run against the named test that must catch it. The
 * no-waitAsync helper's tests need a global Worker and the real-kernel ones a native futex, so
 * those run under Deno from the .ts sources; the fake-kernel and orphan tests run in Node.
 */

import type { Mutant } from "./mutant.ts";

const HELPER = "adapters/atomics_wait_helper.ts";
const ATOMICS = "adapters/atomics.ts";
const SERVICE = "adapters/native/wait_service.ts";
const LOOP = "adapters/native/wait_helper.ts";
const BIND = "adapters/native/bind.ts";
const NO_WAIT_ASYNC = ["tests/no_wait_async.test.ts"];
const ORPHANS = ["tests/atomics_orphans.test.ts"];
const BINDER = ["tests/native_binder.test.ts"];

export const mutants: Mutant[] = [
  {
    name: "wait helper: cancel() settles the wait \"timed-out\" itself and forgets it (drops the \"ok\" the helper already posted)",
    file: HELPER,
    edits: [[
      "if (pending.has(id)) h.postMessage({ c: id });",
      "const p = pending.get(id);\n      if (p) {\n        pending.delete(id);\n        h.postMessage({ c: id });\n        p.resolve(\"timed-out\");\n      }",
    ]],
    tests: NO_WAIT_ASYNC,
    pattern: "passes that wake on",
    runtime: "deno",
  },
  {
    name: "wait helper: a withdrawn wait gets no reply (its caller already settled), so its outcome never comes back",
    file: HELPER,
    edits: [["if (w !== undefined) { drop(w.g, m.c); reply(m.c, TIMED_OUT); }", "if (w !== undefined) { drop(w.g, m.c); waits.delete(m.c); }"]],
    tests: NO_WAIT_ASYNC,
    pattern: "withdrawn there",
    runtime: "deno",
  },
  {
    name: "wait helper: a wake resolves the group's newest wait, not its oldest",
    file: HELPER,
    edits: [["const id = g.ids[0]; drop(g, id); reply(id, OK);", "const id = g.ids[g.ids.length - 1]; drop(g, id); reply(id, OK);"]],
    tests: NO_WAIT_ASYNC,
    pattern: "passes that wake on",
    runtime: "deno",
  },
  {
    name: "wait helper: an infinite timeout is posted as Infinity instead of -1",
    file: HELPER,
    edits: [["t: timeoutMs === undefined || timeoutMs === Infinity ? -1 : timeoutMs,", "t: timeoutMs ?? -1,"]],
    tests: NO_WAIT_ASYNC,
    runtime: "deno",
    equivalent: "Infinity survives the structured clone and performance.now() + Infinity is the same Infinity deadline that -1 stands for.",
  },
  {
    name: "atomics: an orphan that took a wake passes on a broadcast instead of one wake",
    file: ATOMICS,
    edits: [["if (v === \"ok\") Atomics.notify(view, index, 1);", "if (v === \"ok\") Atomics.notify(view, index);"]],
    tests: ORPHANS,
    pattern: "passes exactly one on",
  },
  {
    name: "atomics: an orphan passes a wake on however its wait ended (a timeout too)",
    file: ATOMICS,
    edits: [["if (v === \"ok\") Atomics.notify(view, index, 1);", "Atomics.notify(view, index, 1);"]],
    tests: ORPHANS,
    pattern: "timed out passes no wake",
  },
  {
    name: "atomics: a blocking wait beside an orphan reports the end of its slice as \"timed-out\"",
    file: ATOMICS,
    edits: [["return r === \"timed-out\" ? \"ok\" : r;", "return r;"]],
    tests: ORPHANS,
    pattern: "sleeps in slices",
  },
  {
    name: "atomics: blocking waits slice on words without orphans and sleep whole beside one (the per-word test inverted)",
    file: ATOMICS,
    edits: [["orphansAt(view, index) === 0) {", "orphansAt(view, index) !== 0) {"]],
    tests: ORPHANS,
    pattern: "sleeps in slices",
  },
  {
    name: "atomics: an orphan's count is not taken back when its engine wait settles",
    file: ATOMICS,
    edits: [["      addOrphan(view, index, -1);\n      if (v === \"ok\")", "      if (v === \"ok\")"]],
    tests: ORPHANS,
    pattern: "whole timeout again",
  },
  {
    name: "atomics: the keep-alive hold is released when the engine's wait settles, not when the caller's does",
    file: ATOMICS,
    edits: [
      ["      releaseKeepAlive();\n      signal?.removeEventListener", "      signal?.removeEventListener"],
      ["    r.value.then((v) => {\n", "    r.value.then((v) => {\n      releaseKeepAlive();\n"],
    ],
    tests: ORPHANS,
    pattern: "keep-alive hold at once",
  },
  {
    name: "native service: bump wakes the helper before adding to the control word",
    file: SERVICE,
    edits: [[
      "    const c = (Atomics.add(h.i32, CTL, 1) + 1) | 0;\n    this.wakeOne(h.i32, CTL);\n    return c;",
      "    this.wakeOne(h.i32, CTL);\n    const c = (Atomics.add(h.i32, CTL, 1) + 1) | 0;\n    return c;",
    ]],
    tests: ["tests/native_wait_service.test.ts"],
    runtime: "deno",
  },
  {
    name: "native service: a retiring slot whose entry fired is freed at once, dropping the woken baton nobody handled",
    file: SERVICE,
    edits: [["if (Atomics.load(h.i32, FIRED_GEN + slot.k) === slot.gen && slot.handled) {", "if (Atomics.load(h.i32, FIRED_GEN + slot.k) === slot.gen) {"]],
    tests: BINDER,
    pattern: "retiring slot",
  },
  {
    name: "native service: a re-check (RECHECK) of an unchanged word is taken for a wake",
    file: SERVICE,
    edits: [["const woken = Atomics.load(h.i32, FIRED_KIND + k) === WOKEN;", "const woken = Atomics.load(h.i32, FIRED_KIND + k) !== 0;"]],
    tests: BINDER,
    pattern: "changed without a wake",
  },
  {
    name: "native service: a woken entry settles every waiter of the word, not the oldest",
    file: SERVICE,
    edits: [["woken ? Math.min(1, slot.waiters.length) : 0", "woken ? slot.waiters.length : 0"]],
    tests: BINDER,
    pattern: "wake-one settles the oldest",
  },
  {
    name: "native helper: futex_waitv's EAGAIN fires no re-check (the changed word is never reported)",
    file: LOOP,
    edits: [["            for (let i = 0; i < ks.length; i++) fire(i, RECHECK);\n            report();\n", ""]],
    tests: BINDER,
    pattern: "changed without a wake",
  },
  {
    name: "native helper: a slices turn that returned early reports, but marks no entry for a re-check",
    file: LOOP,
    edits: [["fire(i, RECHECK); // \"value differs\"", "// \"value differs\""]],
    tests: BINDER,
    pattern: "early return",
  },
  {
    name: "native binder: the expected value passed signed to an unsigned parameter",
    file: BIND,
    edits: [["list.unsignedExpected[k] ? expected >>> 0 : expected | 0", "expected | 0"]],
    tests: BINDER,
    pattern: "man page",
  },
  {
    name: "native binder: a microsecond timeout without its floor of 1",
    file: BIND,
    edits: [["return Math.max(1, Math.ceil(ms * 1000)); // 0 would mean", "return Math.ceil(ms * 1000); // 0 would mean"]],
    tests: BINDER,
    pattern: "man page",
    equivalent: "Every caller passes ms > 0 (the wait loop returns \"timed-out\" first; the helpers' slices are constants), and the ceiling of a positive number of microseconds is already at least 1.",
  },
  {
    name: "wait helper: steps only through its own MessageChannel, never a timer (Bun then reads no cancel or request while a group is served)",
    file: "adapters/atomics_wait_helper.ts",
    edits: [["  if (++steps % YIELD === 0) setTimeout(run, 0);", "  if (++steps % YIELD === -1) setTimeout(run, 0);"]],
    tests: ["tests/no_wait_async.test.ts"],
    pattern: "withdrawn there",
    runtime: "bun",
  },
  {
    name: "native regions: unlink() keeps the pointer of a C string made at open (the buffer behind it is collected)",
    file: "adapters/native/shared_memory.ts",
    edits: [["    unlink: (): void => void withCString(backend, cname, (p) => lib.call(\"shm_unlink\", [p])),", "    unlink: ((p: unknown) => (): void => void lib.call(\"shm_unlink\", [p]))(withCString(backend, cname, (p) => p)),"]],
    tests: ["tests/native_region.test.ts"],
    pattern: "garbage collection",
    runtime: "bun",
  },
];
