/**
 * JS peer for the cross-process tests, the twin of peer.c, runnable under Deno (`deno run -A`)
 * and Bun: the same commands on the same region, through this library's ManualResetEvent and
 * LockCnt on the cross-process native futex.
 *
 *   peer.ts event-ping NAME ROUNDS    write i to DATA, set PING, wait PONG, reset PONG
 *   peer.ts event-pong NAME ROUNDS    wait PING, reset PING, check DATA == i, set PONG
 *   peer.ts lockcnt    NAME ROUNDS SEED   random LockCnt ops in the LC block (as peer.c)
 *   peer.ts robust-hold  NAME [async]      lock the robust Mutex at ROBUST, print "ok held tid= pid=", stay alive
 *   peer.ts robust-lock  NAME TIMEOUT_MS MODE [async]   lock it (TIMEOUT_MS < 0: no limit) as peer.c's robust-lock
 *   peer.ts robust-count NAME ROUNDS       ROUNDS × (lock; counter++; unlock), repairing owner deaths
 *
 * Environment: PEER_PARTIES (processes meeting at the start barrier), PEER_SLICE_MS (OS wait slice),
 * PEER_SPIN (the events' spin; default 0, like QEMU's event — the benchmark's like-for-like rows),
 * PEER_WARMUP (event ping-pong rounds run before the clock starts; default 0).
 * Prints "ok key=value …"; exits 1 with a message on any violated invariant.
 */

import process from "node:process";
import { LockCnt, ManualResetEvent, Mutex } from "../../mod.ts";
import { seededRandom } from "../../testing.ts";
import { loadNative } from "../../scripts/lib/native.ts";
import {
  DATA,
  LC,
  LC_BASE,
  PING,
  PONG,
  READY,
  REGION_BYTES,
  ROBUST,
  ROBUST_COUNTER,
  ROBUST_INSIDE,
} from "../../scripts/lib/native_layout.ts";

const [cmd, name, roundsArg, seedArg] = process.argv.slice(2);
const rounds = Number(roundsArg);

function fail(msg: string): never {
  console.error(`peer.ts: ${msg}`);
  process.exit(1);
}

const native = await loadNative();
const sliceMs = Number(process.env.PEER_SLICE_MS ?? "100");
const region = native.openSharedRegion(name, REGION_BYTES, { sliceMs });
const futex = region.futex;
const i32 = new Int32Array(region.buffer);

/** Meet the other processes (PEER_PARTIES) before the clock starts, as peer.c does. */
function barrier(): void {
  const parties = Number(process.env.PEER_PARTIES ?? "1");
  const nap = new Int32Array(new SharedArrayBuffer(4));
  Atomics.add(i32, READY / 4, 1);
  while (Atomics.load(i32, READY / 4) < parties) Atomics.wait(nap, 0, 0, 0.05);
}

