/**
 * Preload for the soak (scripts/soak.ts): subscribes to the worker rounds runWorkers publishes
 * (tests/support/runtime.ts) and appends each `{ workers, rounds }` as a JSON line to the file
 * named by FUTEX_WORKER_ROUNDS_FILE. Loaded before the tests by the test matrix's --preload
 * (node --import, deno/bun --preload); without it nothing is recorded or printed.
 */

import { subscribe } from "node:diagnostics_channel";
import { appendFileSync } from "node:fs";
import process from "node:process";
import { WORKER_ROUNDS_CHANNEL } from "./runtime.ts";

const file = process.env.FUTEX_WORKER_ROUNDS_FILE;
if (file) subscribe(WORKER_ROUNDS_CHANNEL, (message) => appendFileSync(file, `${JSON.stringify(message)}\n`));
