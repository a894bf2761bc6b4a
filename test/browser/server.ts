// A static file server for the browser tests and the browser benchmark: serves the repository
// (dist/browser/strata.js, test pages, data files) on localhost with the product's file sending
// (src/node/serve/static-files.ts: MIME types, no path outside the root, and the COOP/COEP headers
// that give a page SharedArrayBuffer and so the wasm backend's threads). `isolated: false` serves
// the same files without them.
import { createServer, type Server } from 'node:http';
import { serveFrom } from '../../src/node/serve/static-files.js';

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `root` on a free localhost port. */
export function serveStatic(root: string, options: { isolated?: boolean; port?: number } = {}): Promise<StaticServer> {
  const isolated = options.isolated ?? true;
  const server: Server = createServer((req, res) => serveFrom(req, res, root, new URL(req.url ?? '/', 'http://x').pathname, isolated));
  return new Promise((resolve) => {
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