if (cmd === "event-ping" || cmd === "event-pong") {
  // QEMU's event does not spin: compare like with like (PEER_SPIN: what the default policy gives).
  const spin = Number(process.env.PEER_SPIN ?? "0");
  if (!Number.isInteger(spin) || spin < 0) fail(`PEER_SPIN must be a whole number ≥ 0 (got ${process.env.PEER_SPIN})`);
  const opts = { futex, spin };
  const ping = ManualResetEvent.from({ buffer: region.buffer, byteOffset: PING }, opts);
  const pong = ManualResetEvent.from({ buffer: region.buffer, byteOffset: PONG }, opts);
  // PEER_WARMUP: rounds before the pinger starts its clock, so the JIT has compiled the loop
  // (peer.c reads it too; the ponger runs the same rounds).
  const warm = Math.min(Number(process.env.PEER_WARMUP ?? "0"), rounds - 1);
  if (!(warm >= 0)) fail(`PEER_WARMUP must be a whole number ≥ 0 (got ${process.env.PEER_WARMUP})`);
  barrier();
  let t0 = performance.now();
  for (let i = 1; i <= rounds; i++) {
    if (i === warm + 1) t0 = performance.now();
    if (cmd === "event-ping") {
      Atomics.store(i32, DATA / 4, i);
      ping.set();
      pong.wait();
      pong.reset();
    } else {
      ping.wait();
      ping.reset();
      if (Atomics.load(i32, DATA / 4) !== i) fail(`event ping-pong: data word holds ${i32[DATA / 4]}, not round ${i}`);
      pong.set();
    }
  }
  const ns = ((performance.now() - t0) * 1e6) / (rounds - warm) / 2;
  console.log(
    `ok ns_per_handoff=${Math.round(ns)} data=${i32[DATA / 4]} ping=${i32[PING / 4]} pong=${i32[PONG / 4]} expired=${futex.expiredSlices}`,
  );
} else if (cmd === "lockcnt") {
  const b = LC_BASE / 4;
  const w = (k: number): number => b + k;
  const lc = LockCnt.from({ buffer: region.buffer, byteOffset: LC_BASE }, { futex });
  const random = seededRandom(Number(seedArg));
  let sections = 0;
  barrier();
  const section = (): void => {
    if (Atomics.exchange(i32, w(LC.INSECT), 1) !== 0) fail("two processes inside the LockCnt critical section");
    i32[w(LC.PLAIN)]++; // plain read-modify-write: only mutual exclusion keeps it exact
    Atomics.add(i32, w(LC.ATOMIC), 1);
    Atomics.store(i32, w(LC.INSECT), 0);
    sections++;
  };
  const visit = (): void => {
    if (Atomics.load(i32, w(LC.VALID)) !== 1) fail("a visitor saw the object freed");
  };
  const freeRealloc = (): void => {
    if (lc.count !== 0) fail(`freeing while ${lc.count} visits are in progress`);
    Atomics.store(i32, w(LC.VALID), 0);
    Atomics.add(i32, w(LC.FREES), 1);
    Atomics.store(i32, w(LC.VALID), 1);
  };
  for (let n = 0; n < rounds; n++) {
    switch (Math.floor(random() * 5)) {
      case 0:
        lc.inc(); visit(); lc.dec();
        break;
      case 1:
        lc.lock(); section(); lc.unlock();
        break;
      case 2:
        lc.inc(); visit();
        if (lc.decAndLock()) { freeRealloc(); section(); lc.unlock(); }
        break;
      case 3:
        lc.inc(); visit();
        if (lc.decIfLock()) { freeRealloc(); section(); lc.unlock(); } else lc.dec();
        break;
      default:
        lc.lock(); section(); lc.incAndUnlock(); visit(); lc.dec();
    }
    Atomics.add(i32, w(LC.PROGRESS), 1);
  }
  console.log(`ok sections=${sections} word=${i32[w(LC.WORD)]} expired=${futex.expiredSlices}`);
} else if (cmd === "robust-hold") {
  const m = Mutex.from({ buffer: region.buffer, byteOffset: ROBUST, robust: true }, { futex });
  try {
    if (roundsArg === "async") await m.lockAsync();
    else m.lock();
  } catch (e) {
    if ((e as Error).name !== "OwnerDiedError") throw e;
  }
  const live = futex.ownerLiveness();
  console.log(`ok held tid=${live.tid} pid=${live.pid} word=${i32[ROBUST / 4]}`);
  setInterval(() => {}, 1000); // alive until killed
  await new Promise(() => {});
} else if (cmd === "robust-lock") {
  const m = Mutex.from({ buffer: region.buffer, byteOffset: ROBUST, robust: true }, { futex });
  const timeout = Number(roundsArg);
  let result = "locked";
  let ownerTid = 0;
  if (process.argv[6] === "async") {
    // Start this thread's wait helper first: the first async native wait of a process pays for
    // it (a worker start), which is not what the detection latency measures.
    await futex.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
  try {
    const t = timeout < 0 ? undefined : timeout;
    const ok = process.argv[6] === "async" ? await m.lockAsync({ timeout: t }) : m.lock(t);
    if (!ok) result = "timed-out";
  } catch (e) {
    const err = e as Error & { ownerTid?: number };
    result = err.name === "OwnerDiedError" ? "owner-died" : err.name === "NotRecoverableError" ? "not-recoverable" : err.name;
    ownerTid = err.ownerTid ?? 0;
  }
  const atMs = performance.timeOrigin + performance.now();
  if (result === "owner-died" && seedArg === "consistent") m.markConsistent();
  if (m.held) m.unlock();
  console.log(`ok result=${result} owner_tid=${ownerTid} at_ms=${atMs.toFixed(3)} word=${i32[ROBUST / 4]}`);
} else if (cmd === "robust-count") {
  const m = Mutex.from({ buffer: region.buffer, byteOffset: ROBUST, robust: true }, { futex });
  let repairs = 0;
  barrier();
  for (let n = 0; n < rounds; n++) {
    try {
      m.lock();
    } catch (e) {
      if ((e as Error).name !== "OwnerDiedError") throw e;
      repairs++;
      Atomics.store(i32, ROBUST_INSIDE / 4, 0); // repair: the dead holder's flag
      m.markConsistent();
    }
    if (Atomics.exchange(i32, ROBUST_INSIDE / 4, 1) !== 0) fail("robust-count: two holders inside");
    i32[ROBUST_COUNTER / 4]++; // plain: only the mutex keeps it exact
    Atomics.store(i32, ROBUST_INSIDE / 4, 0);
    m.unlock();
  }
  console.log(`ok repairs=${repairs} counter=${i32[ROBUST_COUNTER / 4]}`);
} else {
  fail(`unknown command ${cmd}; see the comment at the top of peer.ts`);
}
region.close();
