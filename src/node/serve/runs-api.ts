// The runs folder over HTTP, for the dashboard page: which runs there are, and their files.
//   GET /api/runs                 [{ name, files, modified }], newest first
//   GET /api/runs/<run>/<file>    a file of a run (history.json, curves.png, ...)
import { readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { baseHeaders, sendStatus, serveFrom } from './static-files.js';

export interface RunListing {
  name: string;
  files: string[];
  /** The newest file's modification time, ms since the epoch. */
  modified: number;
}

/** The run folders directly inside `runs` (a folder holding at least one file). */
export function listRuns(runs: string): RunListing[] {
  let names: string[];
  try {
    names = readdirSync(runs);
  } catch {
    return []; // no runs folder yet: no runs
  }
  const listings: RunListing[] = [];
  for (const name of names) {
    const dir = join(runs, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
      const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
      if (files.length === 0) continue;
      const modified = Math.max(...files.map((f) => statSync(join(dir, f)).mtimeMs));
      listings.push({ name, files: files.sort(), modified });
    } catch {
      // a run removed while listing: leave it out
    }
  }
  return listings.sort((a, b) => b.modified - a.modified);
}

export function handleRunsApi(req: IncomingMessage, res: ServerResponse, runs: string, rest: string): void {
  if (rest === '' || rest === '/') {
    res.writeHead(200, { ...baseHeaders(true), 'Content-Type': 'application/json' }).end(JSON.stringify(listRuns(runs)));
    return;
  }
  if (rest.startsWith('/')) serveFrom(req, res, runs, rest.slice(1), true);
  else sendStatus(res, 404, `not found: ${req.url}`, true);
}
