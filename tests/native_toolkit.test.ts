/**
 * Barrier, Latch, Once and AutoResetEvent across processes, without C: a Deno process and a Bun
 * process (tests/native/gate_peer.ts) drive one primitive in a POSIX shared-memory region
 * through the cross-process native futex. Each peer reports the wait slices that expired with
 * the word unchanged; none may (a lost wakeup). Skips with the reason printed under Node and
 * off Linux.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { AutoResetEvent, Barrier, Latch, Once } from "../mod.ts";
import { loadNative, nativeSkip, refusedOnWindows } from "../scripts/lib/native.ts";
import { okFields, repoRoot as root } from "../scripts/lib/peer.ts";
import { TK } from "../scripts/lib/toolkit_layout.ts";
import { rounds, runCommand, runtime } from "./support/runtime.ts";

const skip = nativeSkip;
const native = skip ? undefined : await loadNative();
const peerTs = join(root, "tests/native/gate_peer.ts");
/** OS wait slice of the peers: after the start line nothing here sleeps this long unwoken. */
const SLICE_MS = 2000;

function jsPeer(rt: "deno" | "bun", args: string[]): string[] {
  const self = runtime === rt ? process.execPath : join(root, "node_modules/.bin", rt);
  return rt === "deno" ? [self, "run", "-A", peerTs, ...args] : [self, peerTs, ...args];
}

interface Ran {
  who: string;
  fields: Record<string, number>;
}

async function start(who: string, argv: string[]): Promise<Ran> {
  const r = await runCommand(argv, 120_000, { PEER_SLICE_MS: String(SLICE_MS) });
  assert.equal(r.timedOut, false, `${who} hung:\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.code, 0, `${who} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  const f = okFields(r.stdout);
  assert.ok(f, `${who} printed no ok line:\n${r.stdout}\n${r.stderr}`);
  const fields = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Number(v)]));
  assert.equal(fields.expired, 0, `${who}: ${fields.expired} waits slept a whole ${SLICE_MS} ms slice unwoken (lost wakeup)`);
  return { who, fields };
}

let serial = 0;
/** Open a fresh region, let `init` place the primitives, run deno (id 0) and bun (id 1) on `cmd`. */
async function pair(cmd: string, n: number, init: (buffer: ArrayBuffer, futex: ReturnType<NonNullable<typeof native>["nativeFutex"]>) => void): Promise<{ r: Ran[]; i32: Int32Array; close: () => void }> {
  const name = `/futex-sync-gate-${process.pid}-${serial++}`;
  const region = native!.openSharedRegion(name, TK.BYTES, { create: true, exclusive: true });
  init(region.buffer, region.futex);
  const close = (): void => {
    region.close();
    region.unlink();
  };
  try {
    const r = await Promise.all([
      start(`deno ${cmd} 0`, jsPeer("deno", [cmd, name, String(n), "0"])),
      start(`bun ${cmd} 1`, jsPeer("bun", [cmd, name, String(n), "1"])),
    ]);
    return { r, i32: new Int32Array(region.buffer), close };
  } catch (e) {
    close();
    throw e;
  }
}

test("Barrier across processes (Deno ↔ Bun): lockstep phases, one leader per generation", { skip, timeout: 180_000 }, async (t) => {
  if (refusedOnWindows(native!, "cross-process", "region")) return;
  const n = rounds(2000);
  let b!: Barrier;
  const { r, close } = await pair("barrier", n, (buffer, futex) => (b = new Barrier(2, { buffer, byteOffset: TK.BARRIER, futex })));
  try {
    assert.equal(r[0].fields.leaders + r[1].fields.leaders, n);
    assert.equal(b.generation, n);
    assert.equal(b.waiting, 0);
    t.diagnostic(`${n} generations: ${r.map((x) => `${x.who} ${x.fields.ms} ms`).join(", ")}`);
  } finally {
    close();
  }
});

test("Latch across processes (Deno ↔ Bun): a gate per round, DATA visible when it opens", { skip, timeout: 180_000 }, async () => {
  if (refusedOnWindows(native!, "cross-process", "region")) return;
  const n = Math.min(TK.MAX_ROUNDS, rounds(200));
  const { i32, close } = await pair("latch", n, (buffer, futex) => {
    for (let k = 0; k < n; k++) {
      new Latch(1, { buffer, byteOffset: TK.latchGo(k), futex });
      new Latch(1, { buffer, byteOffset: TK.latchAck(k), futex });
    }
  });
  try {
    for (let k = 0; k < n; k++) assert.deepEqual([i32[TK.latchGo(k) / 4], i32[TK.latchAck(k) / 4]], [0, 0]);
  } finally {
    close();
  }
});

test("Once across processes (Deno ↔ Bun): raced every round, fn runs exactly once", { skip, timeout: 180_000 }, async () => {
  if (refusedOnWindows(native!, "cross-process", "region")) return;
  const n = Math.min(TK.MAX_ROUNDS, rounds(200));
  const { r, i32, close } = await pair("once", n, (buffer, futex) => {
    new Barrier(2, { buffer, byteOffset: TK.BARRIER, futex });
    for (let k = 0; k < n; k++) new Once({ buffer, byteOffset: TK.once(k), futex });
  });
  try {
    assert.equal(r[0].fields.ran + r[1].fields.ran, n);
    for (let k = 0; k < n; k++) {
      assert.equal(i32[TK.onceRuns(k) / 4], 1, `round ${k}: fn entries`);
      assert.equal(i32[TK.once(k) / 4], 3, `round ${k}: COMPLETE`);
    }
  } finally {
    close();
  }
});

test("AutoResetEvent across processes (Deno waits, Bun sets): each effective set releases one pass", { skip, timeout: 180_000 }, async (t) => {
  if (refusedOnWindows(native!, "cross-process", "region")) return;
  const n = rounds(2000);
  let ev!: AutoResetEvent;
  const { r, i32, close } = await pair("autoreset", n, (buffer, futex) => (ev = new AutoResetEvent({ buffer, byteOffset: TK.AUTO, futex })));
  try {
    const passes = i32[TK.PASSED / 4];
    const giveUps = i32[TK.GIVEUPS / 4];
    assert.equal(passes + giveUps, n);
    assert.equal(r[1].fields.sets, i32[TK.SETS / 4]);
    const left = ev.isSet ? 1 : 0;
    // every effective set went to a pass or stays as the event's one set, except one given back
    // into a set event by a give-up (the clamp): at most one per give-up
    const dropped = r[1].fields.sets - passes - left;
    assert.ok(dropped >= 0 && dropped <= giveUps, `${r[1].fields.sets} sets, ${passes} passes, ${left} left set, ${giveUps} give-ups`);
    assert.equal(i32[TK.AUTO / 4] >>> 16, 0, "no waiter left announced");
    t.diagnostic(`${passes} passes, ${giveUps} give-ups, ${r[1].fields.sets} sets`);
  } finally {
    close();
  }
});
