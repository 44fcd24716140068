/**
 * The browser row of `npm test` (a node:test file, like the package and models rows): Debian's
 * Chromium and Firefox ESR, driven by puppeteer-core (Chromium over CDP, Firefox over WebDriver
 * BiDi) with `executablePath`. The package's ESM build (npm/, scripts/build_npm.ts) and the
 * compiled test pages and workers (build/tests/) are served from node:http on 127.0.0.1 with
 * COOP/COEP (scripts/lib/coi_server.ts); tests/support/worker_env.js is served from
 * tests/browser/worker_env.ts, so the scenario roles of tests/workers/ run unchanged in module
 * Web Workers.
 *
 * Per browser: the page is cross-origin isolated; a page without the headers gets the library's
 * TypeError naming them; and, twice — once on the engine's Atomics.waitAsync ("native") and
 * once with it deleted before the library loads ("helper": the async forms go through the
 * helper Worker) — the main thread's blocking-call errors and async forms, 4 workers in blocking
 * guard() beside 200 main-thread withLockAsync calls, many async waits on many words, and the
 * scenarios S1, S3, S13 and the mutex stress (blocking, and with half the workers async);
 * examples/browser/ as `npm run example:browser` serves it; and the npm build bundled by esbuild. The helper path's worker scenarios
 * run in the browser started without puppeteer on tests/browser/run.html (callUnautomated).
 *
 * Without a browser (or puppeteer-core) its tests are skipped with the reason; under CI a
 * missing browser fails. FUTEX_CHROMIUM / FUTEX_FIREFOX name other executables. Usage (after `tsc -p .`): node --test build/tests/browser/browser.check.js
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, test, type TestContext } from "node:test";
import { buildNpm, outDir, root } from "../../scripts/build_npm.ts";
import { type IsolatedServer, serveIsolated } from "../../scripts/lib/coi_server.ts";
import { rounds } from "../support/runtime.ts";

type Puppeteer = typeof import("puppeteer-core").default;
type Browser = import("puppeteer-core").Browser;

const ci = !!process.env.CI && process.env.CI !== "false" && process.env.CI !== "0";

function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

interface Target {
  /** "chromium", "firefox" */
  name: string;
  executable: string | undefined;
  install: string;
  browser?: Browser;
  version?: string;
  /** The engine has Atomics.waitAsync (on the isolated test page). */
  nativeWaitAsync?: boolean;
  launchError?: string;
  profile?: string;
}

/** A browser named by FUTEX_CHROMIUM / FUTEX_FIREFOX (a path; one that does not exist: none), else found on PATH. */
function executable(variable: string, ...names: string[]): string | undefined {
  const given = process.env[variable];
  if (given !== undefined) return existsSync(given) ? given : undefined;
  for (const n of names) {
    const found = which(n);
    if (found !== undefined) return found;
  }
  return undefined;
}

const targets: Target[] = [
  { name: "chromium", executable: executable("FUTEX_CHROMIUM", "chromium"), install: "apt-get install chromium" },
  { name: "firefox", executable: executable("FUTEX_FIREFOX", "firefox-esr", "firefox"), install: "apt-get install firefox-esr" },
];

/**
 * Chromium's flags. The network is closed here: without the background-networking flags
 * Chromium's own connections are refused and it stalls. --no-sandbox only as root (which the
 * sandbox refuses).
 */
