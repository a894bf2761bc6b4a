// Reading a live log safely: its lines are split from raw bytes with a length cap (a file without
// line breaks must not grow a buffer without end), and each line is parsed with JSON.parse into a
// fresh record holding only the fields the dashboard knows, with the types it expects. Nothing in
// the file is evaluated, and no count or size written in it is trusted.
import type { LiveRecord, RunConfig } from './live-records.js';

/** The longest line kept; a longer one is skipped whole. A real record is a few hundred bytes. */
export const MAX_LINE = 64 * 1024;
const MAX_KEYS = 200;
const MAX_TEXT = 1000;

/**
 * Splits appended bytes into complete lines, reporting each with the byte offset just past its
 * newline (where reading resumes). A partial last line waits for the rest; a line longer than
 * MAX_LINE is dropped up to its newline.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;

  constructor(private offset: number) {}

  /** The offset just past the last complete line. */
  get consumed(): number {
    return this.offset;
  }

  push(chunk: Buffer, onLine: (line: string, end: number) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const length = this.pendingBytes + piece.length;
      const skipped = this.skipping || length > MAX_LINE;
      const bytes = skipped ? undefined : this.pending.length ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = false;
      this.offset += length + 1;
      if (bytes) onLine(bytes.toString('utf8'), this.offset);
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (this.skipping || this.pendingBytes + rest.length > MAX_LINE) {
      // Keep counting the bytes (for the offset) but not the bytes themselves.
      this.skipping = true;
      this.pendingBytes += rest.length;
      this.pending = [];
      return;
    }
    this.pending.push(Buffer.from(rest)); // a copy: the caller reuses its read buffer
    this.pendingBytes += rest.length;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const safeKey = (k: string) => k.length > 0 && k.length <= 100 && k !== '__proto__';

/** A record's logs: named numbers only (NaN and Infinity cannot be written in JSON; null is dropped). */
export function cleanLogs(v: unknown): Record<string, number> {
  const logs: Record<string, number> = {};
  if (!isObject(v)) return logs;
  for (const [k, x] of Object.entries(v).slice(0, MAX_KEYS)) if (safeKey(k) && finite(x)) logs[k] = x;
  return logs;
}

/** A config: named numbers, short strings and booleans. */
export function cleanConfig(v: unknown): RunConfig {
  const config: RunConfig = {};
  if (!isObject(v)) return config;
  for (const [k, x] of Object.entries(v).slice(0, MAX_KEYS)) {
    if (!safeKey(k)) continue;
    if (finite(x) || typeof x === 'boolean') config[k] = x;
    else if (typeof x === 'string') config[k] = x.slice(0, MAX_TEXT);
  }
  return config;
}

/** The record a line holds, rebuilt field by field, or undefined for anything else. */
export function parseRecord(line: string): LiveRecord | undefined {
  if (line.length > MAX_LINE) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(v) || !finite(v.time)) return undefined;
  const time = v.time;
  switch (v.type) {
    case 'start':
      return { type: 'start', time, ...(v.resumed === true ? { resumed: true } : {}), config: cleanConfig(v.config) };
    case 'batch':
      if (!count(v.epoch) || !count(v.batch) || !count(v.step)) return undefined;
      return { type: 'batch', time, epoch: v.epoch, batch: v.batch, step: v.step, logs: cleanLogs(v.logs) };
    case 'epoch':
      if (!count(v.epoch) || !count(v.step)) return undefined;
      return { type: 'epoch', time, epoch: v.epoch, step: v.step, ...(finite(v.seconds) ? { seconds: v.seconds } : {}), logs: cleanLogs(v.logs) };
    case 'test':
      return { type: 'test', time, logs: cleanLogs(v.logs) };
    case 'end':
      if (v.status !== 'finished' && v.status !== 'interrupted' && v.status !== 'failed') return undefined;
      return { type: 'end', time, status: v.status, ...(typeof v.error === 'string' ? { error: v.error.slice(0, MAX_TEXT) } : {}) };
    default:
      return undefined;
  }
}

/** The complete lines of a text read from a file (its partial last line left out), parsed. */
export function parseLines(text: string): LiveRecord[] {
  const lines = text.split('\n');
  lines.pop(); // the text after the last newline: an unfinished line, or nothing
  return lines.map(parseRecord).filter((r): r is LiveRecord => r !== undefined);
}
