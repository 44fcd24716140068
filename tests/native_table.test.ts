/**
 * The per-OS table as data (adapters/native/table.ts), in every runtime: each row's calls name
 * symbols it declares, with as many arguments as the signature has, of fitting types; the
 * constants match the OS headers the research cites; lookup refuses unknown platforms with the
 * list of supported ones; a backend on an unsupported host fails the same way. Only the Linux
 * rows are executed (tests/native_*.test.ts); the others are checked here and nowhere else.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { bindNativeFutex, type FfiBackend } from "../adapters/native/bind.ts";
import { UnsupportedPlatformError } from "../adapters/native/errors.ts";
import { type CallSpec, NATIVE_TABLE, type NativeRow, rowsFor, type WaitSpec } from "../adapters/native/table.ts";

function calls(row: NativeRow): [string, CallSpec][] {
  const out: [string, CallSpec][] = [];
  for (const f of [row.private, row.shared].filter((x) => x !== undefined)) {
    out.push([`${f.name}.wait`, f.wait], [`${f.name}.wakeOne`, f.wakeOne], [`${f.name}.wakeAll`, f.wakeAll]);
  }
  return out;
}

test("every call names a declared symbol with matching arity and argument types", () => {
  for (const row of NATIVE_TABLE) {
    for (const [what, call] of calls(row)) {
      const sig = row.symbols[call.symbol];
      assert.ok(sig, `${row.id} ${what}: symbol ${call.symbol} is not declared`);
      assert.equal(call.args.length, sig.parameters.length, `${row.id} ${what}: argument count`);
      call.args.forEach((a, i) => {
        const t = sig.parameters[i];
        if (a === "word" || a === "compare" || a === "null") assert.equal(t, "pointer", `${row.id} ${what} arg ${i} (${a})`);
        else if (a === "expected" || typeof a === "number") assert.notEqual(t, "pointer", `${row.id} ${what} arg ${i}`);
        else if (a === "timeout") {
          const enc = (call as WaitSpec).timeout;
          assert.equal(t === "pointer", enc === "timespec" || enc === "umtx_time", `${row.id} ${what}: timeout ${enc} as ${t}`);
        }
      });
      assert.ok(call.args.includes("word"), `${row.id} ${what} passes the word`);
    }
    assert.ok(row.private.wait.args.includes("expected") || row.private.wait.args.includes("compare"), `${row.id}: wait compares`);
  }
});

test("Linux rows: syscall 202 (x86_64) / 98 (aarch64), FUTEX_WAIT 0, FUTEX_WAKE 1, PRIVATE 128 only on the private flavour", () => {
  const [x86] = rowsFor("linux", "x86_64");
  const [arm] = rowsFor("linux", "arm64");
  assert.equal(x86.private.wait.args[0], 202);
  assert.equal(arm.private.wait.args[0], 98);
  assert.equal(x86.private.wait.args[2], 128);
  assert.equal(x86.shared!.wait.args[2], 0);
  assert.equal(x86.private.wakeOne.args[2], 129);
  assert.equal(x86.shared!.wakeAll.args[2], 1);
  assert.equal(x86.shared!.wakeAll.args[3], 0x7fffffff);
  assert.equal(x86.shared!.wakeOne.args[3], 1);
  assert.equal(x86.library, "libc.so.6");
  assert.equal(x86.memory!.O_CREAT, 0o100);
});

test("Windows: WaitOnAddress family, in-process only, with a reason for cross-process requests", () => {
  const [w] = rowsFor("win32", "x64");
  assert.equal(w.library, "api-ms-win-core-synch-l1-2-0.dll");
  assert.deepEqual(w.private.wait.args, ["word", "compare", 4, "timeout"]);
  assert.equal(w.private.wait.woke, "nonzero");
  assert.equal(w.private.wakeOne.symbol, "WakeByAddressSingle");
  assert.equal(w.private.wakeAll.symbol, "WakeByAddressAll");
  assert.equal(w.shared, undefined);
  assert.match(w.noSharedReason!, /same process/);
});

test("macOS: os_sync_* first, __ulock_* fallback; shared flags and ULF_WAKE_ALL", () => {
  const [a, b] = rowsFor("darwin", "arm64");
  assert.equal(a.id, "darwin-os_sync");
  assert.equal(b.id, "darwin-ulock");
  assert.equal(a.shared!.wait.args[3], 1); // OS_SYNC_WAIT_ON_ADDRESS_SHARED
  assert.equal(a.private.wait.args[4], 32); // OS_CLOCK_MACH_ABSOLUTE_TIME
  assert.equal(b.shared!.wait.args[0], 3); // UL_COMPARE_AND_WAIT_SHARED
  assert.equal(b.private.wakeAll.args[0], 0x101); // UL_COMPARE_AND_WAIT | ULF_WAKE_ALL
  assert.equal(b.private.wait.timeout, "us");
});

test("FreeBSD _umtx_op and OpenBSD futex constants", () => {
  const [f] = rowsFor("freebsd", "x86_64");
  assert.equal(f.private.wait.args[1], 15);
  assert.equal(f.shared!.wait.args[1], 11);
  assert.equal(f.private.wakeOne.args[1], 16);
  assert.equal(f.shared!.wakeAll.args[1], 3);
  assert.equal(f.private.wait.timeout, "umtx_time");
  const [o] = rowsFor("openbsd", "aarch64");
  assert.equal(o.private.wait.args[1], 1 | 128);
  assert.equal(o.shared!.wakeOne.args[1], 2);
});

test("an unsupported OS or architecture is refused with the supported list", () => {
  for (const [os, arch] of [["plan9", "x86_64"], ["linux", "ia32"], ["linux", "riscv64"]]) {
    assert.throws(() => rowsFor(os, arch), (e: unknown) => {
      assert.ok(e instanceof UnsupportedPlatformError);
      assert.match((e as Error).message, new RegExp(`no native futex for ${os}/${arch}`));
      assert.match((e as Error).message, /linux \(x86_64\).*windows.*darwin.*freebsd.*openbsd/);
      return true;
    });
  }
  const backend: FfiBackend = {
    runtime: "fake",
    os: "haiku",
    arch: "x86_64",
    open: () => assert.fail("must not open anything"),
    pointerTo: () => null,
    bufferAt: () => new ArrayBuffer(0),
    address: () => 0n,
  };
  assert.throws(() => bindNativeFutex(backend), UnsupportedPlatformError);
});