const CHROMIUM_FLAGS = [
  ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let puppeteer: Puppeteer | undefined;
let puppeteerMissing: string | undefined;
try {
  puppeteer = (await import("puppeteer-core")).default;
} catch (e) {
  puppeteerMissing = `puppeteer-core is not installed (npm install): ${String(e)}`;
}

let server: IsolatedServer | undefined;
const anyBrowser = puppeteer !== undefined && targets.some((t) => t.executable !== undefined);
/** The library as one minified esbuild bundle for browsers, served at /bundle/mod.js (or why not). */
let bundle: { dir: string; bytes: number } | string = "not built";
if (anyBrowser) {
  buildNpm();
  bundle = await bundleForBrowsers();
  server = await serveIsolated(
    {
      "/": outDir, // the package's ESM build: /mod.js, /core/…, /adapters/…
      "/tests": join(root, "build", "tests"),
      "/tests/support/worker_env.js": join(root, "build", "tests", "browser", "worker_env.js"),
      "/tests/browser/index.html": join(root, "tests", "browser", "index.html"),
      "/tests/browser/run.html": join(root, "tests", "browser", "run.html"),
      "/examples/browser": join(root, "examples", "browser"), // as `npm run example:browser` serves it
      "/@futex/sync": outDir,
      ...(typeof bundle === "string" ? {} : { "/bundle": bundle.dir }),
      "/tests/browser/bundle.html": join(root, "tests", "browser", "bundle.html"),
    },
    { plainPrefix: "/plain/", handle: report },
  );
  for (const t of targets) {
    if (t.executable === undefined) continue;
    try {
      await launch(t);
    } catch (e) {
      t.launchError = e instanceof Error ? e.message : String(e);
    }
  }
}

/** Bundle the npm build's mod.js with esbuild (ESM, platform browser, minified): Node built-ins would fail it. */
async function bundleForBrowsers(): Promise<{ dir: string; bytes: number } | string> {
  try {
    const { build } = await import("esbuild");
    const dir = mkdtempSync(join(tmpdir(), "futex-bundle-"));
    const r = await build({
      entryPoints: [join(outDir, "mod.js")],
      bundle: true,
      format: "esm",
      platform: "browser",
      minify: true,
      outfile: join(dir, "mod.js"),
      logLevel: "silent",
      metafile: true,
    });
    return { dir, bytes: Object.values(r.metafile.outputs)[0].bytes };
  } catch (e) {
    return `esbuild failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

after(async () => {
  if (typeof bundle !== "string") rmSync(bundle.dir, { recursive: true, force: true });
  for (const t of targets) {
    await t.browser?.close().catch(() => {});
    if (t.profile) rmSync(t.profile, { recursive: true, force: true });
  }
  await server?.close();
});

async function launch(t: Target): Promise<void> {
  if (t.name === "chromium") {
    t.profile = mkdtempSync(join(tmpdir(), "futex-chromium-"));
    t.browser = await puppeteer!.launch({
      executablePath: t.executable,
      headless: true,
      userDataDir: t.profile,
      protocolTimeout: 600_000,
      args: CHROMIUM_FLAGS,
    });
  } else {
    t.browser = await puppeteer!.launch({
      browser: "firefox",
      executablePath: t.executable,
      headless: true,
      protocolTimeout: 600_000,
    });
  }
  t.version = await t.browser.version();
  t.nativeWaitAsync = ((await call(t, "native", "env")) as { waitAsync: boolean }).waitAsync;
}

type Mode = "native" | "helper" | "plain";

/**
 * Open a fresh page (isolated; "helper": with Atomics.waitAsync deleted; "plain": without the
 * COOP/COEP headers), run one export of tests/browser/page.ts, return its report.
 */
async function call(t: Target, mode: Mode, name: string, ...args: unknown[]): Promise<Record<string, unknown>> {
  const page = await t.browser!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => void errors.push(String(e)));
  try {
    const url = `${server!.origin}${mode === "plain" ? "/plain" : ""}/tests/browser/index.html${mode === "helper" ? "?nowaitasync" : ""}`;
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { futexReady?: string }).futexReady !== undefined, { timeout: 30_000 });
    const ready = await page.evaluate(() => (globalThis as { futexReady?: string }).futexReady);
    assert.equal(ready, "ready", `the test page did not load: ${ready} ${errors.join("; ")}`);
    return await page.evaluate(
      (n: string, a: unknown[]) =>
        (globalThis as unknown as { futexTests: Record<string, (...x: unknown[]) => unknown> }).futexTests[n](...a),
      name,
      args,
    ) as Record<string, unknown>;
  } catch (e) {
    if (errors.length) (e as Error).message += `\npage errors: ${errors.join("; ")}`;
    throw e;
  } finally {
    await page.close().catch(() => {});
  }
}

/** Results posted by run.html (pages run without automation), by call id. */
const reports = new Map<number, (body: string) => void>();
let nextCall = 1;

function report(path: string, req: IncomingMessage, res: ServerResponse): boolean {
  const m = /^\/report\/(\d+)$/.exec(path);
  if (m === null || req.method !== "POST") return false;
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => void (body += c));
  req.on("end", () => {
    reports.get(Number(m[1]))?.(body);
    res.writeHead(204).end();
  });
  return true;
}

/**
 * Like {@link call}, but in the browser started on tests/browser/run.html without puppeteer,
 * which posts the result back. Used for the helper path inside Workers (a Worker that starts a
 * Worker): with puppeteer attached, which follows every worker (CDP auto-attach, BiDi worker
 * realms), such scenarios now and then hung — in Firefox 153 the creating worker never returned
 * from `new Worker()` (1 run in 20 to 40), in Chromium 156 a helper never ran (1 in 30) — while
 * the same scenario passed 60 times of 60 in each browser without automation.
 */
async function callUnautomated(t: Target, mode: Mode, name: string, ...args: unknown[]): Promise<Record<string, unknown>> {
  const id = nextCall++;
  const body = new Promise<string>((resolve) => reports.set(id, resolve));
  const profile = mkdtempSync(join(tmpdir(), `futex-${t.name}-`));
  const call = encodeURIComponent(JSON.stringify({ name, args, id }));
  const url = `${server!.origin}/tests/browser/run.html?${mode === "helper" ? "nowaitasync&" : ""}call=${call}`;
  let argv: string[];
  if (t.name === "firefox") {
    const { Browser: Browsers, createProfile } = await import("@puppeteer/browsers");
    await createProfile(Browsers.FIREFOX, { path: profile, preferences: {} }); // puppeteer's test prefs: no first run, updates, telemetry
    argv = ["--headless", "--no-remote", "--profile", profile, url];
  } else {
    argv = ["--headless", ...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, url];
  }
  // Its own process group, so the cleanup can end the browser's helper processes too: while
  // they live they keep writing to the profile, and removing it waited out every retry (~11 s
  // per test in Chromium).
  const child = spawn(t.executable!, argv, { stdio: "ignore", detached: true });
  const group = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`firefox exited (${code}) before reporting`))));
    const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("no report within 240 s")), 240_000)));
    const r = JSON.parse(await Promise.race([body, exited, limit])) as { ok: boolean; value?: Record<string, unknown>; error?: string };
    if (!r.ok) throw new Error(r.error);
    return r.value!;
  } finally {
    clearTimeout(timer);
    reports.delete(id);
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once("exit", r));
      group("SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    }
    group("SIGKILL"); // whatever of the group outlived the browser's main process
    try { // its child processes may still be writing there for a moment
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch {
      // a leftover temporary profile is no failure of the test
    }
  }
}

/** Why a target's tests cannot run (undefined: they can). */
function unavailable(t: Target): string | undefined {
  if (puppeteerMissing) return puppeteerMissing;
  if (t.executable === undefined) return `${t.name} is not installed (${t.install}; .ci/run does)`;
  return undefined;
}

/** Which async path a mode ran, for test names: the engine's waitAsync or the helper Worker. */
function pathOf(t: Target, mode: Mode): string {
  if (mode === "helper") return "Atomics.waitAsync deleted: helper Worker";
  if (t.nativeWaitAsync === undefined) return `${mode}: not launched`;
  return t.nativeWaitAsync ? "native Atomics.waitAsync" : "no Atomics.waitAsync: helper Worker";
}

interface Paths {
  workersWaitAsync: boolean[];
  workerHelpers: number[];
  pageHelpers: number;
}

/** The workers' async path: the helper only where waitAsync was missing, and at most one helper per thread. */
function checkPaths(t: Target, mode: Mode, r: Paths, async: boolean): void {
  const helper = mode === "helper" || !t.nativeWaitAsync;
  assert.ok(r.workersWaitAsync.every((w) => w === !helper), `workers' Atomics.waitAsync: ${JSON.stringify(r.workersWaitAsync)}`);
  assert.ok(r.workerHelpers.every((h) => h <= (helper ? 1 : 0)), `helper Workers per worker: ${JSON.stringify(r.workerHelpers)}`);
  if (helper && async) assert.ok(r.workerHelpers.some((h) => h === 1), "no worker used the helper Worker");
}

function define(t: Target, label: string, name: string, fn: (t: TestContext) => Promise<void>, timeout = 300_000): void {
  const why = unavailable(t);
  if (why !== undefined && ci) {
    test(`${label}: ${name}`, () => assert.fail(`CI is set and the browser row is mandatory: ${why}`));
    return;
  }
  test(`${label}: ${name}`, { skip: why, timeout }, async (ctx) => {
    assert.equal(t.launchError, undefined, `${t.name} failed to launch: ${t.launchError}`);
    await fn(ctx);
  });
}

for (const t of targets) {
  const label = t.version ? `${t.name} ${t.version.replace(/^.*\//, "")}` : t.name;

  define(t, label, "the test page is cross-origin isolated and has SharedArrayBuffer", async (ctx) => {
    const env = await call(t, "native", "env");
    ctx.diagnostic(`${t.version}; ${String(env.userAgent)}; Atomics.waitAsync ${env.waitAsync ? "native" : "missing"}`);
    assert.equal(env.crossOriginIsolated, true);
    assert.equal(env.sharedArrayBuffer, true);
  });

  define(t, label, "without COOP/COEP, new Mutex/ManualResetEvent/Semaphore/LockCnt throw a TypeError naming cross-origin isolation and both headers", async (ctx) => {
    const r = await call(t, "plain", "noSharedMemory");
    ctx.diagnostic(String(r["new Mutex()"]));
  });

  define(t, label, "examples/browser: four workers and the page count exactly under one Mutex; the last worker's event ends the wait", async (ctx) => {
    const page = await t.browser!.newPage();
    try {
      await page.goto(`${server!.origin}/examples/browser/index.html`);
      await page.waitForFunction(() => (globalThis as { exampleResult?: unknown }).exampleResult !== undefined, { timeout: 60_000 });
      const r = await page.evaluate(() => (globalThis as unknown as { exampleResult: Record<string, unknown> }).exampleResult);
      assert.equal(r.finished, true);
      assert.equal(r.counter, r.expected);
      ctx.diagnostic(`counter ${String(r.counter)} in ${String(r.ms)} ms`);
    } finally {
      await page.close().catch(() => {});
    }
  });

  for (const mode of ["native", "helper"] as const) {
    define(t, label, `the library as one minified esbuild bundle (platform browser) runs the page's async forms (${pathOf(t, mode)})`, async (ctx) => {
      assert.equal(typeof bundle, "object", String(bundle));
      const page = await t.browser!.newPage();
      try {
        await page.goto(`${server!.origin}/tests/browser/bundle.html${mode === "helper" ? "?nowaitasync" : ""}`);
        await page.waitForFunction(() => (globalThis as { bundleResult?: unknown }).bundleResult !== undefined, { timeout: 60_000 });
        const r = await page.evaluate(() => (globalThis as unknown as { bundleResult: Record<string, unknown> }).bundleResult);
        assert.equal(r.ok, true, String(r.error));
        assert.equal(r.waitAsync, mode === "native" && t.nativeWaitAsync);
        if (typeof bundle !== "string") ctx.diagnostic(`bundle: ${(bundle.bytes / 1024).toFixed(1)} kB`);
      } finally {
        await page.close().catch(() => {});
      }
    });
  }

  for (const mode of ["native", "helper"] as const) {
    const ml = `${label} (${pathOf(t, mode)})`;

    define(t, ml, "main thread: blocking calls that must wait throw a TypeError naming the async form; async forms time out, then get the lock, the permit and the event from a worker", async (ctx) => {
      const r = await call(t, mode, "mainThread") as unknown as Paths & { errors: Record<string, string>; engineError: string; lockAsyncTimeoutMs: number };
      ctx.diagnostic(`engine: ${r.engineError}`);
      ctx.diagnostic(`library: ${r.errors["m.lock(200)"]}`);
      ctx.diagnostic(`lockAsync({ timeout: 100 }) gave up after ${r.lockAsyncTimeoutMs} ms`);
      checkPaths(t, mode, r, false);
      assert.equal(r.pageHelpers, mode === "helper" || !t.nativeWaitAsync ? 1 : 0);
    });

    define(t, ml, "4 workers in blocking guard() + 200 main-thread withLockAsync calls on one Mutex: the counter is exact", async (ctx) => {
      const n = rounds(2000);
      const r = await call(t, mode, "mainWithLockAsync", n, 200) as unknown as Paths & { counter: number; pageWaitAsync: boolean };
      assert.equal(r.counter, 4 * n + 200);
      assert.equal(r.pageWaitAsync, mode === "native" && t.nativeWaitAsync);
      assert.equal(r.pageHelpers, mode === "helper" || !t.nativeWaitAsync ? 1 : 0);
      checkPaths(t, mode, r, false);
      ctx.diagnostic(`counter ${r.counter}; helper Workers on the page: ${r.pageHelpers}`);
    });

    define(t, ml, "16 events × 8 main-thread waitAsync calls, set one by one by a worker: all resolve (one helper at most)", async (ctx) => {
      const r = await call(t, mode, "manyWords", 16, 8) as unknown as Paths & { waits: number; ms: number; helpersWhilePending: number };
      assert.equal(r.waits, 128);
      assert.equal(r.helpersWhilePending, mode === "helper" || !t.nativeWaitAsync ? 1 : 0);
      ctx.diagnostic(`128 waits on 16 words resolved ${r.ms} ms after the first set (16 sets 2 ms apart)`);
    });

    // [title, page.ts export, rounds, half the workers async, an async worker surely sleeps]
    const scenarios: [string, string, number, boolean, boolean][] = [
      ["S1 remote-call handshake, 5 workers", "s1", rounds(300), false, false],
      ["S1 remote-call handshake, 5 workers (the driver async)", "s1", rounds(150), true, true],
      ["S3 broadcast to 8 waiters on alternating events", "s3", rounds(400), false, false],
      ["S3 broadcast to 8 waiters on alternating events (half the waiters async)", "s3", rounds(200), true, true],
      ["S13 semaphore: 4 producers × 4 consumers, totals match", "s13", rounds(10_000), false, false],
      ["S13 semaphore: 4 producers × 4 consumers, totals match (half the workers async)", "s13", rounds(5000), true, false],
      ["Mutex counter stress, 5 workers", "mutex", rounds(5000), false, false],
      ["Mutex counter stress, 5 workers (half the workers async)", "mutex", rounds(2500), true, false],
    ];
    // Without waitAsync, async workers start helper Workers from Workers: run those outside puppeteer.
    const unautomated = mode === "helper" || !t.nativeWaitAsync;
    for (const [title, fn, n, mixed, waits] of scenarios) {
      if (mode === "helper" && !mixed) continue; // no async form in it: the same run as native
      const how = unautomated && mixed ? ` (${t.name} started without puppeteer)` : "";
      define(t, ml, `${title} in module Workers${how}`, async () => {
        const r = await (how ? callUnautomated : call)(t, mode, fn, n, mixed) as unknown as Paths;
        checkPaths(t, mode, r, mixed && waits);
      });
    }
  }
}
