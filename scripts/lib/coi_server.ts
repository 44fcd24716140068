/**
 * A static file server for browser pages that use @futex/sync: node:http on 127.0.0.1, every
 * response with the two headers that make a page cross-origin isolated (so it has
 * SharedArrayBuffer): `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`. Used by the browser row of `npm test`
 * (tests/browser/browser.check.ts) and by `npm run example:browser`.
 *
 * `mounts` maps URL paths to files or directories; the longest matching prefix wins. Under
 * `plainPrefix` (if given) the same tree is served *without* the two headers, for pages that
 * must not be isolated.
 */

import { createReadStream, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";

/** The headers of a cross-origin isolated response. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
});

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".css": "text/css",
  ".map": "application/json",
};

/** A running server. */
export interface IsolatedServer {
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Resolve a URL path against the mounts: a file path, or undefined (404). */
export function resolveMount(mounts: Record<string, string>, path: string): string | undefined {
  const prefix = Object.keys(mounts).filter((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix === undefined) return undefined;
  const base = mounts[prefix];
  const rest = path.slice(prefix.length);
  if (rest === "") return base;
  const file = normalize(join(base, rest));
  if (file !== base && !file.startsWith(base.endsWith(sep) ? base : base + sep)) return undefined; // no ../ escape
  return file;
}

/** Serve `mounts` on 127.0.0.1:`port` (0: any free port). */
export function serveIsolated(
  mounts: Record<string, string>,
  options: {
    port?: number;
    plainPrefix?: string;
    /** Answer a request itself (return true), e.g. a test page posting its results. */
    handle?: (path: string, req: IncomingMessage, res: ServerResponse) => boolean;
  } = {},
): Promise<IsolatedServer> {
  const server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (options.handle?.(path, req, res)) return;
    const plain = options.plainPrefix !== undefined && path.startsWith(options.plainPrefix);
    if (plain) path = path.slice(options.plainPrefix!.length - 1);
    if (path.endsWith("/")) path += "index.html";
    const headers: Record<string, string> = { "Cache-Control": "no-store", ...(plain ? {} : ISOLATION_HEADERS) };
    const file = resolveMount(mounts, path);
    let size = -1;
    try {
      if (file !== undefined) {
        const st = statSync(file);
        if (st.isFile()) size = st.size;
      }
    } catch {
      // missing: 404 below
    }
    if (file === undefined || size < 0 || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, {
      ...headers,
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": String(size),
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${port}`,
        server,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
