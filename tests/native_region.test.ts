/**
 * Shared regions against a careless user and a hostile co-tenant (Deno and Bun on Linux; skipped
 * elsewhere with the reason printed; the tests that need root say so when skipped):
 * - open, use and close as before;
 * - a full /dev/shm is an ENOSPC error at open, not a SIGBUS later (a child process with its own
 *   1 MiB tmpfs on /dev/shm);
 * - a region another user pre-created (or any group/other-writable one, or a FIFO) is refused,
 *   naming owner and mode, unless { allowForeign: true };
 * - the size is checked at every open;
 * - sealed regions: another process opens one by path, nobody can shrink or grow it, the holder
 *   keeps working; a file without the seals is refused;
 * - names as the OS sees them: lone surrogates refused, length counted in UTF-8 bytes;
 * - close() unmaps and does not throw after the user transferred region.buffer;
 * - unlink() after a garbage collection removes its own name, never another live region's (the
 *   C string it passes must be alive during the call, not a pointer kept from the open).
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, statSync, unlinkSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Mutex } from "../mod.ts";
import { loadNative, nativeSkip, onWindows, refusedOnWindows } from "../scripts/lib/native.ts";
import { childCommand, runChild, runCommand, testScript, testScriptPath } from "./support/runtime.ts";

const skip = nativeSkip;
const native = skip ? undefined : await loadNative();
let serial = 0;
const regionName = (): string => `/futex-sync-region-${process.pid}-${serial++}`;

const uid = process.getuid?.() ?? -1;
// On Windows these two tests assert the region refusal instead (no uid, no unshare there).
const rootSkip: string | false = skip || (!onWindows && uid !== 0 ? `needs root to act as another user (setpriv) and to mount a tmpfs (this is uid ${uid})` : false);
/** Whether a private mount namespace with a small tmpfs on /dev/shm can be made here. */
const unshareSkip: string | false = rootSkip || !onWindows && (() => {
  const r = spawnSync("unshare", ["-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /dev/shm"], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? false : `cannot unshare the mount namespace and mount a tmpfs here: ${(r.error?.message ?? r.stderr).trim()}`;
})();

/** Run a command and return its exit code and stderr (finite timeout). */
async function sh(argv: string[]): Promise<{ code: number | null; err: string }> {
  const r = await runCommand(argv, 30_000);
  return { code: r.timedOut ? null : r.code, err: r.stderr.trim() };
}

test("a named region: open, place a primitive, see it through a second mapping, close, unlink", { skip }, () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const a = native!.openSharedRegion(name, 4096, { create: true, exclusive: true });
  try {
    assert.equal(a.name, name);
    assert.equal(a.byteLength, 4096);
    assert.equal(statSync(`/dev/shm${name}`).mode & 0o777, 0o600, "created 0600");
    const b = native!.openSharedRegion(name, 4096);
    const m = new Mutex({ buffer: a.buffer, byteOffset: 0, futex: a.futex });
    m.lock();
    assert.equal(new Int32Array(b.buffer)[0], 1, "the second mapping sees the locked word");
    m.unlock();
    assert.equal(new Int32Array(b.buffer)[0], 0);
    b.close();
    assert.equal(b.closed, true);
  } finally {
    a.close();
    a.unlink();
  }
  assert.equal(native!.unlinkSharedRegion(name), false);
});

