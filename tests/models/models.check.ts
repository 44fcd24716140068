/**
 * Model checks (a node:test file; the "models" row of `npm test`): every Promela model in
 * tests/models/ is checked exhaustively with spin for every interleaving of its processes, with
 * 0 and 1 spurious wakes; each must report 0 errors. Then every mutant (a model variant built
 * from a pitfall QEMU's code guards against, util/qemu-thread-posix.c and util/lockcnt.c) must be
 * rejected, and its counterexample length is printed. Needs `spin` and a C compiler (.ci/run
 * installs spin); without them the checks are skipped with the reason printed (and the test
 * matrix fails the row when CI is set).
 *
 * Usage (after `tsc -p .`): node --test build/tests/models/models.check.js
 */

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const models = join(root, "tests", "models");

interface Check {
  model: string;
  defines: string[];
}

/** Configurations that must verify: each model, with 0 and 1 spurious wakes. */
const correct: Check[] = [
  { model: "event", defines: [] },
  { model: "event", defines: ["BROADCAST"] },
  { model: "mutex", defines: [] },
  { model: "semaphore", defines: [] },
  { model: "lockcnt", defines: [] },
  { model: "condition", defines: [] },
  { model: "condition", defines: ["BROADCAST"] },
  { model: "rwlock", defines: [] },
  { model: "robust", defines: [] },
  { model: "barrier", defines: [] },
  { model: "barrier", defines: ["BREAK"] },
  { model: "once", defines: [] },
  { model: "latch", defines: [] },
  { model: "autoreset", defines: [] },
].flatMap((c) => [0, 1].map((spur) => ({ model: c.model, defines: [...c.defines, `SPUR=${spur}`] })));

