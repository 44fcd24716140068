/**
 * Mutation check: plant each mutant (scripts/mutants/*.ts: a small edit of the code that
 * reintroduces a known pitfall) in a scratch copy of the tree, one at a time, and show that the
 * tests named for it notice — a failing assertion, or a hang that runs into a bounded wait or a
 * stall watchdog. Each search string must occur exactly once, so a refactor that moves the code
 * breaks the mutant loudly instead of silently skipping it. The protocol loops exist once
 * (core/contended.ts drives them), so a protocol mutant breaks the sync and the async path alike.
 *
 * Mutants with a `runtime` run their tests from the .ts sources under Deno or Bun instead of
 * Node: native futexes exist only there (the robust mutex, the native scenarios). Mutants marked
 * `equivalent` are planted (the edit must apply and compile) but not run: their reason is printed.
 *
 * Usage (after `tsc -p .`, or `npm run mutants -- …`):
 *   node build/scripts/mutants.js [--group protocols,batons,…] [--list] [--no-docs] [name-substring ...]
 * Prints one line per mutant (and the tests that failed), records the results in
 * docs/mutants.json and regenerates the table in docs/testing.md from it (unless --no-docs), and
 * exits non-zero if any non-equivalent mutant survives.
 */

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Mutant } from "./mutants/mutant.ts";
import { groups } from "./mutants/groups.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values: opts, positionals: filters } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { group: { type: "string" }, list: { type: "boolean" }, "no-docs": { type: "boolean" } },
});
const wanted = opts.group?.split(",");
for (const g of wanted ?? []) {
  if (!(g in groups)) throw new Error(`--group ${g}: no such group (${Object.keys(groups).join(", ")})`);
}

/** What one planted mutant did. */
interface Result {
  group: string;
  name: string;
  file: string;
  verdict: "caught" | "survived" | "equivalent";
  /** The tests that failed (or "killed: SIGTERM" for a run that ran into the time limit). */
  caughtBy: string[];
  seconds: number;
  runtime: string;
}

const selected: [string, Mutant][] = [];
const seen = new Set<string>();
for (const [g, list] of Object.entries(groups)) {
  for (const m of list) {
    if (seen.has(m.name)) throw new Error(`two mutants are named ${JSON.stringify(m.name)}`);
    seen.add(m.name);
    if (wanted && !wanted.includes(g)) continue;
    if (filters.length && !filters.some((f) => m.name.includes(f))) continue;
    selected.push([g, m]);
  }
}
if (opts.list) {
  for (const [g, m] of selected) console.log(`${g}\t${m.equivalent ? "(equivalent) " : ""}${m.name}`);
  console.log(`${selected.length} mutants`);
  process.exit(0);
}