test("a full /dev/shm: creating a 4 MiB region on a 1 MiB tmpfs is ENOSPC at open, and the process lives", {
  skip: unshareSkip,
  timeout: 60_000,
}, async () => {
  if (refusedOnWindows(native!, "region")) return;
  const child = childCommand(testScriptPath("fixtures/region_enospc"));
  const r = await runCommand(["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs /dev/shm && exec "$0" "$@"', ...child], 30_000);
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.timedOut, false, out);
  assert.equal(r.code, 0, `the child crashed or opened the region (exit ${r.code}):\n${out}`);
  assert.match(r.stdout, /^Error: openSharedRegion\("\/futex-sync-enospc-\d+"\): cannot reserve 4194304 bytes .*ENOSPC/m);
  assert.match(r.stdout, /^size after: 0$/m, "a failed open leaves no half-grown region for others to map");
});

test("squatting: a region another user pre-created with mode 0666 is refused, naming owner and mode; allowForeign opens it", {
  skip: rootSkip,
  timeout: 60_000,
}, async () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const file = `/dev/shm${name}`;
  const made = await sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", `umask 0 && printf 'AAAA' > ${file} && truncate -s 64 ${file}`]);
  assert.equal(made.code, 0, made.err);
  try {
    assert.equal(statSync(file).uid, 65534);
    assert.throws(() => native!.openSharedRegion(name, 64, { create: true }), (e: Error) => {
      assert.equal(e.name, "SharedRegionPermissionError");
      assert.ok(e instanceof native!.SharedRegionPermissionError);
      assert.match(e.message, /owned by uid 65534 with mode 0666/);
      assert.match(e.message, /this process's user \(uid 0\)/);
      assert.match(e.message, /allowForeign: true/);
      return true;
    });
    const r = native!.openSharedRegion(name, 64, { create: true, allowForeign: true });
    try {
      assert.equal(new TextDecoder().decode(new Uint8Array(r.buffer, 0, 4)), "AAAA", "the foreign region's bytes");
    } finally {
      r.close();
    }
  } finally {
    unlinkSync(file);
  }
});

test("a region of this user that group or others can write (0666, 0620) is refused; 0644 is accepted", { skip }, () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const r = native!.openSharedRegion(name, 64, { create: true });
  try {
    for (const mode of [0o666, 0o620]) {
      chmodSync(`/dev/shm${name}`, mode);
      assert.throws(() => native!.openSharedRegion(name, 64), {
        name: "SharedRegionPermissionError",
        message: new RegExp(`owned by uid ${uid} with mode 0${mode.toString(8)}.*allowForeign`),
      });
    }
    chmodSync(`/dev/shm${name}`, 0o644);
    native!.openSharedRegion(name, 64).close();
  } finally {
    r.close();
    r.unlink();
  }
});

test("a name held by something other than a regular file (a FIFO) is refused, with or without allowForeign", { skip, timeout: 30_000 }, async () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const made = await sh(["mkfifo", "-m", "600", `/dev/shm${name}`]);
  assert.equal(made.code, 0, made.err);
  try {
    for (const options of [{}, { create: true }, { create: true, allowForeign: true }]) {
      assert.throws(() => native!.openSharedRegion(name, 64, options), {
        name: "SharedRegionPermissionError",
        message: /not a regular file \(type 010000/,
      });
    }
  } finally {
    unlinkSync(`/dev/shm${name}`);
  }
});

test("the size is checked at every open: smaller than asked is a RangeError, also after another process truncated it", { skip, timeout: 30_000 }, async () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const r = native!.openSharedRegion(name, 64, { create: true });
  try {
    assert.throws(() => native!.openSharedRegion(name, 128), { name: "RangeError", message: /has 64 bytes, fewer than the 128 asked for/ });
    const cut = await sh(["truncate", "-s", "8", `/dev/shm${name}`]); // a careless co-tenant
    assert.equal(cut.code, 0, cut.err);
    assert.throws(() => native!.openSharedRegion(name, 64), { name: "RangeError", message: /has 8 bytes/ });
    native!.openSharedRegion(name, 64, { create: true }).close(); // grows it back
    assert.equal(statSync(`/dev/shm${name}`).size, 64);
  } finally {
    r.close();
    r.unlink();
  }
});

