/**
 * Every README.md and docs/api.md block preceded by `<!-- example: name -->` is run as a program in this runtime
 * (imports of "@futex/sync" pointed at this checkout) and must print exactly what the
 * `<!-- prints: … -->` comment after it says. Node 20 cannot run TypeScript, so from build/ the
 * example is first transpiled with the project's own TypeScript compiler.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { runChildFile } from "./support/runtime.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const fromBuild = import.meta.url.endsWith(".js"); // Node 20 runs the compiled tests; Node 26 the sources
const repo = join(here, "..", ...(fromBuild ? [".."] : []));
const entry = fromBuild ? join(repo, "build", "mod.js") : join(repo, "mod.ts");
const EXAMPLE = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n<!-- prints: ([\s\S]*?) -->/g;
const docs = ["README.md", "docs/api.md"].map((doc) => ({ doc, blocks: [...readFileSync(join(repo, doc), "utf8").matchAll(EXAMPLE)] }));

test("the README and docs/api.md have runnable examples", { timeout: 60_000 }, () => {
  for (const { doc, blocks } of docs) assert.ok(blocks.length >= 3, `${doc}: found ${blocks.length} examples`);
});

for (const { doc, blocks } of docs) for (const [, name, code, prints] of blocks) {
  test(`${doc} example "${name}" prints what it says`, { timeout: 60_000 }, async () => {
    let source = code.replaceAll(`"@futex/sync"`, JSON.stringify(entry));
    if (fromBuild) {
      const tsName = "typescript";
      const ts = (await import(tsName)).default;
      source = ts.transpileModule(source, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      }).outputText;
    }
    const dir = mkdtempSync(join(tmpdir(), "futex-example-"));
    try {
      const file = join(dir, `${name}.${fromBuild ? "mjs" : "ts"}`);
      writeFileSync(file, source);
      const r = await runChildFile(file, 30_000);
      assert.equal(r.timedOut, false, "the example hung");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), prints.trim());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
