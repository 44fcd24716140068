/**
 * Where SharedArrayBuffer is missing (a browser page that is not cross-origin isolated), creating
 * a primitive is a TypeError in the library's words naming the isolation and both headers, not
 * the engine's "ReferenceError: SharedArrayBuffer is not defined". The global is removed for the
 * duration of the test (the browser row checks the real thing in Chromium and Firefox).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { LockCnt, ManualResetEvent, Mutex, Semaphore } from "../mod.ts";

test("without SharedArrayBuffer, every constructor names cross-origin isolation and the two headers", () => {
  const g = globalThis as { SharedArrayBuffer?: unknown };
  const saved = g.SharedArrayBuffer;
  delete g.SharedArrayBuffer;
  try {
    for (const [what, make] of [
      ["new Mutex", () => new Mutex()],
      ["new ManualResetEvent", () => new ManualResetEvent()],
      ["new Semaphore", () => new Semaphore(1)],
      ["new LockCnt", () => new LockCnt()],
    ] as const) {
      assert.throws(make, (e: Error) => {
        assert.ok(e instanceof TypeError, `${what}: ${String(e)}`);
        assert.ok(e.message.startsWith(`${what}: SharedArrayBuffer is not available here`), e.message);
        assert.match(e.message, /cross-origin isolated/);
        assert.match(e.message, /Cross-Origin-Opener-Policy: same-origin/);
        assert.match(e.message, /Cross-Origin-Embedder-Policy: require-corp/);
        return true;
      });
    }
  } finally {
    g.SharedArrayBuffer = saved;
  }
});