test("a sealed region: another process opens it by path and shares a Mutex; nobody can shrink or grow it; the holder keeps working", {
  skip,
  timeout: 60_000,
}, async () => {
  if (refusedOnWindows(native!, "region", "sealed")) return;
  const region = native!.createSealedRegion(4096);
  try {
    assert.match(region.path, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    assert.equal(region.byteLength, 4096);
    assert.equal(statSync(region.path).size, 4096);
    assert.equal(statSync(region.path).mode & 0o777, 0o600);
    const m = new Mutex({ buffer: region.buffer, byteOffset: 0, futex: region.futex });
    const words = new Int32Array(region.buffer);
    m.lock(); // the child has to wait for this, across processes
    const child = runChild("fixtures/region_sealed_peer", [region.path, "4096"], 30_000);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(Atomics.load(words, 1), 0, "the child could not take the lock while we hold it");
    m.unlock();
    const c = await child;
    assert.equal(c.timedOut, false, `${c.stdout}${c.stderr}`);
    assert.equal(c.code, 0, `${c.stdout}${c.stderr}`);
    assert.match(c.stdout, /^ok path=\/proc\/\d+\/fd\/\d+ counter=1 truncate=1 .*Operation not permitted/m, "the seals hold for the opener");
    assert.equal(Atomics.load(words, 1), 1, "the child's write is seen here");
    for (const size of ["0", "1M", "2048"]) {
      const t = await sh(["truncate", "-s", size, region.path]); // a third process
      assert.notEqual(t.code, 0, `truncate -s ${size} succeeded`);
      assert.match(t.err, /Operation not permitted/);
    }
    assert.equal(statSync(region.path).size, 4096);
    words[1000] = 7; // the last page is still there
    assert.equal(words[1000], 7);
    assert.equal(m.lock(1000), true);
    m.unlock();
  } finally {
    region.close();
  }
  assert.equal(region.closed, true);
  assert.throws(() => statSync(region.path), "close() closes the descriptor: the path is gone");
});

test("openSealedRegion refuses a file without seals, a bigger length, and a bad path; a named region can be truncated", { skip, timeout: 30_000 }, async () => {
  if (refusedOnWindows(native!, "region", "sealed")) return;
  const sealed = native!.createSealedRegion(64);
  const name = regionName();
  const named = native!.openSharedRegion(name, 64, { create: true });
  try {
    assert.throws(() => native!.openSealedRegion(`/dev/shm${name}`, 64), { name: "SharedRegionPermissionError", message: /not a sealed region/ });
    assert.throws(() => native!.openSealedRegion(sealed.path, 128), { name: "RangeError", message: /has 64 bytes, fewer than the 128/ });
    assert.throws(() => native!.openSealedRegion("proc/1/fd/3", 64), { name: "TypeError", message: /absolute path/ });
    assert.throws(() => native!.openSealedRegion("/nonexistent/futex-sync", 64), /open .*failed: errno 2/);
    const again = native!.openSealedRegion(sealed.path, 64);
    assert.equal(again.name, sealed.path);
    assert.notEqual(again.path, sealed.path, "its own descriptor");
    again.close();
    // The risk sealed regions remove: anyone who can open a named region can cut it.
    const cut = await sh(["truncate", "-s", "0", `/dev/shm${name}`]);
    assert.equal(cut.code, 0, cut.err);
  } finally {
    sealed.close();
    named.close();
    named.unlink();
  }
});

test("names as the OS sees them: lone surrogates are refused with their index; length is counted in UTF-8 bytes", { skip }, () => {
  if (refusedOnWindows(native!, "region")) return;
  const n = native!;
  const lone = regionName(); // before the fix, "/…\uD800" and "/…\uDC00" created "/…\uFFFD": removed below
  try {
    for (const [name, index] of [
      [`${lone}\uD800`, lone.length],
      [`${lone}\uDC00`, lone.length],
      [`${lone.slice(1)}\uDC00y`, lone.length - 1], // without the leading "/": the index is in the name as given
      [`${lone}a\uDC00\uD800`, lone.length + 1],
    ] as const) {
      assert.throws(() => n.openSharedRegion(name, 16, { create: true }), {
        name: "TypeError",
        message: new RegExp(`lone surrogate \\(U\\+D[8C]00\\) at index ${index}`),
      }, JSON.stringify(name));
    }
    assert.throws(() => n.unlinkSharedRegion(`${lone}\uD800`), { name: "TypeError", message: /lone surrogate/ });
  } finally {
    for (const made of [`${lone}\uFFFD`, `${lone}\uFFFDy`, `${lone}a\uFFFD\uFFFD`]) n.unlinkSharedRegion(made);
  }
  const base = regionName();
  const fffd = n.openSharedRegion(`${base}\uFFFD`, 16, { create: true, exclusive: true });
  const pair = n.openSharedRegion(`${base}\uD83D\uDE00`, 16, { create: true, exclusive: true }); // a well-formed pair
  try {
    assert.equal(fffd.name, `${base}\uFFFD`);
    assert.equal(statSync(`/dev/shm${base}\uD83D\uDE00`).size, 16);
  } finally {
    for (const r of [fffd, pair]) {
      r.close();
      r.unlink();
    }
  }
  assert.throws(() => n.openSharedRegion(`/${"é".repeat(200)}`, 16, { create: true }), {
    name: "RangeError",
    message: /is 400 UTF-8 bytes after the "\/", more than the 255/,
  });
  assert.throws(() => n.openSharedRegion(`/${"a".repeat(256)}`, 16, { create: true }), { name: "RangeError", message: /256 UTF-8 bytes/ });
  const longest = `/${process.pid}-${"a".repeat(254 - String(process.pid).length)}`;
  const r = n.openSharedRegion(longest, 16, { create: true });
  r.close();
  r.unlink();
});

test("close() after the user transferred region.buffer: no throw, the shared mapping is gone, the moved buffer is harmless", { skip }, () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = regionName();
  const r = native!.openSharedRegion(name, 4096, { create: true });
  const other = native!.openSharedRegion(name, 4096);
  try {
    new Int32Array(r.buffer)[0] = 42;
    const moved = (r.buffer as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
    assert.equal(r.buffer.byteLength, 0);
    assert.equal(new Int32Array(moved)[0], 42, "transfer() moves the mapping, it does not copy it");
    const mapped = (): number => readFileSync("/proc/self/maps", "utf8").split("\n").filter((l) => l.includes(`/dev/shm${name}`)).length;
    assert.equal(mapped(), 2);
    r.close(); // must not throw
    assert.equal(r.closed, true);
    assert.equal(mapped(), 1, "close() removed this region's shared mapping");
    const view = new Int32Array(moved);
    assert.equal(view[0], 0, "the moved buffer now reads private zero pages, not unmapped memory");
    view[0] = 99;
    assert.equal(new Int32Array(other.buffer)[0], 42, "writes through the moved buffer no longer reach the region");
    r.close(); // idempotent
  } finally {
    other.close();
    other.unlink();
  }
});

/** A full garbage collection where the runtime offers one: Bun.gc, an exposed gc(), or V8's flag. */
function collectGarbage(): string {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) {
    g.Bun.gc(true);
    return "Bun.gc(true)";
  }
  if (typeof g.gc !== "function") {
    setFlagsFromString("--expose-gc");
    g.gc = runInNewContext("gc") as () => void;
  }
  g.gc!();
  return "gc()";
}

