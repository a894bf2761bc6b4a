// What the dashboard knows about a run from its files alone: its settings, whether it is still
// training, and, for a run written before live logs existed (no live.jsonl), its history as the
// records a live log would have held. Every file is read with a size cap and parsed field by field.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanConfig, cleanLogs, parseLines } from './jsonl.js';
import { LIVE_LOG, type LiveRecord, type RunConfig, type RunSummary } from './live-records.js';

/** A live log untouched this long without an end record belongs to a process that died (the trainer touches it every few seconds). */
export const STALE_MS = 60_000;
const HEAD_BYTES = 64 * 1024;
const JSON_CAP = 8 * 1024 * 1024;

/** Up to `max` bytes of a file, from its start or (tail) its end; undefined when it cannot be read. */
export function readCapped(path: string, max: number, tail = false): { text: string; size: number; mtimeMs: number } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { size, mtimeMs } = statSync(path);
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, tail ? size - length : 0);
    return { text: buffer.subarray(0, read).toString('utf8'), size, mtimeMs };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A JSON file of at most JSON_CAP bytes, parsed; undefined when absent, larger or not JSON. */
export function readJson(path: string): { value: unknown; mtimeMs: number } | undefined {
  const file = readCapped(path, JSON_CAP);
  if (!file || file.size > JSON_CAP) return undefined;
  try {
    return { value: JSON.parse(file.text), mtimeMs: file.mtimeMs };
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The settings a finished run recorded without a live log: history.json's options and classes.json's split. */
function configFromFiles(dir: string): RunConfig {
  const history = readJson(join(dir, 'history.json'))?.value;
  const classes = readJson(join(dir, 'classes.json'))?.value;
  const config = cleanConfig(isObject(history) ? history.options : undefined);
  if (isObject(classes)) {
    if (typeof classes.dataset === 'string') config.dataset ??= classes.dataset.slice(0, 1000);
    if (Array.isArray(classes.classNames)) config.classes = classes.classNames.length;
    const split = isObject(classes.split) ? classes.split : undefined;
    const samples = split?.trainSamples;
    if (typeof samples === 'number' && Number.isSafeInteger(samples) && samples > 0) {
      const validation = typeof config.validationSplit === 'number' ? config.validationSplit : 0;
      config.trainSamples = Math.floor(samples * (1 - validation));
      config.validationSamples = samples - config.trainSamples;
      if (typeof config.batchSize === 'number' && config.batchSize > 0) config.stepsPerEpoch = Math.ceil(config.trainSamples / config.batchSize);
    }
    if (typeof split?.testSamples === 'number') config.testSamples = split.testSamples;
  }
  return config;
}

/** A run's live-log-shaped history from history.json, for runs that have no live.jsonl. */
export function recordsFromHistory(dir: string): LiveRecord[] {
  const file = readJson(join(dir, 'history.json'));
  if (!file || !isObject(file.value)) return [];
  const h = file.value;
  const time = Math.round(file.mtimeMs);
  const config = configFromFiles(dir);
  const records: LiveRecord[] = [{ type: 'start', time, config }];
  const epochs = Array.isArray(h.epoch) ? h.epoch.slice(0, 100_000) : [];
  const columns = isObject(h.history) ? Object.entries(h.history).filter(([, v]) => Array.isArray(v)) : [];
  const seconds = Array.isArray(h.epochSeconds) ? h.epochSeconds : [];
  const steps = typeof config.stepsPerEpoch === 'number' ? config.stepsPerEpoch : 1;
  epochs.forEach((epoch: unknown, i: number) => {
    if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) return;
    const e = epoch as number;
    const logs = cleanLogs(Object.fromEntries(columns.map(([k, v]) => [k, (v as unknown[])[i]])));
    const s = seconds[e];
    records.push({
      type: 'epoch',
      time,
      epoch: e,
      step: (e + 1) * steps,
      ...(typeof s === 'number' && Number.isFinite(s) ? { seconds: s } : {}),
      logs,
    });
  });
  if (isObject(h.test)) records.push({ type: 'test', time, logs: cleanLogs(h.test) });
  records.push({ type: 'end', time, status: 'finished' });
  return records;
}

interface LogFacts {
  config: RunConfig | undefined;
  started: number | undefined;
  end: 'finished' | 'interrupted' | 'failed' | undefined;
}

/** What was read from files, kept while their sizes and times stay the same: the listing is asked for every second. */
const memo = new Map<string, { key: string; value: unknown }>();

function remember<T>(id: string, files: readonly string[], read: () => T): T {
  const key = files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
  const hit = memo.get(id);
  if (hit?.key === key) return hit.value as T;
  const value = read();
  if (memo.size > 2000) memo.clear();
  memo.set(id, { key, value });
  return value;
}

function liveLogFacts(path: string): LogFacts {
  return remember(`log:${path}`, [path], () => {
    const head = readCapped(path, HEAD_BYTES);
    const tail = readCapped(path, HEAD_BYTES, true);
    const start = head ? parseLines(head.text).find((r) => r.type === 'start') : undefined;
    // The tail's first line may be cut: parseLines drops what does not parse.
    const last = tail ? parseLines(tail.text).at(-1) : undefined;
    return {
      config: start?.type === 'start' ? start.config : undefined,
      started: start?.time,
      end: last?.type === 'end' ? last.status : undefined,
    };
  });
}

/** configFromFiles, read again only when history.json or classes.json changed. */
const filesConfig = (dir: string) => remember(`config:${dir}`, [join(dir, 'history.json'), join(dir, 'classes.json')], () => configFromFiles(dir));

/** The oldest file's time: when a run without a live log began (classes.json is written first). */
function oldest(dir: string, files: readonly string[]): number {
  let t = Number.POSITIVE_INFINITY;
  for (const f of files)
    try {
      t = Math.min(t, statSync(join(dir, f)).mtimeMs);
    } catch {
      // removed meanwhile
    }
  return Number.isFinite(t) ? Math.round(t) : 0;
}

/** A run's status, settings and start time, from its files. */
export function runState(dir: string, files: readonly string[], now = Date.now()): Pick<RunSummary, 'status' | 'config' | 'started'> {
  const fresh = (file: string) => {
    try {
      return now - statSync(join(dir, file)).mtimeMs < STALE_MS;
    } catch {
      return false;
    }
  };
  if (files.includes(LIVE_LOG)) {
    let stat: { size: number; mtimeMs: number };
    try {
      stat = statSync(join(dir, LIVE_LOG));
    } catch {
      return { status: 'unknown', config: {}, started: 0 };
    }
    const facts = liveLogFacts(join(dir, LIVE_LOG));
    const config = facts.config ?? filesConfig(dir);
    const started = facts.started ?? oldest(dir, files);
    if (facts.end) return { status: facts.end, config, started };
    return { status: now - stat.mtimeMs < STALE_MS ? 'training' : 'stopped', config, started };
  }
  const config = filesConfig(dir);
  const started = oldest(dir, files);
  if (files.includes('history.json')) return { status: 'finished', config, started };
  // A run just started writes classes.json before its first log line.
  return { status: files.includes('classes.json') && fresh('classes.json') ? 'training' : 'unknown', config, started };
}
