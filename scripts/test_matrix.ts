/**
 * The test matrix behind `npm test`: the same node:test suite under Node (compiled into build/,
 * since Node 20 cannot run .ts), Deno and Bun (from the deno/bun devDependencies), one runtime
 * after another. Streams each runtime's output, prints each runtime's tally, and ends with one
 * line "N passed, N failed" over all three. Exits non-zero if any runtime fails or crashes.
 *
 * With no file arguments it also runs the packaging checks (scripts/check_package.ts, row
 * "package") and the spin model checks of every protocol and its mutants (scripts/model_check.ts,
 * row "models").
 *
 * Usage (after `tsc -p .`): node build/scripts/test_matrix.js [--only node,deno,bun,package,models] [tests/x.test.ts ...]
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (name: string): string => join(root, "node_modules", ".bin", name);

interface Tally {
  runtime: string;
  passed: number;
  failed: number;
  skipped: number;
  exitCode: number | null;
  seconds: number;
  note?: string;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    const take = (stream: NodeJS.WriteStream) => (b: Buffer): void => {
      out += b.toString();
      stream.write(b);
    };
    child.stdout.on("data", take(process.stdout));
    child.stderr.on("data", take(process.stderr));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

// deno-lint-ignore no-control-regex
const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, "");

function lastNumber(out: string, re: RegExp): number | undefined {
  const all = [...stripAnsi(out).matchAll(re)];
  return all.length ? Number(all[all.length - 1][1]) : undefined;
}

const args = process.argv.slice(2);
const onlyIdx = args.indexOf("--only");
const files = onlyIdx >= 0 ? args.filter((_, i) => i !== onlyIdx && i !== onlyIdx + 1) : args;
// The packaging checks (JSR dry run, npm build, publint, attw, consumers) run with the full suite.
const only: string[] = onlyIdx >= 0
  ? args[onlyIdx + 1].split(",")
  : files.length
  ? ["node", "deno", "bun"]
  : ["node", "deno", "bun", "package", "models"];

async function nodeTest(name: string, targets: string[]): Promise<Tally> {
  const t0 = performance.now();
  const { code, out } = await run(process.execPath, ["--test", "--test-reporter=tap", ...targets]);
  return {
    runtime: name,
    passed: lastNumber(out, /^# pass (\d+)$/gm) ?? 0,
    failed: lastNumber(out, /^# fail (\d+)$/gm) ?? 0,
    skipped: lastNumber(out, /^# skipped (\d+)$/gm) ?? 0,
    exitCode: code,
    seconds: (performance.now() - t0) / 1000,
  };
}

const runners: Record<string, () => Promise<Tally>> = {
  node() {
    return nodeTest("node", files.length ? files.map((f) => join("build", f.replace(/\.ts$/, ".js"))) : [join("build", "tests")]);
  },
  package() {
    return nodeTest("package", [join("build", "tests", "package", "package.check.js")]);
  },
  models() {
    return nodeTest("models", [join("build", "tests", "models", "models.check.js")]);
  },
  async deno() {
    const t0 = performance.now();
    const targets = files.length ? files : ["tests/"];
    // Type-check once (workers would otherwise be re-checked at every spawn), then run unchecked.
    const check = await run(bin("deno"), ["check", "mod.ts", "testing.ts", ...targets]);
    if (check.code !== 0) {
      return { runtime: "deno", passed: 0, failed: 1, skipped: 0, exitCode: check.code, seconds: 0, note: "deno check failed" };
    }
    const { code, out } = await run(bin("deno"), ["test", "-A", "--no-check", ...targets]);
    return {
      runtime: "deno",
      passed: lastNumber(out, /(\d+) passed/g) ?? 0,
      failed: lastNumber(out, /(\d+) failed/g) ?? 0,
      skipped: lastNumber(out, /(\d+) ignored/g) ?? 0,
      exitCode: code,
      seconds: (performance.now() - t0) / 1000,
    };
  },
  async bun() {
    const t0 = performance.now();
    const targets = files.map((f) => `./${f}`);
    const { code, out } = await run(bin("bun"), ["test", "--timeout", "300000", ...targets]);
    return {
      runtime: "bun",
      passed: lastNumber(out, /^\s*(\d+) pass$/gm) ?? 0,
      failed: lastNumber(out, /^\s*(\d+) fail$/gm) ?? 0,
      skipped: lastNumber(out, /^\s*(\d+) skip$/gm) ?? 0,
      exitCode: code,
      seconds: (performance.now() - t0) / 1000,
    };
  },
};

const tallies: Tally[] = [];
for (const name of only) {
  const runner = runners[name];
  if (!runner) throw new Error(`unknown runtime ${name}; use node, deno or bun`);
  if ((name === "deno" || name === "bun") && !existsSync(bin(name))) {
    tallies.push({
      runtime: name,
      passed: 0,
      failed: 1,
      skipped: 0,
      exitCode: null,
      seconds: 0,
      note: `${bin(name)} missing: run npm install`,
    });
    continue;
  }
  process.stdout.write(`\n=== ${name} ===\n`);
  const t = await runner();
  // A runtime that exits non-zero without reporting a failure still failed (crash, load error).
  if (t.exitCode !== 0 && t.failed === 0) {
    t.failed = 1;
    t.note ??= `exited with ${t.exitCode} without a failing test count`;
  }
  if (t.passed + t.failed === 0) {
    t.failed = 1;
    t.note ??= "ran no test";
  }
  tallies.push(t);
}

process.stdout.write("\n=== summary ===\n");
for (const t of tallies) {
  process.stdout.write(
    `${t.runtime.padEnd(7)} ${String(t.passed).padStart(4)} passed ${String(t.failed).padStart(3)} failed ` +
      `${String(t.skipped).padStart(3)} skipped  ${t.seconds.toFixed(1)} s${t.note ? `  (${t.note})` : ""}\n`,
  );
}
const passed = tallies.reduce((s, t) => s + t.passed, 0);
const failed = tallies.reduce((s, t) => s + t.failed, 0);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;
