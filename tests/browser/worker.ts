/**
 * The module Web Worker every browser scenario worker starts as: it takes one message — the role
 * module to run, its data, and whether to delete Atomics.waitAsync first (the helper-Worker path
 * on an engine that has it) — loads the library, posts { loaded }, and on the page's { go }
 * imports the role module, which posts its report.
 */

/** What the page posts to a new worker. */
export interface BrowserJob {
  /** URL of the role module (tests/workers/*.js, tests/browser/browser_roles.js). */
  script: string;
  data: Record<string, unknown>;
  /** Delete Atomics.waitAsync before the library loads. */
  noWaitAsync: boolean;
}

interface WorkerScope {
  onmessage: ((event: { data: BrowserJob }) => void) | null;
  postMessage(message: unknown): void;
  __futexRole?: unknown;
}
const scope = globalThis as unknown as WorkerScope;

function failed(what: string, e: unknown): void {
  scope.postMessage({ ok: false, error: `${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` });
}

scope.onmessage = (event) => {
  const job = event.data;
  scope.__futexRole = job.data;
  if (job.noWaitAsync) delete (Atomics as { waitAsync?: unknown }).waitAsync;
  // Load the library, say so, and start the role only on the page's "go" (sent once every
  // worker of the scenario has loaded), as Node's workers all run before they meet.
  import(new URL("../../mod.js", import.meta.url).href).then(() => {
    scope.onmessage = (go: { data: unknown }) => {
      if ((go.data as { go?: boolean }).go !== true) return;
      scope.onmessage = null;
      import(job.script).catch((e: unknown) => failed(`loading ${job.script}`, e));
    };
    scope.postMessage({ loaded: true });
  }, (e: unknown) => failed("loading the library", e));
};
