// Sending files over HTTP for `strata serve` and the browser tests: the right MIME type (a module
// script or a .wasm file served as octet-stream is refused by browsers), no path outside the
// served folder, and the headers that make a page cross-origin isolated. Isolation (COOP
// same-origin + COEP require-corp) is what gives a page SharedArrayBuffer, and so the wasm
// backend its threads.
import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.safetensors': 'application/octet-stream',
};

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The headers every response carries: isolation when asked, and no caching (pages change as runs train). */
export function baseHeaders(isolated: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  if (isolated) {
    headers['Cross-Origin-Opener-Policy'] = 'same-origin';
    headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    headers['Cross-Origin-Resource-Policy'] = 'same-origin';
  }
  return headers;
}

/**
 * The file `relative` (a URL path, still percent-encoded) names inside `root`, or undefined when it
 * leaves `root` (`..`, an encoded slash, a symbolic link to elsewhere) or names no regular file.
 */
export function resolveInside(root: string, relative: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return undefined; // a malformed escape names no file
  }
  if (decoded.includes('\0')) return undefined;
  const base = root.endsWith(sep) ? root : root + sep;
  const path = normalize(join(base, decoded));
  if (!path.startsWith(base)) return undefined;
  try {
    // A symbolic link inside the folder may point out of it: what is served is where it leads.
    const real = realpathSync(path);
    const realRoot = realpathSync(root);
    if (!real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

export function sendStatus(res: ServerResponse, status: number, message: string, isolated: boolean): void {
  res.writeHead(status, { ...baseHeaders(isolated), 'Content-Type': 'text/plain; charset=utf-8' }).end(`${status} ${message}\n`);
}

/** Sends the file at `path` (already resolved) for a GET or HEAD. */
export function sendFile(req: IncomingMessage, res: ServerResponse, path: string, isolated: boolean): void {
  const size = statSync(path).size;
  res.writeHead(200, { ...baseHeaders(isolated), 'Content-Type': contentType(path), 'Content-Length': String(size) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** Serves `relative` from `root`, or answers 404. */
export function serveFrom(req: IncomingMessage, res: ServerResponse, root: string, relative: string, isolated: boolean): void {
  const path = resolveInside(root, relative);
  if (path === undefined) sendStatus(res, 404, `not found: ${req.url}`, isolated);
  else sendFile(req, res, path, isolated);
}
