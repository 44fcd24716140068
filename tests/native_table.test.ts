/**
 * The per-OS table as data (adapters/native/table.ts), in every runtime: each row's calls name
 * symbols it declares, with as many arguments as the signature has, of fitting types; lookup
 * refuses unknown platforms with the list of supported ones; a backend on an unsupported host
 * fails the same way. What each row's calls are — constants, timeouts, return conventions, beside
 * their man pages — is executed through the binder in tests/native_binder.test.ts.
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
    pointerAt: () => null,
    load32: () => 0,
    startHelper: () => assert.fail("must not start a helper"),
  };
  assert.throws(() => bindNativeFutex(backend), UnsupportedPlatformError);
});