test("unlink() after a garbage collection removes its own region's name, never another live region's", { skip, timeout: 30_000 }, (t) => {
  if (refusedOnWindows(native!, "region")) return;
  const made: string[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      const nameA = regionName();
      const a = native!.openSharedRegion(nameA, 4096, { create: true, exclusive: true });
      made.push(nameA);
      // Churn buffers of a C string's size, collect: what the open passed to shm_open is gone now.
      for (let i = 0; i < 2000; i++) new Uint8Array(new SharedArrayBuffer(nameA.length + 1)).fill(0x41);
      const how = collectGarbage();
      const nameB = regionName(); // same length: its C string may land where A's was
      const b = native!.openSharedRegion(nameB, 4096, { create: true, exclusive: true });
      made.push(nameB);
      collectGarbage();
      a.unlink();
      a.close();
      assert.equal(existsSync(`/dev/shm${nameA}`), false, `round ${round}: a.unlink() left ${nameA} in place (after ${how})`);
      assert.equal(existsSync(`/dev/shm${nameB}`), true, `round ${round}: a.unlink() removed the other live region ${nameB} (after ${how})`);
      b.unlink();
      b.close();
      assert.equal(existsSync(`/dev/shm${nameB}`), false);
      if (round === 0) t.diagnostic(`collected with ${how}`);
    }
  } finally {
    for (const n of made) if (existsSync(`/dev/shm${n}`)) native!.unlinkSharedRegion(n);
  }
});
