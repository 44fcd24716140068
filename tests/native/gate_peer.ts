/**
 * JS peer for the toolkit's cross-process tests (tests/native_toolkit.test.ts), runnable under
 * Deno (`deno run -A`) and Bun: two processes drive one Barrier, Latch, Once or AutoResetEvent
 * in a shared region through the cross-process native futex.
 *
 *   gate_peer.ts barrier   NAME ROUNDS ID   lockstep phases: PHASE[ID] = r; wait; both at r or r + 1
 *   gate_peer.ts latch     NAME ROUNDS ID   ID 0 writes DATA = r and opens go[r], then waits ack[r];
 *                                              ID 1 waits go[r], checks DATA, opens ack[r]
 *   gate_peer.ts once      NAME ROUNDS ID   both meet at the barrier, race once[r].run(fn); fn ran once
 *   gate_peer.ts autoreset NAME ROUNDS ID   ID 0 waits ROUNDS times; ID 1 sets until ID 0 has passed
 *
 * Environment: PEER_SLICE_MS (OS wait slice). Prints "ok key=value …"; exits 1 on a violated invariant.
 */

import process from "node:process";
import { AutoResetEvent, Barrier, Latch, Once } from "../../mod.ts";
import { loadNative } from "../../scripts/lib/native.ts";
import { TK } from "../../scripts/lib/toolkit_layout.ts";

const [cmd, name, roundsArg, idArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const id = Number(idArg);

function fail(msg: string): never {
  console.error(`gate_peer.ts (${cmd} ${id}): ${msg}`);
  process.exit(1);
}

const native = await loadNative();
const region = native.openSharedRegion(name, TK.BYTES, { sliceMs: Number(process.env.PEER_SLICE_MS ?? "100") });
const futex = region.futex;
const i32 = new Int32Array(region.buffer);
const at = (byteOffset: number) => ({ buffer: region.buffer, byteOffset });
const opts = { region };

/** Meet the other process before the clock starts. */
function meet(): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  Atomics.add(i32, TK.READY / 4, 1);
  while (Atomics.load(i32, TK.READY / 4) < 2) Atomics.wait(nap, 0, 0, 0.05);
}

const barrier = (): Barrier => Barrier.from({ ...at(TK.BARRIER), parties: 2 }, opts);
let extra = "";
meet();
const t0 = performance.now();
if (cmd === "barrier") {
  const b = barrier();
  let leaders = 0;
  for (let r = 0; r < rounds; r++) {
    i32[TK.PHASE / 4 + id] = r;
    if (b.wait().isLeader) leaders++;
    for (const k of [0, 1]) {
      const p = i32[TK.PHASE / 4 + k];
      if (p !== r && p !== r + 1) fail(`phase ${r}: process ${k} is at ${p}`);
    }
  }
  extra = `leaders=${leaders} generation=${b.generation}`;
} else if (cmd === "latch") {
  for (let r = 0; r < rounds; r++) {
    const go = Latch.from(at(TK.latchGo(r)), opts);
    const ack = Latch.from(at(TK.latchAck(r)), opts);
    if (id === 0) {
      i32[TK.DATA / 4] = r;
      go.countDown();
      if (!ack.wait()) fail("untimed wait returned false");
    } else {
      if (!go.wait()) fail("untimed wait returned false");
      if (i32[TK.DATA / 4] !== r) fail(`round ${r}: DATA holds ${i32[TK.DATA / 4]}`);
      ack.countDown();
    }
  }
} else if (cmd === "once") {
  const b = barrier();
  let ran = 0;
  for (let r = 0; r < rounds; r++) {
    const once = Once.from(at(TK.once(r)), opts);
    b.wait();
    if (once.run(() => {
      if (Atomics.add(i32, TK.onceRuns(r) / 4, 1) !== 0) fail(`round ${r}: fn entered twice`);
      i32[TK.onceData(r) / 4] = r + 1;
    })) ran++;
    if (i32[TK.onceData(r) / 4] !== r + 1) fail(`round ${r}: run returned before fn's write was visible`);
  }
  extra = `ran=${ran}`;
} else if (cmd === "autoreset") {
  const ev = AutoResetEvent.from(at(TK.AUTO), opts);
  if (id === 0) {
    for (let n = 0; n < rounds; n++) {
      const ok = n % 5 === 1 ? ev.wait(1) : ev.wait() || fail("untimed wait returned false");
      if (!ok) Atomics.add(i32, TK.GIVEUPS / 4, 1);
      else {
        const passed = Atomics.add(i32, TK.PASSED / 4, 1) + 1;
        if (passed > Atomics.load(i32, TK.SETS / 4)) fail(`${passed} passes, ${i32[TK.SETS / 4]} sets`);
      }
    }
    Atomics.store(i32, TK.DONE / 4, 1);
  } else {
    let sets = 0;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (Atomics.load(i32, TK.DONE / 4) === 0) {
      Atomics.add(i32, TK.SETS / 4, 1);
      if (ev.set()) sets++;
      else {
        Atomics.sub(i32, TK.SETS / 4, 1);
        Atomics.wait(nap, 0, 0, 0.02);
      }
    }
    extra = `sets=${sets}`;
  }
} else {
  fail(`unknown command ${cmd}; see the comment at the top of gate_peer.ts`);
}
const ms = performance.now() - t0;
console.log(`ok ms=${Math.round(ms)} ${extra} expired=${futex.expiredSlices}`.trim());
region.close();
