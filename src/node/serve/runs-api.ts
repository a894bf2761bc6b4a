// The runs folder over HTTP, for the dashboard page: which runs there are, what they are doing,
// their files, and their logs as they grow.
//   GET /api/runs                 [{ name, files, modified, started, status, config }], newest first
//   GET /api/runs/events          the same listing as a server-sent event stream, sent again on each change
//   GET /api/runs/<run>/events    the run's log records as a server-sent event stream (run-events.ts)
//   GET /api/runs/<run>/<file>    a file of a run (history.json, curves.png, ...)
import { readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { RunSummary } from './live-records.js';
import { streamRunEvents, streamRunList } from './run-events.js';
import { runState } from './run-info.js';
import { baseHeaders, sendStatus, serveFrom } from './static-files.js';

export type { RunSummary } from './live-records.js';

export interface RunListing {
  name: string;
  files: string[];
  /** The newest file's modification time, ms since the epoch. */
  modified: number;
}

/** Files of which one marks a folder as a run (so `--out` in a project folder does not list src/ and node_modules/ as runs). */
const RUN_FILES = ['live.jsonl', 'history.json', 'classes.json', 'model.json'];

/** The run folders directly inside `runs`: folders holding one of RUN_FILES. */
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
      const stats = readdirSync(dir)
        .map((f) => [f, statSync(join(dir, f))] as const)
        .filter(([, st]) => st.isFile());
      const files = stats.map(([f]) => f);
      if (!files.some((f) => RUN_FILES.includes(f))) continue;
      const modified = Math.max(...stats.map(([, st]) => st.mtimeMs));
      listings.push({ name, files: files.sort(), modified });
    } catch {
      // a run removed while listing: leave it out
    }
  }
  return listings.sort((a, b) => b.modified - a.modified);
}

/** The listing with each run's status and settings. */
export function summarizeRuns(runs: string): RunSummary[] {
  return listRuns(runs).map((run) => ({ ...run, ...runState(join(runs, run.name), run.files) }));
}

/**
 * The folder of the run a URL segment names, or undefined: one plain name of a folder directly
 * inside `runs` (no separators, no `.` or `..`, however encoded).
 */
export function runFolder(runs: string, segment: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) return undefined;
  const dir = join(runs, name);
  try {
    return statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

export function handleRunsApi(req: IncomingMessage, res: ServerResponse, runs: string, rest: string): void {
  if (rest === '' || rest === '/') {
    res.writeHead(200, { ...baseHeaders(true), 'Content-Type': 'application/json' }).end(JSON.stringify(summarizeRuns(runs)));
    return;
  }
  if (rest === '/events') {
    streamRunList(req, res, runs, () => summarizeRuns(runs));
    return;
  }
  const parts = rest.split('/');
  if (parts.length === 3 && parts[0] === '' && parts[2] === 'events') {
    const dir = runFolder(runs, parts[1]);
    if (dir === undefined) sendStatus(res, 404, `no such run: ${req.url}`, true);
    else streamRunEvents(req, res, dir);
    return;
  }
  if (rest.startsWith('/')) serveFrom(req, res, runs, rest.slice(1), true);
  else sendStatus(res, 404, `not found: ${req.url}`, true);
}
