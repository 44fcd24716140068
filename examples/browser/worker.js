// A module Worker: attach to the page's Mutex and event by handle, add to the counter under the
// lock (a blocking withLock: Workers may block), and let the last one to finish set the event.
import { ManualResetEvent, Mutex } from "/@futex/sync/mod.js";

self.onmessage = ({ data }) => {
  const lock = Mutex.from(data.lock);
  const done = ManualResetEvent.from(data.done);
  for (let i = 0; i < data.times; i++) lock.withLock(() => void data.shared[0]++);
  if (Atomics.add(data.shared, 1, 1) + 1 === data.workers) done.set();
};
