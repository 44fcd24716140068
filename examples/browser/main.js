// The page: four module Workers add to one counter under a Mutex (blocking calls, which
// Workers may make); the page adds to it too, with withLockAsync (the main thread may not
// block), and waits for the last worker's event with waitAsync. Served by `npm run
// example:browser` with the COOP/COEP headers that give the page SharedArrayBuffer. The package
// is served at /@futex/sync/; with a bundler, import from "@futex/sync" instead.
import { ManualResetEvent, Mutex } from "/@futex/sync/mod.js";

const WORKERS = 4;
const PER_WORKER = 10_000;
const ON_PAGE = 100;
const out = document.getElementById("out");

if (!crossOriginIsolated) {
  out.textContent = "not cross-origin isolated: serve this page with COOP/COEP (npm run example:browser)";
} else {
  const lock = new Mutex();
  const done = new ManualResetEvent();
  const shared = new Int32Array(new SharedArrayBuffer(8)); // [counter, workers finished]
  const t0 = performance.now();
  for (let i = 0; i < WORKERS; i++) {
    const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    w.postMessage({ lock: lock.handle, done: done.handle, shared, workers: WORKERS, times: PER_WORKER });
  }
  for (let i = 0; i < ON_PAGE; i++) await lock.withLockAsync(() => void shared[0]++);
  const finished = await done.waitAsync({ timeout: 30_000 });
  const result = { finished, counter: shared[0], expected: WORKERS * PER_WORKER + ON_PAGE, ms: Math.round(performance.now() - t0) };
  out.textContent = `workers finished: ${finished}\ncounter: ${result.counter} (expected ${result.expected})\n${result.ms} ms`;
  window.exampleResult = result;
}