/** Plant `m` in a scratch copy of the tree and compile it; returns the copy's directory. */
function plant(m: Mutant): string {
  const dir = mkdtempSync(join(tmpdir(), "futex-mutant-"));
  for (const p of ["core", "adapters", "tests", "scripts", "mod.ts", "testing.ts", "tsconfig.json", "package.json", "deno.json", "bunfig.toml"]) {
    if (existsSync(join(root, p))) cpSync(join(root, p), join(dir, p), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  let src = readFileSync(join(dir, m.file), "utf8");
  for (const [from, to] of m.edits) {
    if (src.split(from).length !== 2) throw new Error(`mutant "${m.name}": ${m.file} must contain ${JSON.stringify(from)} exactly once`);
    src = src.split(from).join(to);
  }
  writeFileSync(join(dir, m.file), src);
  const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8"));
  tsconfig.include = tsconfig.include.filter((p: string) => p !== "scripts");
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
  if (tsc.status !== 0) throw new Error(`mutant "${m.name}" does not compile:\n${tsc.stdout}${tsc.stderr}`);
  return dir;
}

/** Run the mutant's tests in `dir`: whether they noticed, and which failed. */
function runTests(m: Mutant, dir: string): { caught: boolean; failedTests: string[] } {
  const env = { ...process.env, FUTEX_TEST_SCALE: process.env.FUTEX_TEST_SCALE ?? "0.25", NO_COLOR: "1" };
  let run: SpawnSyncReturns<string>;
  let failedTests: string[];
  if (m.runtime !== undefined) {
    const files = m.tests.map((t) => join(dir, t));
    const bin = join(root, "node_modules", ".bin", m.runtime);
    const args = m.runtime === "deno"
      ? ["test", "-A", ...(m.pattern ? [`--filter=/${m.pattern}/`] : []), ...files]
      : ["test", "--timeout=60000", ...(m.pattern ? ["-t", m.pattern] : []), ...files];
    run = spawnSync(bin, args, { cwd: dir, encoding: "utf8", timeout: 300_000, env });
    const out = `${run.stdout ?? ""}${run.stderr ?? ""}`;
    failedTests = [
      ...[...out.matchAll(/^(.*) => \.?\/?tests\/.*$/gm)].map((x) => x[1]),
      ...[...out.matchAll(/^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/gm)].map((x) => x[1]),
    ];
    // A non-zero exit that names no failing test (a type error, a missing file) proves nothing.
    if (run.status !== 0 && run.signal === null && failedTests.length === 0) {
      throw new Error(`mutant "${m.name}": ${m.runtime} failed without a failing test:\n${out.slice(-2000)}`);
    }
  } else {
    const files = m.tests.map((t) => join(dir, "build", t.replace(/\.ts$/, ".js")));
    const filter = m.pattern ? [`--test-name-pattern=${m.pattern}`] : [];
    run = spawnSync(process.execPath, ["--test", "--test-force-exit", "--test-reporter=tap", ...filter, ...files], { encoding: "utf8", timeout: 300_000, env });
    const out = run.stdout ?? "";
    failedTests = [...out.matchAll(/^not ok \d+ - (.*)$/gm)].map((x) => x[1]);
    // node --test prints the file as a failing test too when a test inside it failed
    failedTests = failedTests.filter((t) => !/\.js$/.test(t));
    if (run.status !== 0 && run.signal === null && failedTests.length === 0) {
      throw new Error(`mutant "${m.name}": node --test failed without a failing test:\n${out.slice(-2000)}${run.stderr ?? ""}`);
    }
  }
  failedTests = [...new Set(failedTests)];
  if (run.signal) failedTests.push(`killed: ${run.signal} (time limit)`);
  return { caught: run.status !== 0 || failedTests.length > 0, failedTests };
}

const results: Result[] = [];
let survived = 0;
for (const [group, m] of selected) {
  const t0 = performance.now();
  const dir = plant(m);
  try {
    let verdict: Result["verdict"];
    let caughtBy: string[] = [];
    if (m.equivalent) {
      verdict = "equivalent";
      caughtBy = [m.equivalent];
    } else {
      const r = runTests(m, dir);
      verdict = r.caught ? "caught" : "survived";
      caughtBy = r.failedTests;
      if (!r.caught) survived++;
    }
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    results.push({ group, name: m.name, file: m.file, verdict, caughtBy, seconds, runtime: m.runtime ?? "node" });
    console.log(
      `${verdict.toUpperCase().padEnd(10)} ${m.name} (${seconds} s, ${m.runtime ?? "node"})` +
        (caughtBy.length ? `\n           ${verdict === "equivalent" ? "why" : "failing"}: ${caughtBy.join("; ")}` : ""),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const caught = results.filter((r) => r.verdict === "caught").length;
const equivalent = results.filter((r) => r.verdict === "equivalent").length;
console.log(`${results.length} mutants: ${caught} caught, ${survived} survived, ${equivalent} equivalent`);

if (!opts["no-docs"] && results.length > 0) writeDocs(results);
process.exitCode = survived === 0 ? 0 : 1;

/** Merge this run's results into docs/mutants.json and regenerate the table in docs/testing.md. */
function writeDocs(fresh: Result[]): void {
  const jsonPath = join(root, "docs", "mutants.json");
  const old: { results: Result[] } = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, "utf8")) : { results: [] };
  const byName = new Map(old.results.filter((r) => seen.has(r.name)).map((r) => [r.name, r]));
  for (const r of fresh) byName.set(r.name, { ...r, ...{ at: new Date().toISOString().slice(0, 10), cpu: cpus()[0]?.model ?? "?" } });
  const rank = new Map([...seen].map((n, i) => [n, i])); // the groups' order
  const all = [...byName.values()].sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
  writeFileSync(jsonPath, JSON.stringify({ results: all }, null, 1) + "\n");
  const esc = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const tally = (v: Result["verdict"]): number => all.filter((r) => r.verdict === v).length;
  const missing = [...seen].filter((n) => !byName.has(n)).length;
  const lines = [
    "<!-- mutants:begin (generated by scripts/mutants.ts from docs/mutants.json; do not edit) -->",
    `${all.length} mutants recorded: ${tally("caught")} caught, ${tally("survived")} survived, ${tally("equivalent")} equivalent` +
      (missing ? `; ${missing} not run yet` : "") + ".",
    "",
    "| group | mutant | file | runtime | verdict | caught by (failing tests) / why equivalent |",
    "|---|---|---|---|---|---|",
    ...all.map((r) => `| ${r.group} | ${esc(r.name)} | \`${r.file}\` | ${r.runtime} | ${r.verdict} | ${esc(r.caughtBy.join("; ")).slice(0, 600)} |`),
    "<!-- mutants:end -->",
  ];
  const docPath = join(root, "docs", "testing.md");
  const doc = readFileSync(docPath, "utf8");
  const re = /<!-- mutants:begin[^]*?<!-- mutants:end -->/;
  if (!re.test(doc)) throw new Error("docs/testing.md has no <!-- mutants:begin --> … <!-- mutants:end --> markers");
  writeFileSync(docPath, doc.replace(re, lines.join("\n")));
}