/** Mutants that spin must reject, each named for the pitfall it reintroduces. */
const mutants: { name: string; checks: Check[] }[] = [
  { name: "event: reset as a plain store", checks: [{ model: "event", defines: ["BROADCAST", "RESET_STORE", "SPUR=0"] }] },
  { name: "event: set wakes one", checks: [{ model: "event", defines: ["BROADCAST", "WAKE_ONE", "SPUR=0"] }] },
  { name: "event: wait trusts a wake", checks: [{ model: "event", defines: ["TRUST_WAKE", "SPUR=1"] }] },
  { name: "lockcnt: missing baton wake", checks: [{ model: "lockcnt", defines: ["NO_BATON_WAKE", "SPUR=0"] }] },
  { name: "lockcnt: lock not re-marked WAITING after sleeping", checks: [{ model: "lockcnt", defines: ["NO_REMARK", "SPUR=0"] }] },
  { name: "mutex: unlock wakes on state 1 instead of 2", checks: [{ model: "mutex", defines: ["UNLOCK_WAKE_ON_1", "SPUR=0"] }] },
  { name: "mutex: woken locker takes the lock as 1, not 2", checks: [{ model: "mutex", defines: ["WOKEN_TAKES_1", "SPUR=0"] }] },
  { name: "semaphore: acquire never marks waiters", checks: [{ model: "semaphore", defines: ["NO_MARK", "SPUR=0"] }] },
  { name: "semaphore: no surplus wake", checks: [{ model: "semaphore", defines: ["NO_SURPLUS", "SPUR=0"] }] },
  { name: "semaphore: a give-up (timeout, abort) passes no baton", checks: [{ model: "semaphore", defines: ["NO_BATON", "SPUR=0"] }] },
  { name: "semaphore: a woken acquirer takes its permit without re-marking WAITERS (the planted acquireAsync case)", checks: [{ model: "semaphore", defines: ["NO_REMARK", "SPUR=0"] }] },
  { name: "mutex: a give-up (abort after a wake) passes no baton", checks: [{ model: "mutex", defines: ["NO_BATON", "SPUR=0"] }] },
  // The same-thread case: a blocking wait beside this thread's pending async wait on the same word.
  { name: "rules: mutex blocking wait beside a pending async wait is not refused (the async waiter's thread is blocked)", checks: [{ model: "mutex", defines: ["NO_ASYNC_RULE", "SPUR=0"] }] },
  { name: "rules: semaphore blocking wait beside a pending async wait is not refused", checks: [{ model: "semaphore", defines: ["NO_ASYNC_RULE", "SPUR=0"] }] },
  { name: "atomics: an orphan that took a wake does not pass it on", checks: [{ model: "mutex", defines: ["ORPHAN_NO_FORWARD", "SPUR=0"] }, { model: "semaphore", defines: ["ORPHAN_NO_FORWARD", "SPUR=0"] }] },
  { name: "robust: waiters never check the owner's liveness", checks: [{ model: "robust", defines: ["SKIP_LIVENESS", "SPUR=0"] }] },
  { name: "robust: liveness checked before the first sleep only, not after an expired slice", checks: [{ model: "robust", defines: ["CHECK_ONCE", "SPUR=0"] }] },
  { name: "robust: the taker of a dead owner's lock does not set OWNER_DIED (cleared too early)", checks: [{ model: "robust", defines: ["CLEAR_OD_EARLY", "SPUR=0"] }] },
  { name: "robust: unlock clears OWNER_DIED and releases instead of NOT_RECOVERABLE", checks: [{ model: "robust", defines: ["UNLOCK_IGNORES_OD", "SPUR=0"] }] },
  { name: "barrier: the generation read after the count (a party sleeps on the next generation)", checks: [{ model: "barrier", defines: ["GEN_AFTER_COUNT", "SPUR=0"] }] },
  { name: "once: COMPLETE stored before fn ends", checks: [{ model: "once", defines: ["COMPLETE_EARLY", "SPUR=0"] }] },
  { name: "once: the runner's end wakes nobody", checks: [{ model: "once", defines: ["NO_WAKE", "SPUR=0"] }] },
  { name: "latch: the opening countDown wakes one", checks: [{ model: "latch", defines: ["WAKE_ONE", "SPUR=0"] }] },
  { name: "latch: a waiter sleeps without marking WAITERS", checks: [{ model: "latch", defines: ["NO_MARK", "SPUR=0"] }] },
  { name: "autoreset: a set wakes nobody", checks: [{ model: "autoreset", defines: ["SET_NO_WAKE", "SPUR=0"] }] },
  { name: "autoreset: a give-up passes no wake on", checks: [{ model: "autoreset", defines: ["NO_BATON", "SPUR=0"] }] },
  { name: "autoreset: a give-up leaves its announcement (a phantom waiter)", checks: [{ model: "autoreset", defines: ["NO_WITHDRAW", "SPUR=0"] }] },
  { name: "atomics: a blocking wait beside this thread's orphan does not sleep in slices", checks: [{ model: "semaphore", defines: ["ORPHAN_NO_SLICE", "SPUR=0"] }] },
  { name: "condition: the waiter reads the sequence after unlocking the mutex", checks: [{ model: "condition", defines: ["SEQ_AFTER_UNLOCK", "SPUR=0"] }, { model: "condition", defines: ["BROADCAST", "SEQ_AFTER_UNLOCK", "SPUR=0"] }] },
  { name: "condition: notify wakes before it increments the sequence", checks: [{ model: "condition", defines: ["WAKE_FIRST", "SPUR=0"] }, { model: "condition", defines: ["BROADCAST", "WAKE_FIRST", "SPUR=0"] }] },
  { name: "rwlock: a writer sleeps without setting WRITERS_WAITING", checks: [{ model: "rwlock", defines: ["WRITER_NO_MARK", "SPUR=0"] }] },
  { name: "rwlock: a reader ignores WRITERS_WAITING (writer preference)", checks: [{ model: "rwlock", defines: ["READ_IGNORES_WW", "SPUR=0"] }] },
  { name: "rwlock: the last reader out does not wake a waiting writer", checks: [{ model: "rwlock", defines: ["READ_UNLOCK_NO_WAKE", "SPUR=0"] }] },
  { name: "rwlock: a writer's give-up (timeout, abort) passes no wake", checks: [{ model: "rwlock", defines: ["NO_BATON", "SPUR=0"] }] },
  { name: "rwlock: with both kinds waiting an unlock wakes only a writer (it cannot know one slept)", checks: [{ model: "rwlock", defines: ["NO_READER_FALLBACK", "SPUR=0"] }] },
  // Ordering: each RMW made a load and a store, each store-then-wake made wake-then-store, each read-before made read-after.
  { name: "event: set's exchange done as a load then a store (an announce between them is overwritten unwoken)", checks: [{ model: "event", defines: ["SET_LOAD_STORE", "SPUR=0"] }, { model: "event", defines: ["BROADCAST", "SET_LOAD_STORE", "SPUR=0"] }] },
  { name: "event: set wakes the BUSY sleepers before it stores SET", checks: [{ model: "event", defines: ["SET_WAKE_FIRST", "SPUR=0"] }] },
  { name: "event: the wait's CAS FREE→BUSY done as a store (it overwrites a SET)", checks: [{ model: "event", defines: ["ANNOUNCE_STORE", "SPUR=0"] }] },
  { name: "rwlock: a writer reads the notify sequence after its last look at the state", checks: [{ model: "rwlock", defines: ["SEQ_AFTER_STATE", "SPUR=0"] }] },
  { name: "rwlock: wakeWriter wakes before it increments the notify sequence", checks: [{ model: "rwlock", defines: ["WAKE_WRITER_FIRST", "SPUR=0"] }] },
  { name: "rwlock: wakeWriter's increment done as a load then a store (two increments count as one)", checks: [{ model: "rwlock", defines: ["NOTIFY_LOAD_STORE", "SPUR=0"] }] },
  { name: "rwlock: writeUnlock's RMW done as a load then a store (a waiting bit set between is lost)", checks: [{ model: "rwlock", defines: ["WRITE_UNLOCK_LOAD_STORE", "SPUR=0"] }] },
  { name: "rwlock: the reader's CAS s→s+1 done as a store", checks: [{ model: "rwlock", defines: ["READ_TAKE_STORE", "SPUR=0"] }] },
  { name: "rwlock: the READERS_WAITING CAS done as a store", checks: [{ model: "rwlock", defines: ["READER_MARK_STORE", "SPUR=0"] }] },
  { name: "rwlock: the WRITERS_WAITING CAS done as a store", checks: [{ model: "rwlock", defines: ["WRITER_MARK_STORE", "SPUR=0"] }] },
  { name: "rwlock: the readers' wake before the CAS READERS_WAITING→0", checks: [{ model: "rwlock", defines: ["READERS_WAKE_FIRST", "SPUR=0"] }] },
  { name: "rwlock: readUnlock's CAS s→s−1 done as a load then a store", checks: [{ model: "rwlock", defines: ["READ_UNLOCK_LOAD_STORE", "SPUR=0"] }] },
  { name: "mutex: unlock wakes before it stores 0", checks: [{ model: "mutex", defines: ["UNLOCK_WAKE_FIRST", "SPUR=0"] }] },
  { name: "mutex: unlock's CAS 1→0 done as a load then a store", checks: [{ model: "mutex", defines: ["UNLOCK_LOAD_STORE", "SPUR=0"] }] },
  { name: "mutex: the fast CAS 0→1 done as a load then a store", checks: [{ model: "mutex", defines: ["LOCK_LOAD_STORE", "SPUR=0"] }] },
  { name: "mutex: the step's CAS 0/1→2 done as a store", checks: [{ model: "mutex", defines: ["CONTEND_STORE", "SPUR=0"] }] },
  { name: "semaphore: release's CAS done as a store", checks: [{ model: "semaphore", defines: ["RELEASE_STORE", "SPUR=0"] }] },
  { name: "semaphore: release wakes before it adds the permit", checks: [{ model: "semaphore", defines: ["RELEASE_WAKE_FIRST", "SPUR=0"] }] },
  { name: "semaphore: the step's take CAS done as a store", checks: [{ model: "semaphore", defines: ["TAKE_STORE", "SPUR=0"] }] },
  { name: "semaphore: tryAcquire's CAS done as a store", checks: [{ model: "semaphore", defines: ["TRY_TAKE_STORE", "SPUR=0"] }] },
  { name: "semaphore: the WAITERS announce CAS done as a store (it overwrites a released permit)", checks: [{ model: "semaphore", defines: ["ANNOUNCE_STORE", "SPUR=0"] }] },
  { name: "lockcnt: unlock wakes before its release CAS", checks: [{ model: "lockcnt", defines: ["RELEASE_WAKE_FIRST", "SPUR=0"] }] },
  { name: "lockcnt: the release CAS done as a load then a store", checks: [{ model: "lockcnt", defines: ["RELEASE_LOAD_STORE", "SPUR=0"] }] },
  { name: "lockcnt: the LOCKED→WAITING CAS done as a store", checks: [{ model: "lockcnt", defines: ["MARK_STORE", "SPUR=0"] }] },
  { name: "lockcnt: dec's RMW done as a load then a store (a visit is lost)", checks: [{ model: "lockcnt", defines: ["DEC_LOAD_STORE", "SPUR=0"] }] },
  { name: "lockcnt: inc's CAS joining a visit done as a store", checks: [{ model: "lockcnt", defines: ["INC_STORE", "SPUR=0"] }] },
  { name: "barrier: an arrival's count CAS done as a store (two arrivals count as one)", checks: [{ model: "barrier", defines: ["ARRIVE_LOAD_STORE", "SPUR=0"] }] },
  { name: "barrier: the leader wakes before it bumps the generation", checks: [{ model: "barrier", defines: ["LEADER_WAKE_FIRST", "SPUR=0"] }] },
  { name: "barrier: the leader's generation CAS done as a store (it overwrites BROKEN)", checks: [{ model: "barrier", defines: ["BREAK", "LEADER_GEN_STORE", "SPUR=0"] }] },
  { name: "barrier: a give-up wakes before it breaks the generation", checks: [{ model: "barrier", defines: ["BREAK", "LEAVE_WAKE_FIRST", "SPUR=0"] }] },
  { name: "latch: countDown's CAS done as a load then a store (an announce between is overwritten)", checks: [{ model: "latch", defines: ["COUNT_LOAD_STORE", "SPUR=0"] }] },
  { name: "latch: the opening countDown wakes before it stores 0", checks: [{ model: "latch", defines: ["COUNT_WAKE_FIRST", "SPUR=0"] }] },
  { name: "latch: the waiter's announce CAS done as a store (it puts back a count)", checks: [{ model: "latch", defines: ["MARK_STORE", "SPUR=0"] }] },
  { name: "once: the runner's exchange done as a load then a store", checks: [{ model: "once", defines: ["FINISH_LOAD_STORE", "SPUR=0"] }] },
  { name: "once: the runner wakes before its exchange", checks: [{ model: "once", defines: ["FINISH_WAKE_FIRST", "SPUR=0"] }] },
  { name: "once: the CAS INCOMPLETE→RUNNING done as a store (two runners)", checks: [{ model: "once", defines: ["CLAIM_LOAD_STORE", "SPUR=0"] }] },
  { name: "once: the CAS RUNNING→QUEUED done as a store (it overwrites COMPLETE)", checks: [{ model: "once", defines: ["QUEUE_STORE", "SPUR=0"] }] },
  { name: "autoreset: set's CAS done as a store of load + 1", checks: [{ model: "autoreset", defines: ["SET_LOAD_STORE", "SPUR=0"] }] },
  { name: "autoreset: set wakes before its CAS", checks: [{ model: "autoreset", defines: ["SET_WAKE_FIRST", "SPUR=0"] }] },
  { name: "autoreset: the waiter's take CAS done as a store", checks: [{ model: "autoreset", defines: ["TAKE_LOAD_STORE", "SPUR=0"] }] },
  { name: "autoreset: the waiter's announce CAS done as a store", checks: [{ model: "autoreset", defines: ["ANNOUNCE_STORE", "SPUR=0"] }] },
  { name: "robust: the CAS 0→tid done as a store (two holders)", checks: [{ model: "robust", defines: ["TAKE_STORE", "SPUR=0"] }] },
  { name: "robust: the WAITERS announce CAS done as a store (it puts back a released word)", checks: [{ model: "robust", defines: ["ANNOUNCE_STORE", "SPUR=0"] }] },
];

