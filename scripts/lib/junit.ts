/**
 * Reading JUnit XML, the one machine-readable report all three test runners write:
 * `node --test --test-reporter=junit`, `deno test --junit-path=FILE` and
 * `bun test --reporter=junit --reporter-outfile=FILE`. Only what the test matrix needs: every
 * `<testcase>` with its outcome (a `<failure>`/`<error>` child: failed; `<skipped>`: skipped;
 * otherwise passed) and, where the runner records one, the failure or skip message.
 *
 * Test cases never nest in these reports (Node turns a test with subtests into a `<testsuite>`
 * of test cases), so a flat scan of `<testcase>` elements sees each exactly once.
 */

/** One test case of a report. */
export interface JunitCase {
  name: string;
  /** The test file or suite the case belongs to, when the runner names one. */
  file?: string;
  status: "passed" | "failed" | "skipped";
  /** The failure or skip message, when the runner records one (Node does for skips). */
  message?: string;
}

/** The attributes of a start tag: quoted values may hold ">" (Node leaves it unescaped). */
const ATTRS = String.raw`((?:[^>"']|"[^"]*"|'[^']*')*?)`;
const TESTCASE = new RegExp(String.raw`<testcase\b${ATTRS}(?:\/>|>([\s\S]*?)<\/testcase>)`, "g");
const FAILURE = new RegExp(String.raw`<(?:failure|error)\b${ATTRS}\/?>`);
const SKIPPED = new RegExp(String.raw`<skipped\b${ATTRS}\/?>`);

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decode the XML character references and the five predefined entities. */
export function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e[0] === "#" ? String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e]);
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[m[1]] = unescapeXml(m[2] ?? m[3]);
  return out;
}

/** Every test case of a JUnit XML report, in document order. */
export function parseJunit(xml: string): JunitCase[] {
  const cases: JunitCase[] = [];
  for (const m of xml.matchAll(TESTCASE)) {
    const attrs = attributes(m[1]);
    const body = m[2] ?? "";
    const failure = FAILURE.exec(body);
    const skipped = SKIPPED.exec(body);
    const c: JunitCase = {
      name: attrs.name ?? "",
      status: failure ? "failed" : skipped ? "skipped" : "passed",
    };
    // Bun names the file, Deno puts it in classname; Node's classname is always "test".
    const file = attrs.file ?? (attrs.classname && attrs.classname !== "test" ? attrs.classname : undefined);
    if (file) c.file = file;
    const message = failure ? attributes(failure[1]).message : skipped ? attributes(skipped[1]).message : undefined;
    if (message) c.message = message;
    cases.push(c);
  }
  return cases;
}
