/**
 * JS peer for the cross-process Condition and RwLock runs (tests/condition_rwlock_scenarios.test.ts),
 * runnable under Deno (`deno run -A`) and Bun. It maps the shared region the test created and
 * attaches to its primitives through it (cross-process native futex):
 *
 *   toolkit_peer.ts bb-producer NAME ROUNDS     put items 1 … ROUNDS into the bounded buffer (block 0)
 *   toolkit_peer.ts bb-consumer NAME ROUNDS     take ROUNDS items; prints their sum
 *   toolkit_peer.ts rw          NAME ROUNDS SEED   random RwLock reads/writes (block at BLOCK_BYTES), 10 % writes
 *
 * Environment: PEER_PARTIES (processes meeting at the start barrier), PEER_SLICE_MS (OS wait slice).
 * Prints "ok key=value … expired=N"; exits 1 with a message on any violated invariant.
 */

import process from "node:process";
import { Condition, Mutex, RwLock } from "../../mod.ts";
import { seededRandom } from "../../testing.ts";
import { loadNative } from "../../scripts/lib/native.ts";
import { BB, BLOCK_BYTES, PEER_READY, RWL } from "../support/toolkit_layout.ts";
import { consume, produce, rwWork } from "../support/toolkit_work.ts";

const [cmd, name, roundsArg, seedArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const native = await loadNative();
const region = native.openSharedRegion(name, 4096, { sliceMs: Number(process.env.PEER_SLICE_MS ?? "100") });
const i32 = new Int32Array(region.buffer);

function barrier(): void {
  const parties = Number(process.env.PEER_PARTIES ?? "1");
  const nap = new Int32Array(new SharedArrayBuffer(4));
  Atomics.add(i32, PEER_READY / 4, 1);
  while (Atomics.load(i32, PEER_READY / 4) < parties) Atomics.wait(nap, 0, 0, 0.05);
}

try {
  const at = (byteOffset: number) => ({ buffer: region.buffer, byteOffset });
  const opts = { region };
  let out: Record<string, number>;
  if (cmd === "bb-producer" || cmd === "bb-consumer") {
    const b = {
      i32,
      base: 0,
      m: Mutex.from(at(BB.MUTEX), opts),
      notEmpty: Condition.from(at(BB.NOT_EMPTY), opts),
      notFull: Condition.from(at(BB.NOT_FULL), opts),
    };
    barrier();
    out = cmd === "bb-producer" ? produce(b, 0, rounds) : consume(b, rounds);
  } else if (cmd === "rw") {
    const s = { i32, base: BLOCK_BYTES / 4, rw: RwLock.from(at(BLOCK_BYTES + RWL.LOCK), opts) };
    barrier();
    out = rwWork(s, rounds, seededRandom(Number(seedArg)), 0.1);
  } else {
    throw new Error(`unknown command ${cmd}; see the comment at the top of toolkit_peer.ts`);
  }
  const fields = Object.entries(out).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`ok ${fields} expired=${region.futex.expiredSlices}`);
  region.close();
} catch (e) {
  console.error(`toolkit_peer.ts: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
