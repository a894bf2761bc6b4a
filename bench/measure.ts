// Timing helpers shared by the Strata side of the benchmark (bench/torch_bench.py mirrors them).
import { readFileSync } from 'node:fs';

export interface Timing {
  /** Median time of one call, in milliseconds. */
  median: number;
  min: number;
  /** Per-call times of every repetition, in milliseconds. */
  samples: number[];
}

export interface TimeOptions {
  /** Untimed calls before measuring (the first also estimates the cost of a call). */
  warmup?: number;
  /** Repetitions are added until about this many seconds are spent, within [minReps, maxReps]. */
  budgetSeconds?: number;
  minReps?: number;
  maxReps?: number;
  /** Calls per repetition (for very short functions); the sample is their mean. */
  inner?: number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Lets the event loop turn once. Strata's native buffers are freed by finalizers after a GC;
 * N-API finalizers that are not "basic" run later from the event loop, so with such a build a
 * loop that never yields never frees memory (see bench/README.md). Every timed Strata loop yields
 * the way an async training loop would, and the yield is part of the timed region, as PyTorch's
 * deallocations are part of its.
 */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Times `fn` after warm-up; the number of repetitions adapts to the cost of one call. */
export async function timeIt(fn: () => unknown | Promise<unknown>, options: TimeOptions = {}): Promise<Timing> {
  const { warmup = 2, budgetSeconds = 2, minReps = 3, maxReps = 15, inner = 1 } = options;
  let estimate = 0;
  for (let i = 0; i < Math.max(1, warmup); i++) {
    const t0 = nowMs();
    for (let j = 0; j < inner; j++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    await tick();
    estimate = (nowMs() - t0) / inner;
  }
  const reps = Math.max(minReps, Math.min(maxReps, Math.floor((budgetSeconds * 1000) / Math.max(estimate * inner, 1e-3))));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = nowMs();
    for (let j = 0; j < inner; j++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    await tick();
    samples.push((nowMs() - t0) / inner);
  }
  return { median: median(samples), min: Math.min(...samples), samples };
}

export const gflops = (flop: number, ms: number): number => flop / (ms * 1e6);

export const rssMB = (): number => process.memoryUsage().rss / 2 ** 20;

/**
 * The resident set split as /proc/self/status splits it: anonymous memory (heaps, tensors, caches)
 * and file-backed pages (the executable and shared libraries), MB; null fields where unknown.
 */
export function residentParts(): { anonMB: number | null; fileMB: number | null } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    const anon = kb('RssAnon'),
      file = kb('RssFile') + (kb('RssShmem') || 0);
    return { anonMB: Number.isFinite(anon) ? anon : null, fileMB: Number.isFinite(file) ? file : null };
  } catch {
    return { anonMB: null, fileMB: null }; // not Linux
  }
}

/** CPU time counters (clock ticks): all CPUs' busy/total from /proc/stat, and this process plus its waited-for children (and `alsoOwn`, running children). */
export interface CpuSnapshot {
  busy: number;
  total: number;
  own: number;
}

export function cpuSnapshot(alsoOwn: readonly number[] = []): CpuSnapshot | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
    const busy = user + nice + system + irq + softirq + (steal ?? 0);
    let own = 0;
    for (const pid of ['self', ...alsoOwn]) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      // Fields after the command name start at field 3 (state): utime..cstime are fields 14..17.
      own += fields[11] + fields[12] + fields[13] + fields[14];
    }
    return { busy, total: busy + idle + iowait, own };
  } catch {
    return null; // not Linux
  }
}

/** Share of all CPUs that other processes kept busy between two snapshots (0..1), or null when unknown. */
export function otherCpuShare(a: CpuSnapshot | null, b: CpuSnapshot | null): number | null {
  if (!a || !b || b.total <= a.total) return null;
  return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / (b.total - a.total));
}

/**
 * Waits (at most `maxSeconds`) until other processes use under `threshold` of the CPUs for three
 * one-second windows in a row; returns the seconds waited, or null when /proc/stat is unreadable.
 */
export async function waitForIdle(maxSeconds: number, threshold = 0.1): Promise<number | null> {
  const start = Date.now();
  let quiet = 0;
  let prev = cpuSnapshot();
  if (!prev) return null;
  while (quiet < 3 && (Date.now() - start) / 1000 < maxSeconds) {
    await new Promise((r) => setTimeout(r, 1000));
    const next = cpuSnapshot();
    const share = otherCpuShare(prev, next);
    quiet = share !== null && share < threshold ? quiet + 1 : 0;
    prev = next;
  }
  return (Date.now() - start) / 1000;
}
