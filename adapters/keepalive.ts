/**
 * Process keep-alive for pending async waits.
 *
 * No runtime keeps its event loop alive for a pending `Atomics.waitAsync` (Node exits with code
 * 13 under top-level await, Deno reports "Top-level await promise never resolved", and a lone
 * `.then()` waiter is dropped silently in all three). We hold one ref'd interval timer while at
 * least one async wait is pending and clear it when the last one settles, so the process lives
 * exactly as long as someone waits. A ref'd timer is the one handle Node, Deno and Bun all count.
 *
 * @module
 */

let pending = 0;
let timer: ReturnType<typeof setInterval> | undefined;

function noop(): void {}

/** Take one hold on the process; pair every call with exactly one {@link releaseKeepAlive}. */
export function holdKeepAlive(): void {
  if (pending++ === 0) timer = setInterval(noop, 2 ** 30);
}

/** Drop one hold; the last release lets the process exit again. */
export function releaseKeepAlive(): void {
  if (pending === 0) throw new Error("releaseKeepAlive() without a matching holdKeepAlive()");
  if (--pending === 0) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** How many async waits currently hold the process open (for tests and diagnostics). */
export function keepAliveCount(): number {
  return pending;
}
