import type { WasmHeap } from './heap.js';
import type { ExportFn, WasmMemory, WasmModule } from './wasm-api.js';

// The wasm backend's thread pool (Note [WASM backend] in index.ts). Workers instantiate the same
// threaded module over the same shared memory, each with its own stack, and wait on a job word
// in a control block there; the calling thread publishes a job (kernel, arguments, thread count),
// wakes them, runs its own share as thread 0, then waits until every worker has counted itself
// done: polling first, then sleeping on the counter where it may (a browser's main thread may not
// Atomics.wait, so there it keeps polling). Workers start asynchronously: until all
// have said they are ready, jobs run on the calling thread alone.

/** What the backend needs of a worker: the part of Worker that Node's worker_threads and browsers share. */
export interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

/**
 * Starts a worker running `source` (JavaScript text defining `start(message)`) followed by the
 * platform's line that calls start with the worker's first message; see workers-node.ts and
 * workers-browser.ts.
 */
export type WorkerFactory = (source: string) => WorkerLike;

// Control block words (int32): the job sequence, workers done with it, workers ready, the
// kernel's index, the job's thread count, its argument count; arguments follow as float64.
const SEQ = 0,
  DONE = 1,
  READY = 2,
  KERNEL = 3,
  THREADS = 4,
  NARGS = 5;
const ARGS_OFFSET = 64;
const MAX_ARGS = 32;
const STACK_BYTES = 256 * 1024;

/** Work (about elements touched) below which a kernel runs on one thread: waking workers costs tens of microseconds. */
export const PARALLEL_THRESHOLD = 1 << 16;
/** Polls of the done counter before the calling thread sleeps on it (a job's share is often over by then). */
const SPIN = 4096;

// Runs in the worker, so it is plain JavaScript text. It defines start(message); each platform's
// WorkerFactory (workers-node.ts, workers-browser.ts) adds the line that hands it the first
// message, so this file holds nothing of Node's or the browser's.
export const WORKER_SOURCE = `
const start = (m) => {
  const instance = new WebAssembly.Instance(m.module, { env: { memory: m.memory } });
  const x = instance.exports;
  x.__stack_pointer.value = m.stackTop;
  const ctl = new Int32Array(m.memory.buffer, m.control, 16);
  const args = new Float64Array(m.memory.buffer, m.control + ${ARGS_OFFSET}, ${MAX_ARGS});
  const fns = m.kernels.map((k) => x[k]);
  let seen = Atomics.load(ctl, ${SEQ});
  Atomics.add(ctl, ${READY}, 1);
  for (;;) {
    Atomics.wait(ctl, ${SEQ}, seen);
    seen = Atomics.load(ctl, ${SEQ});
    const nt = Atomics.load(ctl, ${THREADS});
    if (nt < 0) return;
    if (m.tid < nt) {
      const a = Array.from(args.subarray(0, Atomics.load(ctl, ${NARGS})));
      try { fns[Atomics.load(ctl, ${KERNEL})](...a, m.tid, nt); } catch (e) { /* counted done all the same */ }
    }
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
};
`;

export class ThreadPool {
  private readonly workers: WorkerLike[] = [];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly kernelNames: string[];
  private readonly kernelIndex = new Map<string, number>();
  private readonly control: number;
  /** Whether this thread may Atomics.wait (not a browser's main thread). */
  private readonly canWait: boolean;
  threads: number;

  constructor(
    private readonly module: WasmModule,
    private readonly memory: WasmMemory,
    private readonly exports: Record<string, ExportFn>,
    private readonly heap: WasmHeap,
    private readonly factory: WorkerFactory,
    threads: number,
    private readonly maxThreads: number,
  ) {
    this.control = heap.alloc(ARGS_OFFSET + MAX_ARGS * 8);
    // Views over the shared buffer stay valid when it grows (the block is below the old end).
    this.ctl = new Int32Array(memory.buffer, this.control, 16);
    this.ctl.fill(0);
    this.args = new Float64Array(memory.buffer, this.control + ARGS_OFFSET, MAX_ARGS);
    try {
      Atomics.wait(this.ctl, DONE, -1, 0); // returns 'not-equal' at once where waiting is allowed
      this.canWait = true;
    } catch {
      this.canWait = false;
    }
    this.kernelNames = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
    this.kernelNames.forEach((k, i) => this.kernelIndex.set(k, i));
    this.threads = 1;
    this.setThreads(threads);
  }

  /**
   * Uses `n` threads from now on (the calling one and n - 1 workers, started as needed), at most
   * `maxThreads`: every job wakes every worker, so workers beyond the cores would only slow it.
   */
  setThreads(n: number): void {
    this.threads = Math.max(1, Math.min(n, this.maxThreads));
    while (this.workers.length < this.threads - 1) this.spawn();
  }

  /** Whether every worker started has said it is ready. */
  get ready(): boolean {
    return Atomics.load(this.ctl, READY) === this.workers.length;
  }

  run(kernel: string, args: number[], work: number): void {
    const fn = this.exports[kernel] as (...a: number[]) => unknown;
    const nt = Math.min(this.threads, this.workers.length + 1);
    if (nt <= 1 || work < PARALLEL_THRESHOLD || !this.ready) {
      fn(...args, 0, 1);
      return;
    }
    const index = this.kernelIndex.get(kernel);
    if (index === undefined || args.length > MAX_ARGS) throw new Error(`wasm backend: cannot run ${kernel} on the thread pool`);
    this.args.set(args);
    Atomics.store(this.ctl, KERNEL, index);
    Atomics.store(this.ctl, NARGS, args.length);
    Atomics.store(this.ctl, THREADS, nt);
    Atomics.store(this.ctl, DONE, 0);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    try {
      fn(...args, 0, nt);
    } finally {
      // Every worker counts itself done, also those beyond nt, so the next job finds all waiting.
      const all = this.workers.length;
      let done = Atomics.load(this.ctl, DONE);
      for (let spin = 0; done < all && spin < SPIN; spin++) done = Atomics.load(this.ctl, DONE);
      // Then sleep until a worker counts itself done, where this thread may block (Node, workers);
      // a page's main thread keeps spinning.
      while (done < all) {
        if (this.canWait) Atomics.wait(this.ctl, DONE, done, 1);
        done = Atomics.load(this.ctl, DONE);
      }
    }
  }

  /** Stops the workers (they leave their loop on a negative thread count). */
  terminate(): void {
    Atomics.store(this.ctl, THREADS, -1);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }

  private spawn(): void {
    const stack = this.heap.alloc(STACK_BYTES);
    const worker = this.factory(WORKER_SOURCE);
    worker.postMessage({
      module: this.module,
      memory: this.memory,
      control: this.control,
      stackTop: stack + STACK_BYTES,
      tid: this.workers.length + 1,
      kernels: this.kernelNames,
    });
    this.workers.push(worker);
  }
}
