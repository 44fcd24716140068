/**
 * Worker for the attachment tests: attaches to a Mutex handle the way a careless or a careful
 * user would and reports what happened. workerData: { handle, how, crossProcess? }:
 * - "copy": attach over the handle's own buffer (the postMessage copy of a region), then the
 *   right way, through this thread's mapping of the region; lock it and report;
 * - "default": attach without a futex (the Atomics default) to a native word; report;
 * - "native": attach with this thread's native futex and lock it; report.
 * A locked mutex is unlocked when the parent posts "unlock"; the worker then reports again.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Mutex } from "../../mod.ts";
import { loadNative } from "../../scripts/lib/native.ts";

const native = await loadNative();
const { handle, how, crossProcess } = workerData as { handle: Mutex["handle"]; how: string; crossProcess?: boolean };
const post = (m: Record<string, unknown>): void => parentPort!.postMessage(m);
const refusal = (fn: () => unknown): { name: string; message: string } | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return { name: (e as Error).name, message: (e as Error).message };
  }
};

let m: Mutex | undefined;
let close = (): void => {};
if (how === "copy") {
  const overCopy = refusal(() => Mutex.from(handle, { futex: native.nativeFutex({ crossProcess: true }) }).tryLock());
  const { name, byteLength, sealed } = handle.region!;
  const region = sealed ? native.openSealedRegion(name, byteLength) : native.openSharedRegion(name, byteLength);
  close = () => region.close();
  m = Mutex.from(handle, { region });
  post({ ok: true, overCopy, locked: m.tryLock() });
} else if (how === "default") {
  post({ ok: true, refused: refusal(() => Mutex.from(handle)) });
} else {
  m = Mutex.from(handle, { futex: native.nativeFutex({ crossProcess }) });
  m.lock();
  post({ ok: true, locked: true });
}
parentPort!.on("message", (msg) => {
  if (msg !== "unlock" || m === undefined) return;
  m.unlock();
  close();
  post({ ok: true, unlocked: true });
  parentPort!.close();
});
if (m === undefined) parentPort!.close();
