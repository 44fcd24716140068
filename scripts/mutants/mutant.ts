/**
 * What a mutant is: a small edit of the library's code that reintroduces a pitfall, and the
 * tests that must notice it. scripts/mutants.ts plants each one in a scratch copy of the tree and
 * runs its tests; the groups live beside this file, one per area of the code.
 */

/** One planted bug. */
export interface Mutant {
  /** "area: what the edit breaks" — unique; the table in docs/testing.md is keyed by it. */
  name: string;
  /** The file the edits apply to. */
  file: string;
  /** [search, replace] pairs; every search string must occur exactly once. */
  edits: [string, string][];
  /** Test files to run against the mutant. */
  tests: string[];
  /** Run only the tests whose names match (node --test-name-pattern; deno --filter /re/; bun -t). */
  pattern?: string;
  /** Run the tests under this runtime (from the .ts sources) instead of Node: native futexes. */
  runtime?: "deno" | "bun";
  /**
   * The edit changes no behaviour any caller can observe: one sentence saying why. Such a mutant
   * is still planted (the edit must apply) but not expected to be caught.
   */
  equivalent?: string;
}
