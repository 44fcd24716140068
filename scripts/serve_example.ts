/**
 * `npm run example:browser`: build the package (npm/) and serve examples/browser/ with it at
 * /@futex/sync/ from 127.0.0.1, cross-origin isolated (COOP/COEP), until interrupted.
 *
 * Usage (after `tsc -p .`): node build/scripts/serve_example.js [--port 8080]
 */

import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { buildNpm, outDir, root } from "./build_npm.ts";
import { serveIsolated } from "./lib/coi_server.ts";

const { values } = parseArgs({ args: process.argv.slice(2), options: { port: { type: "string", default: "8080" } } });
buildNpm();
const server = await serveIsolated({ "/": join(root, "examples", "browser"), "/@futex/sync": outDir }, { port: Number(values.port) });
console.log(`examples/browser/ at ${server.origin}/ (cross-origin isolated; Ctrl+C stops)`);