function have(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;
}

const cc = ["cc", "gcc", "clang"].find(have);
const missing = !have("spin") ? "spin is not installed (apt-get install spin; .ci/run does)" : !cc ? "no C compiler (cc/gcc/clang)" : undefined;
if (missing) console.log(`# model checks skipped: ${missing}`);

const work = mkdtempSync(join(tmpdir(), "futex-models-"));
after(() => rmSync(work, { recursive: true, force: true }));

interface Result {
  errors: number;
  states: number;
  depth: number;
  trailSteps?: number;
  output: string;
}

const run = promisify(execFile);

/** `cmd args` in `cwd`: its exit status and output (a non-zero exit is a result, not a throw). */
async function exec(cmd: string, args: string[], cwd: string, timeout = 0): Promise<{ status: number; output: string }> {
  try {
    const r = await run(cmd, args, { cwd, encoding: "utf8", timeout, maxBuffer: 64 << 20 });
    return { status: 0, output: `${r.stdout}${r.stderr}` };
  } catch (e) {
    const f = e as { code?: number | string; stdout?: string; stderr?: string };
    return { status: typeof f.code === "number" ? f.code : -1, output: `${f.stdout ?? ""}${f.stderr ?? ""}${String(e)}` };
  }
}

/**
 * Generate, compile and run the verifier for one configuration. pan.c is compiled without
 * optimisation: gcc -O2 takes ~4.5 s per model here and -O0 ~1 s, while the largest search
 * (rwlock, 5.7 M states) runs ~15 % slower — the models row is mostly compile time.
 */
