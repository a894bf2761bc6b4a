// The dashboard's server-sent event streams (text/event-stream: `data:` lines of JSON, one event
// per record, each ended by a blank line).
//   a run's stream: `event: reset` (drop what you have), then every record of its live log, then
//     `event: caught-up`, then each record as it is appended. A record's `id:` is the byte offset
//     past its line, which an EventSource sends back as Last-Event-ID when it reconnects, so the
//     stream resumes where it broke off. A run without a live log but with history.json (a run
//     from before live logs) gets records made from history.json.
//   the runs stream: the listing ({folder, runs}) at once and whenever it changes.
// Streams end when the client goes; each holds one folder watcher and one timer until then.
import { existsSync, type FSWatcher, watch } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, join } from 'node:path';
import { FileTail } from './file-tail.js';
import { parseRecord } from './jsonl.js';
import { LIVE_LOG, type LiveRecord, type RunSummary } from './live-records.js';
import { recordsFromHistory } from './run-info.js';
import { baseHeaders } from './static-files.js';

let openStreams = 0;

/** Event streams open now: the tests check that a closed connection releases its watcher and timer. */
export function openStreamCount(): number {
  return openStreams;
}

function startStream(req: IncomingMessage, res: ServerResponse): boolean {
  res.writeHead(200, {
    ...baseHeaders(true),
    'Content-Type': 'text/event-stream; charset=utf-8',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no', // a proxy in front must not hold events back
  });
  if (req.method === 'HEAD') {
    res.end();
    return false;
  }
  res.write('retry: 2000\n\n'); // how long an EventSource waits before reconnecting
  return true;
}

/** Runs `cleanup` once, when the client closes the connection or the server ends it. */
function onGone(req: IncomingMessage, res: ServerResponse, cleanup: () => void): void {
  openStreams++;
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    openStreams--;
    cleanup();
  };
  req.on('close', once);
  res.on('close', once);
  res.on('error', once);
}

function send(res: ServerResponse, data: unknown, event?: string, id?: number): void {
  if (res.destroyed || res.writableEnded) return;
  // JSON.stringify escapes line breaks, so the data is one line, as the format requires.
  res.write(`${event ? `event: ${event}\n` : ''}${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
}

/** Resolves when the connection can take more (or is gone): a long replay does not pile up in memory. */
function drained(res: ServerResponse): Promise<void> | undefined {
  if (!res.writableNeedDrain || res.destroyed) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The byte offset an EventSource asks to resume from, when it is a plain non-negative integer. */
function resumeOffset(req: IncomingMessage): number {
  const id = req.headers['last-event-id'];
  return typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : 0;
}

/** GET /api/runs/<run>/events for the run folder `dir` (already checked to lie inside the runs folder). */
export function streamRunEvents(req: IncomingMessage, res: ServerResponse, dir: string, pollMs?: number): void {
  if (!startStream(req, res)) return;
  const live = join(dir, LIVE_LOG);
  const offset = resumeOffset(req);
  if (offset === 0) send(res, {}, 'reset');
  let caughtUp = false;
  let fromHistory = false;
  const tail = new FileTail(live, {
    offset,
    pollMs,
    onLine: (line, end) => {
      const record = parseRecord(line);
      if (record) send(res, record, undefined, end);
    },
    onReset: () => send(res, {}, 'reset'),
    onIdle: () => {
      if (!fromHistory && !existsSync(live) && existsSync(join(dir, 'history.json'))) {
        fromHistory = true;
        if (offset > 0) send(res, {}, 'reset'); // the client resumed a log that is gone: start it over
        for (const record of recordsFromHistory(dir)) send(res, record satisfies LiveRecord);
      }
      if (!caughtUp) send(res, {}, 'caught-up');
      caughtUp = true;
    },
    drained: () => drained(res),
  });
  onGone(req, res, () => tail.close());
  tail.start();
}

/** GET /api/runs/events: the listing now and after every change (checked every `pollMs`, and when the folder changes). */
export function streamRunList(req: IncomingMessage, res: ServerResponse, runs: string, list: () => RunSummary[], pollMs = 1000): void {
  if (!startStream(req, res)) return;
  let last = '';
  let soon: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    soon = undefined;
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify({ folder: basename(runs), runs: list() });
    if (text === last) return;
    last = text;
    res.write(`data: ${text}\n\n`);
  };
  let watcher: FSWatcher | undefined;
  try {
    // A new run folder shows at once; changes inside runs are found by the timer.
    watcher = watch(runs, () => {
      soon ??= setTimeout(check, 100);
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    watcher = undefined; // no runs folder yet, or no watching here: the timer alone
  }
  const timer = setInterval(check, pollMs);
  onGone(req, res, () => {
    watcher?.close();
    clearInterval(timer);
    clearTimeout(soon);
  });
  check();
}