async function verify(c: Check): Promise<Result> {
  const dir = mkdtempSync(join(work, `${c.model}-`));
  for (const f of readdirSync(models)) if (f.endsWith(".pml")) cpSync(join(models, f), join(dir, f));
  const defs = c.defines.map((d) => `-D${d}`);
  const gen = await exec("spin", [...defs, "-a", `${c.model}.pml`], dir);
  assert.equal(gen.status, 0, `spin -a ${c.model}.pml ${defs.join(" ")}:\n${gen.output}`);
  const build = await exec(cc!, ["-O0", "-w", "-DSAFETY", "-o", "pan", "pan.c"], dir);
  assert.equal(build.status, 0, `compiling pan.c:\n${build.output}`);
  const { output } = await exec("./pan", ["-m2000000"], dir, 300_000);
  assert.doesNotMatch(output, /max search depth too small/, "the search was truncated");
  const num = (re: RegExp): number => Number(re.exec(output)?.[1] ?? NaN);
  const result: Result = {
    errors: num(/errors: (\d+)/),
    states: num(/(\d+) states, stored/),
    depth: num(/depth reached (\d+)/),
    output,
  };
  const trail = join(dir, `${c.model}.pml.trail`);
  if (existsSync(trail)) {
    result.trailSteps = readFileSync(trail, "utf8").split("\n").filter((l) => /^-?\d+:/.test(l)).length;
  }
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/**
 * The checks are independent processes: run as many at once as there are cores (each test
 * awaits its own result, so the report order stays the declaration order).
 */
const slots = Math.max(1, availableParallelism());
let running = 0;
const queue: (() => void)[] = [];
async function limited<T>(f: () => Promise<T>): Promise<T> {
  if (running >= slots) await new Promise<void>((go) => queue.push(go));
  running++;
  try {
    return await f();
  } finally {
    running--;
    queue.shift()?.();
  }
}
const started = new Map<Check, Promise<Result>>();
function verified(c: Check): Promise<Result> {
  let p = started.get(c);
  if (p === undefined) {
    p = limited(() => verify(c));
    p.catch(() => {}); // reported by the test that awaits it
    started.set(c, p);
  }
  return p;
}
if (!missing) for (const c of [...correct, ...mutants.flatMap((m) => m.checks)]) verified(c);

const label = (c: Check): string => `${c.model}.pml${c.defines.length ? ` -D${c.defines.join(" -D")}` : ""}`;

for (const c of correct) {
  test(`model ${label(c)}: no lost wakeup, no assertion fails, in every interleaving`, { skip: missing, timeout: 600_000 }, async (t) => {
    const r = await verified(c);
    t.diagnostic(`${label(c)}: ${r.states} states, depth ${r.depth}, errors ${r.errors}`);
    assert.equal(r.errors, 0, r.output);
    assert.ok(r.states > 0, r.output);
  });
}

for (const m of mutants) {
  test(`mutant "${m.name}" is rejected`, { skip: missing, timeout: 600_000 }, async (t) => {
    const all = await Promise.all(m.checks.map(async (c) => ({ c, r: await verified(c) })));
    const found = all.filter(({ r }) => r.errors > 0);
    assert.ok(found.length > 0, `spin accepted the mutant ${m.name}`);
    for (const { c, r } of found) {
      const kind = /assertion violated[^\n]*/.exec(r.output)?.[0] ?? /invalid end state/.exec(r.output)?.[0] ?? "error";
      t.diagnostic(`${label(c)}: ${kind}; counterexample ${r.trailSteps} steps (${r.states} states explored)`);
    }
  });
}
